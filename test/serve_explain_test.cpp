// serve_explain: the explain endpoints (GET /api/jobs/{id}/explain, GET /api/workers/{id}/explain),
// the unroutable flag (submit warnings, jobrouter_unroutable_jobs, GET /api/jobs?unroutable=true,
// cleared when a capable worker registers, set again when it leaves or shrinks) and the
// `jobrouter explain` CLI, against an in-process server on a free loopback port.
//
// The fixture is serve_api_test.cpp's: the server runs on its own io thread and the test talks
// to it only over HTTP.
#define BOOST_TEST_MODULE serve_explain
#include "app/command.hpp"
#include "app/http_client.hpp"
#include "core/service_mapping.hpp"
#include "core/workers_spec.hpp"
#include "server/local_workers.hpp"
#include "server/server.hpp"
#include "strategies/strategy_registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace jobrouter;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using verb = http::verb;

namespace {

constexpr auto kServerLimit = 60s;  // the server's io_context runs at most this long
constexpr auto kDeadline = 10s;     // how long an asynchronous outcome may take to show
constexpr auto kPoll = 10ms;

// Worker types: `mock` (job type mock -> service mock_test -> MockConnector, run in process)
// and `ext` (job types ext and ext2, for external workers over HTTP).
constexpr const char* kMapping = R"({
  "workers": {
    "mock": {
      "services": ["mock_test"],
      "job_service_required_map": [ { "job_service_required": "mock", "worker_service": "mock_test" } ]
    },
    "ext": {
      "services": ["ext_svc"],
      "job_service_required_map": [
        { "job_service_required": "ext", "worker_service": "ext_svc" },
        { "job_service_required": "ext2", "worker_service": "ext_svc" }
      ]
    }
  },
  "services": {
    "mock_test": { "connector": "MockConnector", "api_config": { "delay_ms": 20 } },
    "ext_svc": { "connector": "MockConnector" }
  },
  "connectors": { "MockConnector": { "description": "in process" } }
})";

constexpr const char* kMachine = "test";
const std::string kMockWorker = "test-worker-mock-0";

struct config {
    time_ms lease_ms = 3000;
    time_ms backoff_ms = 150;
    time_ms backoff_max_ms = 600;
    time_ms worker_timeout_ms = 30000;
    std::size_t max_body_bytes = 64 * 1024;
    std::chrono::milliseconds max_wait{30000};
    std::string workers = "";  ///< a WORKERS list for in-process workers; "" = none
};

json::value parse_body(const std::string& body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "reply is not JSON (" << ec.message() << "): " << body);
    return v;
}

std::string str(const json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

// The server under test plus a client for the test thread.
struct server_fixture {
    std::optional<service_mapping> mapping;
    std::unique_ptr<strategy> strat;
    system_clock_source clock;
    asio::io_context io{1};
    std::unique_ptr<server> srv;
    std::thread runner;
    std::string port;
    std::unique_ptr<http_client> client;

    void start(const config& c = {}) {
        auto m = load_mapping(kMapping, "test-mapping.json",
                              [](const std::string&) { return std::optional<std::string>(); });
        BOOST_REQUIRE_MESSAGE(m, "mapping: " << (m ? "" : m.error().text()));
        mapping.emplace(std::move(*m));
        auto s = make_strategy("job-type");
        BOOST_REQUIRE(s);
        strat = std::move(*s);

        server_settings settings;
        settings.listen = asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
        settings.dispatching.scheduling.lease_ms = c.lease_ms;
        settings.dispatching.scheduling.retry_backoff_ms = c.backoff_ms;
        settings.dispatching.scheduling.retry_backoff_max_ms = c.backoff_max_ms;
        settings.dispatching.worker_timeout_ms = c.worker_timeout_ms;
        // As serve does: a third of the lease.
        settings.dispatching.local_heartbeat_ms = std::max<time_ms>(c.lease_ms / 3, 1);
        settings.limits.max_body_bytes = c.max_body_bytes;
        settings.limits.max_wait = c.max_wait;
        settings.limits.read_timeout = 20s;
        settings.limits.write_timeout = 20s;
        settings.shutdown_grace = 1s;
        srv = std::make_unique<server>(io, *mapping, *strat, settings, clock);
        if (!c.workers.empty()) {
            auto counts = parse_workers_spec(c.workers, *mapping, "WORKERS");
            BOOST_REQUIRE_MESSAGE(counts, "WORKERS: " << (counts ? "" : counts.error().text()));
            auto workers = local_workers::create(io, srv->get_dispatcher(), *counts, kMachine, capabilities_config{});
            BOOST_REQUIRE_MESSAGE(workers, "local_workers: " << (workers ? "" : workers.error().text()));
            srv->attach_workers(std::move(*workers));
        }
        srv->start();
        port = std::to_string(srv->local_endpoint().port());
        // From here on the server belongs to the io thread.
        runner = std::thread([this] { io.run_for(kServerLimit); });
        client = std::make_unique<http_client>("127.0.0.1", port, 20s);
    }

    ~server_fixture() {
        client.reset();
        if (runner.joinable()) {
            io.stop();
            runner.join();
        }
        srv.reset();
    }

    // ---- HTTP helpers (test thread only) ----------------------------------------------------

    http_reply call(verb method, const std::string& target, const std::string& body = {}) {
        auto r = client->request(method, target, body);
        BOOST_REQUIRE_MESSAGE(r, "HTTP " << target << ": " << (r ? "" : r.error().text()));
        return *r;
    }
    http_reply get(const std::string& target) { return call(verb::get, target); }
    http_reply post(const std::string& target, const std::string& body = "{}") {
        return call(verb::post, target, body);
    }

    json::object get_json_object(const std::string& target) {
        auto r = get(target);
        BOOST_REQUIRE_MESSAGE(r.status == 200, "GET " << target << " -> " << r.status << " " << r.body);
        auto v = parse_body(r.body);
        BOOST_REQUIRE(v.is_object());
        return v.get_object();
    }

    json::object job(const std::string& id) {
        auto o = get_json_object("/api/jobs/" + id);
        BOOST_REQUIRE(o.contains("job") && o.at("job").is_object());
        return o.at("job").get_object();
    }

    std::string status_of(const std::string& id) { return str(job(id).at("status")); }

    // Polls the job until `pred` holds; fails with what was last seen when it never does.
    json::object wait_job(const std::string& id, const std::function<bool(const json::object&)>& pred,
                          const std::string& what) {
        const auto deadline = std::chrono::steady_clock::now() + kDeadline;
        json::object last;
        for (;;) {
            last = job(id);
            if (pred(last)) return last;
            if (std::chrono::steady_clock::now() > deadline) break;
            std::this_thread::sleep_for(kPoll);
        }
        BOOST_FAIL("job " << id << " never " << what << " within " << kDeadline.count()
                          << " s; last seen: " << json::serialize(last));
        return last;
    }
    json::object wait_status(const std::string& id, const std::string& status) {
        return wait_job(
            id, [&](const json::object& j) { return str(j.at("status")) == status; }, "became " + status);
    }
    json::object wait_running(const std::string& id) {
        return wait_job(
            id,
            [](const json::object& j) {
                const auto s = str(j.at("status"));
                return s == "assigned" || s == "in_progress";
            },
            "started running");
    }

    json::array workers() {
        auto o = get_json_object("/api/workers");
        BOOST_REQUIRE(o.at("workers").is_array());
        return o.at("workers").get_array();
    }
    std::optional<json::object> worker(const std::string& id) {
        for (const auto& w : workers())
            if (str(w.at("worker_id")) == id) return w.get_object();
        return std::nullopt;
    }
    // Waits until the worker is parked in a long-poll claim (GET /api/workers says "waiting").
    void wait_worker_waiting(const std::string& id) {
        const auto deadline = std::chrono::steady_clock::now() + kDeadline;
        std::string last = "(absent)";
        for (;;) {
            if (auto w = worker(id)) {
                last = json::serialize(*w);
                if (str(w->at("status")) == "waiting") return;
            }
            if (std::chrono::steady_clock::now() > deadline) break;
            std::this_thread::sleep_for(kPoll);
        }
        BOOST_FAIL("worker " << id << " never waited in a claim; last seen: " << last);
    }

    std::string submit(const std::string& body) {
        auto r = post("/api/jobs", body);
        BOOST_REQUIRE_MESSAGE(r.status == 201, "submit " << body << " -> " << r.status << " " << r.body);
        return str(parse_body(r.body).at("job_id"));
    }

    void register_worker(const std::string& id, const std::string& type = "ext") {
        auto r = post("/api/workers", R"({"worker_id":")" + id + R"(","worker_type":")" + type + R"("})");
        BOOST_REQUIRE_MESSAGE(r.status == 201, "register " << id << " -> " << r.status << " " << r.body);
    }

    struct claimed {
        json::object job;
        std::string token;
    };
    // A claim that must return a job at once (one is pending).
    claimed claim_now(const std::string& worker_id) {
        auto r = post("/api/workers/" + worker_id + "/claim?wait_ms=0");
        BOOST_REQUIRE_MESSAGE(r.status == 200, "claim by " << worker_id << " -> " << r.status << " " << r.body);
        return to_claimed(r);
    }
    static claimed to_claimed(const http_reply& r) {
        auto v = parse_body(r.body);
        BOOST_REQUIRE(v.is_object());
        const auto& o = v.get_object();
        BOOST_TEST(o.at("success") == json::value(true));
        BOOST_REQUIRE(o.at("job").is_object());
        BOOST_REQUIRE(o.at("lease_token").is_string());
        BOOST_TEST(!o.at("lease_token").get_string().empty());
        return claimed{o.at("job").get_object(), str(o.at("lease_token"))};
    }
    // A long-poll claim on a thread of its own (its own client).
    std::future<result<http_reply>> claim_async(const std::string& worker_id, int wait_ms,
                                                std::chrono::milliseconds timeout = 30s) {
        const std::string p = port;
        return std::async(std::launch::async, [p, worker_id, wait_ms, timeout] {
            http_client c("127.0.0.1", p, timeout);
            return c.post("/api/workers/" + worker_id + "/claim?wait_ms=" + std::to_string(wait_ms), "{}");
        });
    }

    http_reply report(const std::string& job_id, const std::string& action, const std::string& token,
                      const std::string& extra = "") {
        std::string body = R"({"lease_token":")" + token + "\"";
        if (!extra.empty()) body += "," + extra;
        body += "}";
        return post("/api/jobs/" + job_id + "/" + action, body);
    }
};


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
long long unroutable_metric(server_fixture& f, const std::string& type) {
    auto r = f.get("/metrics");
    BOOST_REQUIRE(r.status == 200);
    BOOST_TEST(r.body.find("# TYPE jobrouter_unroutable_jobs gauge") != std::string::npos);
    const std::string key = "jobrouter_unroutable_jobs{service_required=\"" + type + "\"} ";
    auto at = r.body.find(key);
    if (at == std::string::npos) return -1;
    return std::stoll(r.body.substr(at + key.size()));
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
    BOOST_TEST(unroutable_metric(*this, "ext") == 2);
    BOOST_TEST(get("/api/jobs?unroutable=maybe").status == 400u);
    BOOST_TEST(get_json_object("/api/jobs/u1/explain").at("unroutable") == json::value(true));

    // A capable external worker registers: cleared.
    register_worker("e1");
    BOOST_TEST(ids_of(get_json_object("/api/jobs?unroutable=true")).empty());
    BOOST_TEST(unroutable_metric(*this, "ext") == 0);
    BOOST_TEST(get_json_object("/api/jobs/u1/explain").at("unroutable") == json::value(false));

    // It leaves: set again.
    BOOST_TEST(call(verb::delete_, "/api/workers/e1").status == 200u);
    BOOST_TEST(ids_of(get_json_object("/api/jobs?unroutable=true")) == (std::vector<std::string>{"u2", "u1"}));
    BOOST_TEST(unroutable_metric(*this, "ext") == 2);

    // Re-registration that gains, then loses, the capability.
    BOOST_TEST(post("/api/workers", R"({"worker_id":"e2","job_types":["other"]})").status == 201u);
    BOOST_TEST(unroutable_metric(*this, "ext") == 2);
    BOOST_TEST(post("/api/workers", R"({"worker_id":"e2","job_types":["ext"]})").status == 201u);
    BOOST_TEST(unroutable_metric(*this, "ext") == 0);
    BOOST_TEST(post("/api/workers", R"({"worker_id":"e2","job_types":["other"]})").status == 201u);
    BOOST_TEST(unroutable_metric(*this, "ext") == 2);

    // A job taken or cancelled leaves the set.
    BOOST_TEST(post("/api/jobs/u2/cancel").status == 200u);
    BOOST_TEST(ids_of(get_json_object("/api/jobs?unroutable=true")) == (std::vector<std::string>{"u1"}));
    BOOST_TEST(unroutable_metric(*this, "ext") == 1);
    register_worker("e3");
    BOOST_TEST(claim_now("e3").job.at("id") == json::value("u1"));
    BOOST_TEST(unroutable_metric(*this, "ext") == 0);
}

BOOST_AUTO_TEST_CASE(unroutable_by_requirements_and_a_held_job_stranded_when_its_worker_leaves) {
    start();
    BOOST_TEST(post("/api/workers", R"({"worker_id":"small","worker_type":"ext","hardware":{"gpu_memory_gb":16}})").status == 201u);
    auto r = json_of(post("/api/jobs", R"({"id":"big","service_required":"ext","max_retries":3,"requirements":{"hardware":{"gpu_memory_gb":24}}})"), 201);
    BOOST_REQUIRE(r.contains("warnings"));
    BOOST_TEST(str(r.at("warnings").as_array()[0]).rfind("no registered worker meets the job's requirements", 0) == 0u);
    BOOST_TEST(post("/api/workers", R"({"worker_id":"large","worker_type":"ext","hardware":{"gpu_memory_gb":48}})").status == 201u);
    BOOST_TEST(unroutable_metric(*this, "ext") == 0);
    BOOST_TEST(claim_now("large").job.at("id") == json::value("big"));
    // The only capable worker leaves while holding it: the job is retried, and nobody can take it.
    BOOST_TEST(call(verb::delete_, "/api/workers/large").status == 200u);
    BOOST_TEST(ids_of(get_json_object("/api/jobs?unroutable=true")) == (std::vector<std::string>{"big"}));
    BOOST_TEST(unroutable_metric(*this, "ext") == 1);
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
