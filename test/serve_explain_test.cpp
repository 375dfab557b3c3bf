// serve_explain: the explain endpoints (GET /api/jobs/{id}/explain, GET /api/workers/{id}/explain),
// the unroutable flag (submit warnings, jobrouter_unroutable_jobs, GET /api/jobs?unroutable=true,
// cleared when a capable worker registers, set again when it leaves or shrinks) and the
// `jobrouter explain` CLI, against an in-process server on a free loopback port.
//
// The fixture (test/support/server_fixture.hpp) runs the server on its own io thread; the test talks
// to it only over HTTP. serve_explain_redis_test runs these cases on the Redis store.
#ifndef BOOST_TEST_MODULE
#define BOOST_TEST_MODULE serve_explain
#endif
#include "app/command.hpp"

#include <boost/test/unit_test.hpp>

#include "test/support/server_fixture.hpp"

#include <iostream>
#include <sstream>

namespace {

// ---- helpers -------------------------------------------------------------------------------------

json::object json_of(const http_reply& r, unsigned want = 200) {
    BOOST_REQUIRE_MESSAGE(r.status == want, "status " << r.status << " (want " << want << "): " << r.body);
    auto v = parse_body(r.body);
    BOOST_REQUIRE(v.is_object());
    return v.get_object();
}

// The worker entry of an explain reply.
json::object worker_entry(const json::object& explain, const std::string& worker_id) {
    for (const auto& w : explain.at("workers").as_array())
        if (str(w.at("worker_id")) == worker_id) return w.as_object();
    BOOST_FAIL("worker " << worker_id << " not in " << json::serialize(explain));
    return {};
}

std::vector<std::string> ids_of(const json::object& page) {
    std::vector<std::string> out;
    for (const auto& j : page.at("jobs").as_array()) out.push_back(str(j.at("id")));
    return out;
}

// The value of `jobrouter_unroutable_jobs{service_required="<type>"}`, or -1 when absent.
[[maybe_unused]] long long unroutable_metric(server_fixture& f, const std::string& type) {
    auto r = f.get("/metrics");
    BOOST_REQUIRE(r.status == 200);
    BOOST_TEST(r.body.find("# TYPE jobrouter_unroutable_jobs gauge") != std::string::npos);
    const std::string key = "jobrouter_unroutable_jobs{service_required=\"" + type + "\"} ";
    auto at = r.body.find(key);
    if (at == std::string::npos) return -1;
    return std::stoll(r.body.substr(at + key.size()));
}

// How many jobs of this type are unroutable. The memory store's /metrics says it
// (jobrouter_unroutable_jobs); the Redis store's /metrics does not count them (that would walk
// every waiting job at each scrape), so there it is the total of GET /api/jobs?unroutable=true.
long long unroutable_count(server_fixture& f, const std::string& type) {
#ifdef JOBROUTER_TEST_REDIS_STORE
    return static_cast<long long>(f.get_json_object("/api/jobs?unroutable=true&service_required=" + type).at("total").as_int64());
#else
    return unroutable_metric(f, type);
#endif
}

// Runs `jobrouter explain ARGS` in this process, capturing standard output.
std::pair<int, std::string> run_cli(const std::vector<std::string>& args) {
    std::ostringstream captured;
    auto* old = std::cout.rdbuf(captured.rdbuf());
    const int rc = run_explain_command(args);
    std::cout.rdbuf(old);
    return {rc, captured.str()};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(serve_explain, server_fixture)

BOOST_AUTO_TEST_CASE(explain_a_job_each_worker_with_its_rule_or_match) {
    start(config{.workers = "mock:1"});
    BOOST_TEST(post("/api/workers", R"({"worker_id":"e-small","worker_type":"ext","hardware":{"gpu_memory_gb":16}})").status == 201u);
    BOOST_TEST(post("/api/workers", R"({"worker_id":"e-other","job_types":["simulationx"]})").status == 201u);
    auto submitted = json_of(post("/api/jobs", R"({"id":"big","service_required":"ext","requirements":{"hardware":{"gpu_memory_gb":24}}})"), 201);
    BOOST_REQUIRE(submitted.contains("warnings"));

    auto e = get_json_object("/api/jobs/big/explain");
    BOOST_TEST(e.at("success") == json::value(true));
    BOOST_TEST(str(e.at("job_id")) == "big");
    BOOST_TEST(str(e.at("status")) == "pending");
    BOOST_TEST(str(e.at("verdict")) ==
               R"(no registered worker meets the job's requirements: 1 worker offers job type "ext" but fails R3a hardware (e-small))");
    BOOST_REQUIRE_EQUAL(e.at("workers").as_array().size(), 3u);
    // sorted by id
    BOOST_TEST(str(e.at("workers").as_array()[0].at("worker_id")) == "e-other");
    BOOST_TEST(str(e.at("workers").as_array()[1].at("worker_id")) == "e-small");
    BOOST_TEST(str(e.at("workers").as_array()[2].at("worker_id")) == kMockWorker);

    auto small = worker_entry(e, "e-small");
    BOOST_TEST(str(small.at("kind")) == "external");
    BOOST_TEST(str(small.at("state")) == "idle");
    BOOST_TEST(small.at("matches") == json::value(false));
    BOOST_TEST(str(small.at("rule")) == "R3a");
    BOOST_TEST(str(small.at("detail")) == "gpu_memory_gb needs 24, worker has 16");
    auto other = worker_entry(e, "e-other");
    BOOST_TEST(str(other.at("rule")) == "R2");
    BOOST_TEST(str(other.at("detail")) == R"(job needs "ext"; worker offers ["simulationx"])");
    auto mock = worker_entry(e, kMockWorker);
    BOOST_TEST(str(mock.at("kind")) == "in-process");
    BOOST_TEST(str(mock.at("rule")) == "R2");

    // A capable worker: would match (idle), then it claims the job.
    BOOST_TEST(post("/api/workers", R"({"worker_id":"e-big","worker_type":"ext","hardware":{"gpu_memory_gb":48}})").status == 201u);
    e = get_json_object("/api/jobs/big/explain");
    auto big = worker_entry(e, "e-big");
    BOOST_TEST(big.at("matches") == json::value(true));
    BOOST_TEST(big.at("rule").is_null());
    BOOST_TEST(str(big.at("detail")) == "would match (idle)");
    BOOST_TEST(str(big.at("state")) == "idle");
    BOOST_TEST(str(e.at("verdict")).rfind("1 worker could run it; 1 not busy", 0) == 0u, str(e.at("verdict")));
    BOOST_TEST(e.at("unroutable") == json::value(false));

    // Busy: e-big holds a job; another job it could run says so.
    claim_now("e-big");
    submit(R"({"id":"next","service_required":"ext","requirements":{"hardware":{"gpu_memory_gb":24}}})");
    e = get_json_object("/api/jobs/next/explain");
    BOOST_TEST(str(worker_entry(e, "e-big").at("detail")) == "would match (busy)");
    BOOST_TEST(str(worker_entry(e, "e-big").at("state")) == "busy");
    BOOST_TEST(str(e.at("verdict")) == "1 worker could run it; it is busy");
    // A job that is not pending is still explained; its verdict gives its status.
    e = get_json_object("/api/jobs/big/explain");
    BOOST_TEST(str(e.at("status")) == "assigned");
    BOOST_TEST(str(e.at("verdict")) == R"(job is assigned to worker "e-big")");

    {
        auto r = get("/api/jobs/nope/explain");
        BOOST_TEST(r.status == 404u);
        BOOST_TEST(r.body.find("not_found") != std::string::npos);
        BOOST_TEST(post("/api/jobs/big/explain").status == 405u);
    }
}

BOOST_AUTO_TEST_CASE(explain_a_worker_the_pending_jobs_it_cannot_take) {
    start();
    BOOST_TEST(post("/api/workers", R"({"worker_id":"w1","worker_type":"ext","hardware":{"gpu_memory_gb":16},"workflow_id":""})").status == 201u);
    submit(R"({"id":"a","service_required":"ext","priority":90,"requirements":{"hardware":{"gpu_memory_gb":24}}})");
    submit(R"({"id":"b","service_required":"other","priority":80})");
    submit(R"({"id":"c","service_required":"ext","priority":70})");  // it could take this one
    submit(R"({"id":"d","service_required":"ext","priority":60,"requirements":{"negative_requirements":{"hardware":{"gpu_memory_gb":8}}}})");
    auto o = get_json_object("/api/workers/w1/explain");
    BOOST_TEST(o.at("success") == json::value(true));
    BOOST_TEST(str(o.at("worker_id")) == "w1");
    const auto& jobs = o.at("jobs").as_array();
    BOOST_REQUIRE_EQUAL(jobs.size(), 3u);
    BOOST_TEST(str(jobs[0].at("job_id")) == "a");
    BOOST_TEST(str(jobs[0].at("rule")) == "R3a");
    BOOST_TEST(str(jobs[0].at("detail")) == "gpu_memory_gb needs 24, worker has 16");
    BOOST_TEST(str(jobs[1].at("job_id")) == "b");
    BOOST_TEST(str(jobs[1].at("rule")) == "R2");
    BOOST_TEST(str(jobs[1].at("detail")) == R"(job needs "other"; worker offers ["ext","ext2"])");
    BOOST_TEST(str(jobs[2].at("job_id")) == "d");
    BOOST_TEST(str(jobs[2].at("rule")) == "R4");
    BOOST_TEST(str(jobs[2].at("detail")) == "negative requirement hardware.gpu_memory_gb 8 excludes the worker, which has 16");
    // limit: only the first N pending jobs in rank order are looked at.
    auto one = get_json_object("/api/workers/w1/explain?limit=1");
    BOOST_REQUIRE_EQUAL(one.at("jobs").as_array().size(), 1u);
    BOOST_TEST(str(one.at("jobs").as_array()[0].at("job_id")) == "a");
    BOOST_TEST(get("/api/workers/w1/explain?limit=0").status == 400u);
    BOOST_TEST(get("/api/workers/nobody/explain").status == 404u);
}

BOOST_AUTO_TEST_CASE(r1_and_r3_rules_through_the_api) {
    start();
    BOOST_TEST(post("/api/workers", R"({"worker_id":"w1","worker_type":"ext","workflow_id":"wf-a","customer_access":{"isolation":"loose","allowed_customers":["acme"]},"models":{"ext":["sd15"]},"region":"eu"})").status == 201u);
    submit(R"({"id":"r1","service_required":"ext","workflow_id":"wf-b"})");
    submit(R"({"id":"r3b","service_required":"ext","workflow_id":"wf-a","requirements":{"customer_isolation":"strict"}})");
    submit(R"({"id":"r3c","service_required":"ext","workflow_id":"wf-a","customer_id":"globex"})");
    submit(R"({"id":"r3d","service_required":"ext","workflow_id":"wf-a","requirements":{"models":["sdxl"]}})");
    submit(R"({"id":"r3e","service_required":"ext","workflow_id":"wf-a","requirements":{"region":"us"}})");
    const std::vector<std::pair<std::string, std::string>> want{
        {"r1", R"(R1: worker takes only workflow "wf-a"; job's workflow is "wf-b")"},
        {"r3b", R"(R3b: job needs strict customer isolation; worker isolation is "loose")"},
        {"r3c", R"(R3c: customer "globex" is not in the worker's allowed_customers ["acme"])"},
        {"r3d", R"(R3d: model "sdxl" is not in the worker's models["ext"] (["sd15"]))"},
        {"r3e", R"(R3e: "region" needs "us", worker has "eu")"}};
    for (const auto& [id, text] : want) {
        auto w = worker_entry(get_json_object("/api/jobs/" + id + "/explain"), "w1");
        BOOST_TEST(str(w.at("rule")) + ": " + str(w.at("detail")) == text);
    }
}

BOOST_AUTO_TEST_CASE(unroutable_flag_set_on_submit_cleared_on_register_set_again_on_leave) {
    start(config{.workers = "mock:1"});
    // No worker offers "ext": 201 with a warning.
    auto r = json_of(post("/api/jobs", R"({"id":"u1","service_required":"ext"})"), 201);
    BOOST_TEST(str(r.at("job_id")) == "u1");
    BOOST_REQUIRE(r.contains("warnings"));
    BOOST_REQUIRE_EQUAL(r.at("warnings").as_array().size(), 1u);
    BOOST_TEST(str(r.at("warnings").as_array()[0]) == R"(no registered worker offers job type "ext" (they offer "mock"))");
    submit(R"({"id":"u2","service_required":"ext"})");
    // A routable job has no warnings.
    auto ok = json_of(post("/api/jobs", R"({"id":"m1","service_required":"mock","payload":{"delay_ms":1}})"), 201);
    BOOST_TEST(!ok.contains("warnings"));
    // Idempotent resubmission of an unroutable job repeats the warning.
    auto again = json_of(post("/api/jobs", R"({"id":"u1","service_required":"ext"})"), 200);
    BOOST_TEST(again.contains("warnings"));

    auto listed = get_json_object("/api/jobs?unroutable=true");
    BOOST_TEST(ids_of(listed) == (std::vector<std::string>{"u2", "u1"}));
    BOOST_TEST(listed.at("total") == json::value(2));
    BOOST_TEST(unroutable_count(*this, "ext") == 2);
    BOOST_TEST(get("/api/jobs?unroutable=maybe").status == 400u);
    BOOST_TEST(get_json_object("/api/jobs/u1/explain").at("unroutable") == json::value(true));

    // A capable external worker registers: cleared.
    register_worker("e1");
    BOOST_TEST(ids_of(get_json_object("/api/jobs?unroutable=true")).empty());
    BOOST_TEST(unroutable_count(*this, "ext") == 0);
    BOOST_TEST(get_json_object("/api/jobs/u1/explain").at("unroutable") == json::value(false));

    // It leaves: set again.
    BOOST_TEST(call(verb::delete_, "/api/workers/e1").status == 200u);
    BOOST_TEST(ids_of(get_json_object("/api/jobs?unroutable=true")) == (std::vector<std::string>{"u2", "u1"}));
    BOOST_TEST(unroutable_count(*this, "ext") == 2);

    // Re-registration that gains, then loses, the capability.
    BOOST_TEST(post("/api/workers", R"({"worker_id":"e2","job_types":["other"]})").status == 201u);
    BOOST_TEST(unroutable_count(*this, "ext") == 2);
    BOOST_TEST(post("/api/workers", R"({"worker_id":"e2","job_types":["ext"]})").status == 201u);
    BOOST_TEST(unroutable_count(*this, "ext") == 0);
    BOOST_TEST(post("/api/workers", R"({"worker_id":"e2","job_types":["other"]})").status == 201u);
    BOOST_TEST(unroutable_count(*this, "ext") == 2);

    // A job taken or cancelled leaves the set.
    BOOST_TEST(post("/api/jobs/u2/cancel").status == 200u);
    BOOST_TEST(ids_of(get_json_object("/api/jobs?unroutable=true")) == (std::vector<std::string>{"u1"}));
    BOOST_TEST(unroutable_count(*this, "ext") == 1);
    register_worker("e3");
    BOOST_TEST(claim_now("e3").job.at("id") == json::value("u1"));
    BOOST_TEST(unroutable_count(*this, "ext") == 0);
}

BOOST_AUTO_TEST_CASE(unroutable_by_requirements_and_a_held_job_stranded_when_its_worker_leaves) {
    start();
    BOOST_TEST(post("/api/workers", R"({"worker_id":"small","worker_type":"ext","hardware":{"gpu_memory_gb":16}})").status == 201u);
    auto r = json_of(post("/api/jobs", R"({"id":"big","service_required":"ext","max_retries":3,"requirements":{"hardware":{"gpu_memory_gb":24}}})"), 201);
    BOOST_REQUIRE(r.contains("warnings"));
    BOOST_TEST(str(r.at("warnings").as_array()[0]).rfind("no registered worker meets the job's requirements", 0) == 0u);
    BOOST_TEST(post("/api/workers", R"({"worker_id":"large","worker_type":"ext","hardware":{"gpu_memory_gb":48}})").status == 201u);
    BOOST_TEST(unroutable_count(*this, "ext") == 0);
    BOOST_TEST(claim_now("large").job.at("id") == json::value("big"));
    // The only capable worker leaves while holding it: the job is retried, and nobody can take it.
    BOOST_TEST(call(verb::delete_, "/api/workers/large").status == 200u);
    BOOST_TEST(ids_of(get_json_object("/api/jobs?unroutable=true")) == (std::vector<std::string>{"big"}));
    BOOST_TEST(unroutable_count(*this, "ext") == 1);
}

BOOST_AUTO_TEST_CASE(cli_explain_prints_the_verdict_and_a_line_per_worker) {
    start();
    BOOST_TEST(post("/api/workers", R"({"worker_id":"w1","worker_type":"ext","hardware":{"gpu_memory_gb":16}})").status == 201u);
    BOOST_TEST(post("/api/workers", R"({"worker_id":"w2","worker_type":"ext","hardware":{"gpu_memory_gb":24}})").status == 201u);
    submit(R"({"id":"a","service_required":"ext","requirements":{"hardware":{"gpu_memory_gb":24}}})");
    const std::string server = "127.0.0.1:" + port;
    auto [rc, out] = run_cli({"a", "--server", server});
    BOOST_TEST(rc == 0);
    BOOST_TEST(out ==
               "1 worker could run it; 1 not busy (each takes the best-ranked job it matches at its next claim)\n"
               "w1  R3a hardware: gpu_memory_gb needs 24, worker has 16\n"
               "w2  would match (idle)\n");
    auto [wrc, wout] = run_cli({"--worker", "w1", "--server", server});
    BOOST_TEST(wrc == 0);
    BOOST_TEST(wout == "worker \"w1\" cannot take 1 of the first 10 pending jobs:\n"
                       "a  R3a hardware: gpu_memory_gb needs 24, worker has 16\n");
    BOOST_TEST(run_cli({"nope", "--server", server}).first == kExitFailure);
    BOOST_TEST(run_cli({"--server", server}).first == kExitUsage);
}

BOOST_AUTO_TEST_SUITE_END()
