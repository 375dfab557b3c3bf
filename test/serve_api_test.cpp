// serve_api: the HTTP API of `jobrouter serve` against a real server on a free loopback port.
//
// Each test builds an in-process server (a mapping loaded from text, short leases and
// back-offs), optionally with in-process workers, runs its io_context on a background thread
// with a time limit, and talks to it ONLY over HTTP from the test thread: the dispatcher lives
// on the io thread and is never touched from here. Asynchronous outcomes are awaited by polling
// GET /api/jobs/{id} (every ~10 ms, bounded); nothing asserts on durations.
#ifndef BOOST_TEST_MODULE
#define BOOST_TEST_MODULE serve_api
#endif

#include <boost/test/unit_test.hpp>

#include "test/support/server_fixture.hpp"
#include "test/support/raw_http.hpp"

namespace {

// Every error body is {"error":{"code":"...","message":"..."}}.
json::object expect_error(const http_reply& r, unsigned status, const std::string& code) {
    BOOST_TEST(r.status == status, "status " << r.status << " (want " << status << "), body " << r.body);
    auto v = parse_body(r.body);
    BOOST_REQUIRE_MESSAGE(v.is_object(), "error body is not an object: " << r.body);
    const auto& o = v.get_object();
    BOOST_TEST(o.size() == 1u, "error body has other keys: " << r.body);
    BOOST_REQUIRE_MESSAGE(o.contains("error") && o.at("error").is_object(), "no error object: " << r.body);
    const auto& e = o.at("error").get_object();
    BOOST_TEST(e.size() == 2u, "error object: " << r.body);
    BOOST_REQUIRE(e.contains("code") && e.at("code").is_string());
    BOOST_REQUIRE(e.contains("message") && e.at("message").is_string());
    BOOST_TEST(str(e.at("code")) == code, "body " << r.body);
    BOOST_TEST(!e.at("message").get_string().empty());
    BOOST_TEST(r.content_type == "application/json");
    return e;
}

std::string error_message(const json::object& e) {
    return str(e.at("message"));
}

bool has_key_only(const json::object& o, std::initializer_list<const char*> keys) {
    if (o.size() != keys.size()) return false;
    for (const char* k : keys)
        if (!o.contains(k)) return false;
    return true;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(serve_api, server_fixture)

// ---- health, metrics, workers --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(health_workers_and_metrics) {
    start(config{.workers = "mock:1"});
    auto h = get_json_object("/health");
    BOOST_TEST(str(h.at("status")) == "ok");
    BOOST_TEST(str(h.at("strategy")) == "job-type");

    register_worker("ext-1");
    auto ws = workers();
    BOOST_TEST(ws.size() == 2u);
    auto local = worker(kMockWorker);
    BOOST_REQUIRE_MESSAGE(local, "in-process worker missing from " << json::serialize(ws));
    BOOST_TEST(str(local->at("kind")) == "in-process");
    BOOST_TEST(str(local->at("worker_type")) == "mock");
    auto ext = worker("ext-1");
    BOOST_REQUIRE(ext);
    BOOST_TEST(str(ext->at("kind")) == "external");
    BOOST_TEST(str(ext->at("status")) == "idle");
    BOOST_TEST(json::serialize(ext->at("offers")) == R"(["ext","ext2"])");

    const std::string id = submit(R"({"id":"m-metrics","service_required":"mock","payload":{"delay_ms":10}})");
    wait_status(id, "completed");
    submit(R"({"id":"pending-one","service_required":"ext2"})");

    auto r = get("/metrics");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.content_type.rfind("text/plain", 0) == 0u, "content type " << r.content_type);
    for (const char* needle :
         {"# TYPE jobrouter_jobs_pending gauge", "jobrouter_jobs_pending{service_required=\"ext2\"} 1",
          "# TYPE jobrouter_claims_total counter", "jobrouter_claims_total 1", "jobrouter_submitted_total 2",
          "jobrouter_completions_total 1", "# TYPE jobrouter_claim_seconds histogram",
          "jobrouter_claim_seconds_bucket{le=", "jobrouter_claim_seconds_count",
          "# TYPE jobrouter_submit_to_assign_seconds histogram",
          "jobrouter_submit_to_assign_seconds_bucket{le=\"+Inf\"} 1", "jobrouter_workers{kind=\"external\""})
        BOOST_TEST(r.body.find(needle) != std::string::npos, "metrics lack " << needle << ":\n" << r.body);
}

// ---- submission ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(submit_answers_201_in_emp_shape_and_keeps_unknown_fields) {
    start();
    auto r = post("/api/jobs", R"({"service_required":"ext","job_type":"render","payload":{"x":1},"priority":70})");
    BOOST_TEST(r.status == 201u, r.body);
    auto v = parse_body(r.body).get_object();
    // No worker is registered, so the reply also warns that nobody can take the job.
    BOOST_TEST(has_key_only(v, {"success", "job_id", "warnings"}), "body " << r.body);
    BOOST_TEST(v.at("success") == json::value(true));
    BOOST_REQUIRE(v.at("job_id").is_string());
    const std::string id = str(v.at("job_id"));
    BOOST_TEST(!id.empty());

    auto j = job(id);
    BOOST_TEST(str(j.at("id")) == id);
    BOOST_TEST(str(j.at("status")) == "pending");
    BOOST_TEST(str(j.at("service_required")) == "ext");
    BOOST_TEST(j.at("priority") == json::value(70));
    BOOST_TEST(json::serialize(j.at("payload")) == R"({"x":1})");
    BOOST_REQUIRE_MESSAGE(j.contains("job_type"), "unknown field job_type not kept: " << json::serialize(j));
    BOOST_TEST(str(j.at("job_type")) == "render");
    BOOST_TEST(j.at("attempts") == json::value(0));

    // A client id is used as given.
    r = post("/api/jobs", R"({"id":"mine","service_required":"ext"})");
    BOOST_TEST(r.status == 201u);
    BOOST_TEST(str(parse_body(r.body).at("job_id")) == "mine");
    // Two generated ids differ.
    BOOST_TEST(submit(R"({"service_required":"ext"})") != id);
}

BOOST_AUTO_TEST_CASE(idempotent_resubmission) {
    start();
    auto r = post("/api/jobs", R"({"id":"idem","service_required":"ext","priority":7,"payload":{"n":16,"a":"x"}})");
    BOOST_TEST(r.status == 201u, r.body);

    // Same body: other key order, 16.0 for 16.
    r = post("/api/jobs", R"({"payload":{"a":"x","n":16.0},"priority":7,"service_required":"ext","id":"idem"})");
    BOOST_TEST(r.status == 200u, r.body);
    auto v = parse_body(r.body).get_object();
    BOOST_TEST(v.at("success") == json::value(true));
    BOOST_TEST(str(v.at("job_id")) == "idem");
    BOOST_TEST(v.at("existing") == json::value(true));
    BOOST_REQUIRE(v.at("job").is_object());
    BOOST_TEST(str(v.at("job").at("id")) == "idem");

    // Different body: 409, and the job is unchanged.
    r = post("/api/jobs", R"({"id":"idem","service_required":"ext","priority":8,"payload":{"n":16,"a":"x"}})");
    expect_error(r, 409, "conflict");
    auto j = job("idem");
    BOOST_TEST(j.at("priority") == json::value(7));
    BOOST_TEST(get_json_object("/api/jobs").at("total") == json::value(1));
}

// ---- in-process workers ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(push_to_in_process_mock_worker) {
    start(config{.workers = "mock:1"});
    const std::string id = submit(R"({"id":"m1","service_required":"mock","payload":{"delay_ms":30}})");
    auto j = wait_status(id, "completed");
    BOOST_TEST(j.at("progress") == json::value(100));
    BOOST_TEST(j.at("attempts") == json::value(1));
    // A finished job remembers the worker that ran it.
    BOOST_TEST(str(j.at("worker_id")).find("-worker-mock-0") != std::string::npos, json::serialize(j));
    BOOST_REQUIRE_MESSAGE(j.contains("result") && j.at("result").is_object(), "no result: " << json::serialize(j));
    const auto& res = j.at("result").get_object();
    BOOST_TEST(res.at("mock") == json::value(true));
    BOOST_TEST(str(res.at("job_id")) == id);
    BOOST_TEST(res.at("delay_ms") == json::value(30));
    BOOST_TEST(!j.at("completed_at").is_null());
    BOOST_TEST(!j.at("started_at").is_null());
    auto w = worker(kMockWorker);
    BOOST_REQUIRE(w);
    BOOST_TEST(w->at("jobs").get_array().empty());
}

BOOST_AUTO_TEST_CASE(cancel_running_in_process_job_moves_the_worker_on) {
    start(config{.workers = "mock:1"});
    const std::string a = submit(R"({"id":"long","service_required":"mock","payload":{"delay_ms":60000}})");
    auto running = wait_running(a);
    BOOST_TEST(str(running.at("worker_id")) == kMockWorker);
    BOOST_TEST(str(running.at("worker_kind")) == "in-process");
    const std::string b = submit(R"({"id":"next","service_required":"mock","payload":{"delay_ms":10}})");
    BOOST_TEST(status_of(b) == "pending");  // the only worker is busy

    auto r = post("/api/jobs/" + a + "/cancel", "");
    BOOST_TEST(r.status == 200u, r.body);
    auto v = parse_body(r.body).get_object();
    BOOST_TEST(str(v.at("status")) == "cancelled");
    BOOST_TEST(str(v.at("job_id")) == a);

    auto done = wait_status(b, "completed");
    BOOST_TEST(str(done.at("result").at("job_id")) == b);
    auto ja = job(a);
    BOOST_TEST(str(ja.at("status")) == "cancelled");
    BOOST_TEST(!ja.contains("result"));
    BOOST_TEST(!ja.at("cancelled_at").is_null());
    // Cancelling a finished job is refused.
    expect_error(post("/api/jobs/" + a + "/cancel", ""), 409, "conflict");
    expect_error(post("/api/jobs/" + b + "/cancel", ""), 409, "conflict");
    expect_error(post("/api/jobs/nope/cancel", ""), 404, "not_found");
}

// dispatcher.hpp: "in-process workers' leases are renewed by the dispatcher". serve sets
// local_heartbeat_ms to a third of --lease-ms, so an in-process job must keep its lease
// whatever the lease is, however long the job runs without reporting progress.
BOOST_AUTO_TEST_CASE(in_process_job_keeps_its_lease_when_the_lease_is_short) {
    start(config{.lease_ms = 150, .backoff_ms = 0, .backoff_max_ms = 0, .workers = "mock:1"});
    // The mock reports 10 at once and 80 only after 80% of 1000 ms.
    const std::string id =
        submit(R"({"id":"slow","service_required":"mock","max_retries":1,"payload":{"delay_ms":1000}})");
    auto j = wait_job(
        id, [](const json::object& o) { return str(o.at("status")) == "completed" || str(o.at("status")) == "failed"; },
        "finished");
    BOOST_TEST(str(j.at("status")) == "completed", "in-process job lost its lease: " << json::serialize(j));
    BOOST_TEST(j.at("attempts") == json::value(1));
}

// ---- external workers: long-poll claims ------------------------------------------------------

BOOST_AUTO_TEST_CASE(long_poll_claim_returns_as_soon_as_a_job_is_submitted) {
    start();
    register_worker("w1");
    auto fut = claim_async("w1", 20000);
    wait_worker_waiting("w1");
    const std::string id = submit(R"({"id":"lp","service_required":"ext","payload":{"k":"v"}})");
    BOOST_REQUIRE_MESSAGE(fut.wait_for(kDeadline) == std::future_status::ready, "the long-poll claim did not return");
    auto r = fut.get();
    BOOST_REQUIRE_MESSAGE(r, "claim: " << (r ? "" : r.error().text()));
    BOOST_TEST(r->status == 200u, "a job was submitted while waiting, got " << r->status << " " << r->body);
    auto c = to_claimed(*r);
    BOOST_TEST(str(c.job.at("id")) == id);
    BOOST_TEST(json::serialize(c.job.at("payload")) == R"({"k":"v"})");
    auto j = job(id);
    BOOST_TEST(str(j.at("status")) == "assigned");
    BOOST_TEST(str(j.at("worker_id")) == "w1");
    BOOST_TEST(str(j.at("worker_kind")) == "external");
    BOOST_TEST(j.at("attempts") == json::value(1));
}

BOOST_AUTO_TEST_CASE(long_poll_claim_answers_204_when_no_job_comes) {
    start(config{.max_wait = 300ms});
    register_worker("w1");
    submit(R"({"id":"other","service_required":"mock"})");  // not for w1
    auto r = post("/api/workers/w1/claim?wait_ms=200");
    BOOST_TEST(r.status == 204u);
    BOOST_TEST(r.body.empty());
    r = post("/api/workers/w1/claim");  // no wait: at once
    BOOST_TEST(r.status == 204u);
    // wait_ms beyond --max-wait-ms is capped (else this would outlast the client's timeout).
    r = post("/api/workers/w1/claim?wait_ms=600000");
    BOOST_TEST(r.status == 204u);
    BOOST_TEST(status_of("other") == "pending");
    expect_error(post("/api/workers/ghost/claim?wait_ms=0"), 404, "not_found");
    expect_error(post("/api/workers/w1/claim?wait_ms=soon"), 400, "invalid_request");
}

BOOST_AUTO_TEST_CASE(a_newer_claim_replaces_the_waiting_one_and_unregistering_ends_it) {
    start();
    register_worker("w1");
    auto older = claim_async("w1", 20000);
    wait_worker_waiting("w1");
    auto newer = claim_async("w1", 20000);
    // The older wait gets nothing, at once (well before its 20 s).
    BOOST_REQUIRE_MESSAGE(older.wait_for(kDeadline) == std::future_status::ready, "the replaced claim never returned");
    auto r = older.get();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 204u, r->body);
    wait_worker_waiting("w1");
    const std::string id = submit(R"({"id":"n1","service_required":"ext"})");
    BOOST_REQUIRE_MESSAGE(newer.wait_for(kDeadline) == std::future_status::ready, "the newer claim got nothing");
    r = newer.get();
    BOOST_REQUIRE(r);
    BOOST_REQUIRE_MESSAGE(r->status == 200u, r->body);
    BOOST_TEST(str(to_claimed(*r).job.at("id")) == id);

    // A worker unregistered while it waits: its claim ends.
    register_worker("w2");
    auto waiting = claim_async("w2", 20000);
    wait_worker_waiting("w2");
    BOOST_TEST(call(verb::delete_, "/api/workers/w2").status == 200u);
    BOOST_REQUIRE_MESSAGE(waiting.wait_for(kDeadline) == std::future_status::ready,
                          "the claim of an unregistered worker never returned");
    r = waiting.get();
    BOOST_REQUIRE(r);
    BOOST_TEST((r->status == 204u || r->status == 404u), r->status << " " << r->body);
}

BOOST_AUTO_TEST_CASE(external_progress_and_complete_with_the_lease_token) {
    start();
    register_worker("w1");
    const std::string id = submit(R"({"id":"e1","service_required":"ext"})");
    auto c = claim_now("w1");
    BOOST_TEST(str(c.job.at("id")) == id);

    auto r = report(id, "progress", c.token, R"("progress":40,"message":"working")");
    BOOST_TEST(r.status == 200u, r.body);
    BOOST_TEST(str(parse_body(r.body).at("status")) == "in_progress");
    auto j = job(id);
    BOOST_TEST(str(j.at("status")) == "in_progress");
    BOOST_TEST(j.at("progress") == json::value(40));
    BOOST_TEST(!j.at("started_at").is_null());

    r = report(id, "complete", c.token, R"("result":{"answer":42})");
    BOOST_TEST(r.status == 200u, r.body);
    auto v = parse_body(r.body).get_object();
    BOOST_TEST(v.at("success") == json::value(true));
    BOOST_TEST(str(v.at("status")) == "completed");
    j = job(id);
    BOOST_TEST(str(j.at("status")) == "completed");
    BOOST_TEST(json::serialize(j.at("result")) == R"({"answer":42})");
    BOOST_TEST(j.at("progress") == json::value(100));
    BOOST_TEST(str(j.at("worker_id")) == "w1");  // who ran it; the worker itself holds nothing now
    auto w = worker("w1");
    BOOST_REQUIRE(w);
    BOOST_TEST(w->at("jobs").get_array().empty());
}

BOOST_AUTO_TEST_CASE(wrong_or_stale_lease_token_is_409_and_changes_nothing) {
    start(config{.backoff_ms = 0, .backoff_max_ms = 0});
    register_worker("w1");
    const std::string id = submit(R"({"id":"t1","service_required":"ext"})");
    auto c = claim_now("w1");

    expect_error(report(id, "progress", "not-the-token", R"("progress":50)"), 409, "conflict");
    expect_error(report(id, "complete", "not-the-token", R"("result":1)"), 409, "conflict");
    expect_error(report(id, "fail", "not-the-token", R"("error":"x")"), 409, "conflict");
    expect_error(post("/api/jobs/" + id + "/complete", R"({"result":1})"), 400, "invalid_request");  // no token
    expect_error(post("/api/jobs/" + id + "/progress", R"({"lease_token":7,"progress":1})"), 400, "invalid_request");
    auto j = job(id);
    BOOST_TEST(str(j.at("status")) == "assigned");
    BOOST_TEST(j.at("progress") == json::value(0));
    BOOST_TEST(!j.contains("result"));
    BOOST_TEST(!j.contains("error"));

    // A failed attempt (back-off 0): the job comes back, and a new claim has a new token.
    auto r = report(id, "fail", c.token, R"("error":"boom")");
    BOOST_TEST(r.status == 200u, r.body);
    wait_status(id, "pending");
    auto c2 = claim_now("w1");
    BOOST_TEST(c2.token != c.token);
    BOOST_TEST(c2.job.at("attempts") == json::value(2));
    expect_error(report(id, "complete", c.token, R"("result":"stale")"), 409, "conflict");
    expect_error(report(id, "progress", c.token, R"("progress":90)"), 409, "conflict");
    j = job(id);
    BOOST_TEST(str(j.at("status")) == "assigned");
    BOOST_TEST(j.at("progress") == json::value(0));
    BOOST_TEST(j.at("attempts") == json::value(2));

    r = report(id, "complete", c2.token, R"("result":"fresh")");
    BOOST_TEST(r.status == 200u, r.body);
    // Done: even the right token is refused now.
    expect_error(report(id, "complete", c2.token, R"("result":"again")"), 409, "conflict");
    expect_error(report(id, "fail", c2.token, ""), 409, "conflict");
    j = job(id);
    BOOST_TEST(str(j.at("status")) == "completed");
    BOOST_TEST(str(j.at("result")) == "fresh");
    expect_error(report("ghost", "complete", c2.token, ""), 404, "not_found");
}

BOOST_AUTO_TEST_CASE(fail_retries_with_back_off_until_max_retries) {
    start(config{.backoff_ms = 150, .backoff_max_ms = 600});
    register_worker("w1");
    const std::string id = submit(R"({"id":"f1","service_required":"ext","max_retries":2})");
    auto c = claim_now("w1");
    BOOST_TEST(c.job.at("attempts") == json::value(1));

    auto r = report(id, "fail", c.token, R"("error":"first")");
    BOOST_TEST(r.status == 200u, r.body);
    BOOST_TEST(str(parse_body(r.body).at("status")) == "retrying", "after a retryable failure: " << r.body);
    auto j = wait_status(id, "pending");  // after the back-off
    BOOST_TEST(j.at("attempts") == json::value(1));
    BOOST_TEST(str(j.at("error")) == "first");
    BOOST_TEST(j.at("worker_id").is_null());

    // The worker takes it again (long-poll: whenever it is back).
    auto fut = claim_async("w1", 20000);
    BOOST_REQUIRE(fut.wait_for(kDeadline) == std::future_status::ready);
    auto second = fut.get();
    BOOST_REQUIRE(second);
    BOOST_REQUIRE_MESSAGE(second->status == 200u, second->body);
    auto c2 = to_claimed(*second);
    BOOST_TEST(str(c2.job.at("id")) == id);
    BOOST_TEST(c2.job.at("attempts") == json::value(2));

    // No attempts left: failed for good.
    r = report(id, "fail", c2.token, R"("error":{"message":"second"})");
    BOOST_TEST(r.status == 200u, r.body);
    BOOST_TEST(str(parse_body(r.body).at("status")) == "failed");
    j = job(id);
    BOOST_TEST(str(j.at("status")) == "failed");
    BOOST_TEST(j.at("attempts") == json::value(2));
    BOOST_TEST(json::serialize(j.at("error")) == R"({"message":"second"})");
    BOOST_TEST(!j.at("failed_at").is_null());
    BOOST_TEST(post("/api/workers/w1/claim?wait_ms=0").status == 204u);

    // retryable false: failed at once, attempts left or not.
    const std::string id2 = submit(R"({"id":"f2","service_required":"ext","max_retries":5})");
    auto c3 = claim_now("w1");
    BOOST_TEST(str(c3.job.at("id")) == id2);
    expect_error(report(id2, "fail", c3.token, R"("retryable":"no")"), 400, "invalid_request");
    r = report(id2, "fail", c3.token, R"("error":"fatal","retryable":false)");
    BOOST_TEST(r.status == 200u, r.body);
    BOOST_TEST(status_of(id2) == "failed");
}

BOOST_AUTO_TEST_CASE(cancel_running_external_job) {
    start();
    register_worker("w1");
    const std::string id = submit(R"({"id":"x1","service_required":"ext"})");
    auto c = claim_now("w1");
    BOOST_TEST(report(id, "progress", c.token, R"("progress":20)").status == 200u);

    auto r = post("/api/jobs/" + id + "/cancel", "");
    BOOST_TEST(r.status == 200u, r.body);
    BOOST_TEST(status_of(id) == "cancelled");

    // The next heartbeat tells the worker, once.
    r = post("/api/workers/w1/heartbeat", "{}");
    BOOST_TEST(r.status == 200u, r.body);
    auto hb = parse_body(r.body).get_object();
    BOOST_TEST(hb.at("success") == json::value(true));
    BOOST_TEST(json::serialize(hb.at("cancelled_jobs")) == R"(["x1"])");
    r = post("/api/workers/w1/heartbeat", "{}");
    BOOST_TEST(json::serialize(parse_body(r.body).at("cancelled_jobs")) == "[]");

    // A late report is refused and does not resurrect the job.
    expect_error(report(id, "complete", c.token, R"("result":"late")"), 409, "conflict");
    expect_error(report(id, "progress", c.token, R"("progress":99)"), 409, "conflict");
    expect_error(report(id, "fail", c.token, R"("error":"late")"), 409, "conflict");
    auto j = job(id);
    BOOST_TEST(str(j.at("status")) == "cancelled");
    BOOST_TEST(!j.contains("result"));
    BOOST_TEST(j.at("worker_id").is_null());
    auto w = worker("w1");
    BOOST_REQUIRE(w);
    BOOST_TEST(w->at("jobs").get_array().empty());
    expect_error(post("/api/workers/ghost/heartbeat", "{}"), 404, "not_found");
}

// ---- leases and liveness ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(lease_expiry_puts_the_job_back_and_counts_the_attempt) {
    start(config{.lease_ms = 300, .backoff_ms = 50, .backoff_max_ms = 50});
    register_worker("w1");
    const std::string id = submit(R"({"id":"le","service_required":"ext"})");
    auto c = claim_now("w1");
    // w1 goes silent (its worker timeout is long: only the lease can end this).
    auto j = wait_status(id, "pending");
    BOOST_TEST(j.at("attempts") == json::value(1));
    BOOST_TEST(j.at("worker_id").is_null());
    BOOST_TEST(str(j.at("error")) == "lease expired");
    BOOST_TEST(worker("w1").has_value());  // the worker itself stays

    expect_error(report(id, "complete", c.token, R"("result":"late")"), 409, "conflict");
    auto c2 = claim_now("w1");
    BOOST_TEST(str(c2.job.at("id")) == id);
    BOOST_TEST(c2.job.at("attempts") == json::value(2));
}

BOOST_AUTO_TEST_CASE(heartbeats_renew_the_lease) {
    start(config{.lease_ms = 500});
    register_worker("w1");
    const std::string id = submit(R"({"id":"hb","service_required":"ext"})");
    auto c = claim_now("w1");
    // Heartbeat for well over three leases.
    const auto until = std::chrono::steady_clock::now() + 1600ms;
    while (std::chrono::steady_clock::now() < until) {
        auto r = post("/api/workers/w1/heartbeat", "{}");
        BOOST_REQUIRE_MESSAGE(r.status == 200u, r.body);
        std::this_thread::sleep_for(50ms);
    }
    auto j = job(id);
    BOOST_TEST(str(j.at("status")) == "assigned", "heartbeats did not keep the job: " << json::serialize(j));
    BOOST_TEST(j.at("attempts") == json::value(1));
    BOOST_TEST(str(j.at("worker_id")) == "w1");
    auto r = report(id, "complete", c.token, R"("result":"kept")");
    BOOST_TEST(r.status == 200u, r.body);
    BOOST_TEST(status_of(id) == "completed");
}

BOOST_AUTO_TEST_CASE(silent_worker_is_unregistered_and_its_jobs_requeued) {
    start(config{.lease_ms = 60000, .backoff_ms = 0, .backoff_max_ms = 0, .worker_timeout_ms = 400});
    register_worker("w1");
    const std::string id = submit(R"({"id":"hl","service_required":"ext"})");
    auto c = claim_now("w1");
    // w1 goes silent; its lease is far away, so only the worker timeout can end this.
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (worker("w1") && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(kPoll);
    BOOST_REQUIRE_MESSAGE(!worker("w1"), "a silent worker was never unregistered");
    auto j = wait_status(id, "pending");
    BOOST_TEST(j.at("attempts") == json::value(1));
    BOOST_TEST(j.at("worker_id").is_null());
    expect_error(post("/api/workers/w1/heartbeat", "{}"), 404, "not_found");
    expect_error(report(id, "complete", c.token, R"("result":"late")"), 409, "conflict");

    // A worker that comes back registers again and gets the job.
    register_worker("w2");
    auto c2 = claim_now("w2");
    BOOST_TEST(str(c2.job.at("id")) == id);
    BOOST_TEST(c2.job.at("attempts") == json::value(2));
}

BOOST_AUTO_TEST_CASE(unregistering_a_worker_counts_a_failed_attempt) {
    start(config{.backoff_ms = 0, .backoff_max_ms = 0});
    register_worker("w1");
    const std::string id = submit(R"({"id":"un","service_required":"ext"})");
    claim_now("w1");
    auto r = call(verb::delete_, "/api/workers/w1");
    BOOST_TEST(r.status == 200u, r.body);
    BOOST_TEST(!worker("w1"));
    auto j = wait_status(id, "pending");
    BOOST_TEST(j.at("attempts") == json::value(1));
    expect_error(call(verb::delete_, "/api/workers/w1"), 404, "not_found");
}

// ---- worker registration ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reregistering_replaces_capabilities_and_keeps_jobs) {
    start();
    auto r = post("/api/workers", R"({"worker_id":"w1","job_service_required_map":["ext"]})");
    BOOST_TEST(r.status == 201u, r.body);
    auto v = parse_body(r.body).get_object();
    BOOST_TEST(str(v.at("worker_id")) == "w1");
    const std::string a = submit(R"({"id":"a","service_required":"ext"})");
    auto c = claim_now("w1");
    BOOST_TEST(str(c.job.at("id")) == a);

    r = post("/api/workers", R"({"worker_id":"w1","job_service_required_map":["ext2"]})");
    BOOST_TEST(r.status == 201u, r.body);
    auto j = job(a);
    BOOST_TEST(str(j.at("status")) == "assigned");
    BOOST_TEST(str(j.at("worker_id")) == "w1");
    submit(R"({"id":"b","service_required":"ext"})");
    submit(R"({"id":"c","service_required":"ext2"})");
    auto c2 = claim_now("w1");
    BOOST_TEST(str(c2.job.at("id")) == "c");
    BOOST_TEST(report(a, "complete", c.token).status == 200u);

    expect_error(post("/api/workers", R"({"worker_type":"ext"})"), 400, "invalid_request");
    expect_error(post("/api/workers", R"({"worker_id":"w9","worker_type":"nosuch"})"), 400, "invalid_request");
    expect_error(post("/api/workers", R"({"worker_id":"w9","services":"ext"})"), 400, "invalid_request");
}

BOOST_AUTO_TEST_CASE(reregistering_a_waiting_worker_serves_it_with_its_new_capabilities) {
    start();
    register_worker("w1");  // ext, ext2
    submit(R"({"id":"other","service_required":"mock"})");
    auto fut = claim_async("w1", 20000);
    wait_worker_waiting("w1");
    auto r = post("/api/workers", R"({"worker_id":"w1","job_service_required_map":["mock"]})");
    BOOST_TEST(r.status == 201u, r.body);
    BOOST_REQUIRE_MESSAGE(fut.wait_for(kDeadline) == std::future_status::ready, "the waiting claim got nothing");
    auto got = fut.get();
    BOOST_REQUIRE(got);
    BOOST_REQUIRE_MESSAGE(got->status == 200u, got->status << " " << got->body);
    BOOST_TEST(str(to_claimed(*got).job.at("id")) == "other");
}

// A long-poll claim answers 204 once its wait_ms has passed, whatever happens meanwhile; here
// the worker re-registers (same capabilities, nothing to serve) while it waits.
BOOST_AUTO_TEST_CASE(reregistering_a_waiting_worker_keeps_its_wait_bounded) {
    start();
    register_worker("w1");
    auto fut = claim_async("w1", 300, 5000ms);  // the client gives up after 5 s
    wait_worker_waiting("w1");
    register_worker("w1");
    auto r = fut.get();  // bounded by the client's timeout
    BOOST_TEST((r && r->status == 204u), "a 300 ms long-poll claim did not end after re-registration: "
                                             << (r ? std::to_string(r->status) + " " + r->body : r.error().text()));
    // The worker is still listed as waiting in a claim nobody will ever answer.
    if (!(r && r->status == 204u)) {
        auto w = worker("w1");
        BOOST_REQUIRE(w);
        BOOST_TEST_MESSAGE("w1 after its client gave up: " << json::serialize(*w));
    }
}

// An HTTP client must not be able to act as an in-process worker: registering, claiming,
// heartbeating or unregistering under its id is refused (409), and a claim must not take the
// in-process worker's place in the queue of idle workers.
BOOST_AUTO_TEST_CASE(worker_api_refuses_in_process_worker_ids) {
    start(config{.workers = "mock:1"});
    expect_error(post("/api/workers", R"({"worker_id":")" + kMockWorker + R"(","worker_type":"mock"})"), 409,
                 "conflict");
    auto r = post("/api/workers/" + kMockWorker + "/claim?wait_ms=0");
    BOOST_TEST((r.status == 409u || r.status == 404u),
               "claim under the in-process worker's id answered " << r.status << " " << r.body);
    expect_error(post("/api/workers/" + kMockWorker + "/heartbeat", "{}"), 409, "conflict");
    expect_error(call(verb::delete_, "/api/workers/" + kMockWorker), 409, "conflict");
    BOOST_TEST(worker(kMockWorker).has_value());
    // Whatever the answer, the in-process worker must still run jobs.
    const std::string id = submit(R"({"id":"after","service_required":"mock","payload":{"delay_ms":10}})");
    auto j = wait_job(
        id, [](const json::object& o) { return str(o.at("status")) == "completed"; },
        "completed (the in-process worker stopped taking jobs after an HTTP claim under its id)");
    BOOST_TEST(str(j.at("result").at("job_id")) == id);
}

// ---- push order ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(push_goes_to_the_worker_idle_longest) {
    start();
    // w-b idles first; by id alone w-a would win.
    register_worker("w-b");
    std::this_thread::sleep_for(30ms);  // distinct idle-since milliseconds
    register_worker("w-a");
    auto fb = claim_async("w-b", 20000);
    wait_worker_waiting("w-b");
    auto fa = claim_async("w-a", 20000);
    wait_worker_waiting("w-a");

    const std::string first = submit(R"({"id":"p1","service_required":"ext"})");
    BOOST_REQUIRE_MESSAGE(fb.wait_for(kDeadline) == std::future_status::ready, "w-b (idle longest) got nothing");
    auto rb = fb.get();
    BOOST_REQUIRE(rb);
    BOOST_REQUIRE_MESSAGE(rb->status == 200u, rb->body);
    BOOST_TEST(str(to_claimed(*rb).job.at("id")) == first);
    BOOST_TEST(str(job(first).at("worker_id")) == "w-b");
    BOOST_TEST((fa.wait_for(0ms) != std::future_status::ready), "w-a got a job too");

    const std::string second = submit(R"({"id":"p2","service_required":"ext"})");
    BOOST_REQUIRE(fa.wait_for(kDeadline) == std::future_status::ready);
    auto ra = fa.get();
    BOOST_REQUIRE(ra);
    BOOST_REQUIRE_MESSAGE(ra->status == 200u, ra->body);
    auto ca = to_claimed(*ra);
    BOOST_TEST(str(ca.job.at("id")) == second);

    // Idle means "not running a job", not "waiting longest": w-b finishes first, w-a later;
    // then w-a asks first. The next job still goes to w-b, idle since its job ended.
    auto cb = to_claimed(*rb);
    BOOST_REQUIRE(report(first, "complete", cb.token).status == 200u);
    std::this_thread::sleep_for(30ms);  // distinct idle-since milliseconds
    BOOST_REQUIRE(report(second, "complete", ca.token).status == 200u);
    auto fa2 = claim_async("w-a", 20000);
    wait_worker_waiting("w-a");
    auto fb2 = claim_async("w-b", 20000);
    wait_worker_waiting("w-b");
    const std::string third = submit(R"({"id":"p3","service_required":"ext"})");
    BOOST_REQUIRE_MESSAGE(fb2.wait_for(kDeadline) == std::future_status::ready, "w-b (idle longest) got nothing");
    auto rb2 = fb2.get();
    BOOST_REQUIRE(rb2);
    BOOST_REQUIRE_MESSAGE(rb2->status == 200u, rb2->body);
    BOOST_TEST(str(to_claimed(*rb2).job.at("id")) == third);
    submit(R"({"id":"p4","service_required":"ext"})");  // releases w-a's claim
    BOOST_REQUIRE(fa2.wait_for(kDeadline) == std::future_status::ready);
    auto ra2 = fa2.get();
    BOOST_REQUIRE(ra2);
    BOOST_TEST(ra2->status == 200u);
}

// ---- listing and pagination ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(pagination_walks_every_job_once_newest_first) {
    start();
    std::vector<std::string> submitted;
    for (int i = 0; i < 7; ++i)
        submitted.push_back(submit(R"({"id":"p)" + std::to_string(i) + R"(","service_required":"ext"})"));
    submitted.push_back(submit(R"({"id":"q0","service_required":"ext2"})"));
    submitted.push_back(submit(R"({"id":"q1","service_required":"ext2"})"));
    const std::vector<std::string> newest_first(submitted.rbegin(), submitted.rend());

    std::vector<std::string> seen;
    std::string target = "/api/jobs?limit=3";
    for (int page = 0; page < 10; ++page) {
        auto o = get_json_object(target);
        BOOST_TEST(o.at("success") == json::value(true));
        BOOST_TEST(o.at("total") == json::value(9));
        BOOST_TEST(o.at("limit") == json::value(3));
        const auto& jobs = o.at("jobs").get_array();
        BOOST_TEST(jobs.size() <= 3u);
        for (const auto& j : jobs) seen.push_back(str(j.at("id")));
        if (o.at("next_cursor").is_null()) break;
        BOOST_REQUIRE(o.at("next_cursor").is_string());
        target = "/api/jobs?limit=3&cursor=" + str(o.at("next_cursor"));
    }
    BOOST_TEST(seen == newest_first, boost::test_tools::per_element());

    // A page that ends exactly at the last job has no next cursor.
    auto all = get_json_object("/api/jobs?limit=9");
    BOOST_TEST(all.at("jobs").get_array().size() == 9u);
    BOOST_TEST(all.at("next_cursor").is_null());
    BOOST_TEST(get_json_object("/api/jobs").at("jobs").get_array().size() == 9u);  // default limit 50

    // offset (EMP's paging).
    auto off = get_json_object("/api/jobs?limit=2&offset=2");
    const auto& oj = off.at("jobs").get_array();
    BOOST_REQUIRE(oj.size() == 2u);
    BOOST_TEST(str(oj[0].at("id")) == newest_first[2]);
    BOOST_TEST(str(oj[1].at("id")) == newest_first[3]);
    BOOST_TEST(off.at("total") == json::value(9));

    // Filters.
    auto by_service = get_json_object("/api/jobs?service_required=ext2");
    BOOST_TEST(by_service.at("total") == json::value(2));
    const auto& bs = by_service.at("jobs").get_array();
    BOOST_REQUIRE(bs.size() == 2u);
    BOOST_TEST(str(bs[0].at("id")) == "q1");
    BOOST_TEST(str(bs[1].at("id")) == "q0");
    post("/api/jobs/p3/cancel", "");
    auto by_status = get_json_object("/api/jobs?status=cancelled");
    BOOST_TEST(by_status.at("total") == json::value(1));
    BOOST_TEST(str(by_status.at("jobs").at(0).at("id")) == "p3");
    BOOST_TEST(get_json_object("/api/jobs?status=pending").at("total") == json::value(8));
    BOOST_TEST(get_json_object("/api/jobs?status=pending&service_required=ext2&limit=1").at("total") == json::value(2));
    BOOST_TEST(get_json_object("/api/jobs?status=completed").at("jobs").get_array().empty());

    // Bad parameters.
    for (const char* bad : {"/api/jobs?limit=0", "/api/jobs?limit=abc", "/api/jobs?limit=1001", "/api/jobs?limit=-1",
                            "/api/jobs?cursor=x", "/api/jobs?offset=1.5", "/api/jobs?status=running"}) {
        auto e = expect_error(get(bad), 400, "invalid_request");
        BOOST_TEST_CONTEXT(bad) {
            const std::string m = error_message(e);
            const std::string param = std::string(bad).substr(std::string(bad).find('?') + 1);
            BOOST_TEST(m.find(param.substr(0, param.find('='))) != std::string::npos, "message " << m);
        }
    }
}

// ---- malformed requests ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_json_and_wrong_types_are_400_naming_the_field) {
    start();
    expect_error(post("/api/jobs", "{not json"), 400, "invalid_json");
    expect_error(post("/api/jobs", R"({"service_required":"ext",})"), 400, "invalid_json");
    expect_error(post("/api/jobs", R"({"service_required":"ext","payload":NaN})"), 400, "invalid_json");
    expect_error(post("/api/workers", "[1,"), 400, "invalid_json");
    expect_error(post("/api/jobs/x/complete", "{"), 400, "invalid_json");
    expect_error(post("/api/jobs", "[1,2]"), 400, "invalid_request");

    struct case_ {
        const char* body;
        const char* field;
    };
    for (const case_& c :
         {case_{R"({"service_required":"ext","priority":"high"})", "priority"},
          case_{R"({"service_required":"ext","priority":1.5})", "priority"},
          case_{R"({"service_required":"ext","max_retries":"3"})", "max_retries"},
          case_{R"({"service_required":42})", "service_required"},
          case_{R"({"service_required":""})", "service_required"}, case_{R"({"payload":{}})", "service_required"},
          case_{R"({})", "service_required"}, case_{R"({"id":5,"service_required":"ext"})", "id"},
          case_{R"({"service_required":"ext","requirements":[]})", "requirements"},
          case_{R"({"service_required":"ext","requirements":{"hardware":{"gpu_memory_gb":"16"}}})", "gpu_memory_gb"}}) {
        BOOST_TEST_CONTEXT(c.body) {
            auto e = expect_error(post("/api/jobs", c.body), 400, "invalid_request");
            BOOST_TEST(error_message(e).find(c.field) != std::string::npos, "message " << error_message(e));
        }
    }
    // An empty body is an empty object: service_required is missing.
    auto e = expect_error(post("/api/jobs", ""), 400, "invalid_request");
    BOOST_TEST(error_message(e).find("service_required") != std::string::npos);
    // Nothing was accepted.
    BOOST_TEST(get_json_object("/api/jobs").at("total") == json::value(0));

    // Reports.
    register_worker("w1");
    submit(R"({"id":"r1","service_required":"ext"})");
    auto c = claim_now("w1");
    for (const char* p :
         {R"("progress":150)", R"("progress":"50")", R"("progress":-1)", R"("progress":1,"message":5)"}) {
        BOOST_TEST_CONTEXT(p) {
            auto err = expect_error(report("r1", "progress", c.token, p), 400, "invalid_request");
            BOOST_TEST((error_message(err).find("progress") != std::string::npos ||
                        error_message(err).find("message") != std::string::npos));
        }
    }
    expect_error(post("/api/jobs/r1/complete", "[]"), 400, "invalid_request");
    BOOST_TEST(status_of("r1") == "assigned");
}

BOOST_AUTO_TEST_CASE(unknown_routes_are_404_and_wrong_methods_405_with_allow) {
    start();
    expect_error(get("/nope"), 404, "not_found");
    expect_error(get("/api"), 404, "not_found");
    expect_error(get("/api/nothing"), 404, "not_found");
    expect_error(get("/api/jobs/a/b/c"), 404, "not_found");
    expect_error(post("/api/jobs/x/explode", "{}"), 404, "not_found");
    expect_error(post("/api/workers/w/dance", "{}"), 404, "not_found");
    expect_error(get("/api/jobs/unknown"), 404, "not_found");

    struct case_ {
        verb method;
        const char* target;
        const char* allow;
    };
    for (const case_& c :
         {case_{verb::delete_, "/api/jobs", "GET, POST"}, case_{verb::put, "/health", "GET"},
          case_{verb::post, "/metrics", "GET"}, case_{verb::post, "/api/jobs/x", "GET"},
          case_{verb::get, "/api/jobs/x/cancel", "POST"}, case_{verb::put, "/api/jobs/x/complete", "POST"},
          case_{verb::patch, "/api/workers", "GET, POST"}, case_{verb::get, "/api/workers/w", "DELETE"},
          case_{verb::get, "/api/workers/w/claim", "POST"}, case_{verb::get, "/api/workers/w/heartbeat", "POST"}}) {
        BOOST_TEST_CONTEXT(std::string(http::to_string(c.method)) << " " << c.target) {
            auto raw = raw_request(port, c.method, c.target);
            BOOST_REQUIRE_MESSAGE(raw.ok, raw.error);
            BOOST_TEST(raw.res.result_int() == 405);
            BOOST_TEST(std::string(raw.res[http::field::allow]) == c.allow);
            http_reply as_reply{raw.res.result_int(), raw.res.body(), std::string(raw.res[http::field::content_type])};
            expect_error(as_reply, 405, "method_not_allowed");
        }
    }
}

// Found by the http fuzz target: an error message quoting a target that is not UTF-8 (raw, or
// percent-encoded and decoded into a path segment) made the error body invalid JSON.
BOOST_AUTO_TEST_CASE(errors_quoting_non_utf8_targets_are_still_json) {
    start();
    struct case_ {
        verb method;
        std::string target;
        unsigned status;
        const char* code;
    };
    for (const case_& c : {case_{verb::get, "/api/jobs/%FF%FE", 404, "not_found"},
                           case_{verb::post, "/api/workers/%C0%AF/heartbeat", 404, "not_found"},
                           case_{verb::get, "/api/\xFF\xC3", 400, "bad_target"}}) {
        BOOST_TEST_CONTEXT(c.target) {
            auto raw = raw_request(port, c.method, c.target);
            BOOST_REQUIRE_MESSAGE(raw.ok, raw.error);
            http_reply r{raw.res.result_int(), raw.res.body(), std::string(raw.res[http::field::content_type])};
            expect_error(r, c.status, c.code);  // parses the body as JSON, which requires UTF-8
        }
    }
}

BOOST_AUTO_TEST_CASE(oversized_body_is_413) {
    start(config{.max_body_bytes = 1024});
    const std::string pad(4096, 'x');
    const std::string body = R"({"service_required":"ext","payload":{"pad":")" + pad + R"("}})";
    auto raw = raw_request(port, verb::post, "/api/jobs", body);
    BOOST_REQUIRE_MESSAGE(raw.ok, "no reply to an oversized body: " << raw.error);
    http_reply r{raw.res.result_int(), raw.res.body(), std::string(raw.res[http::field::content_type])};
    auto e = expect_error(r, 413, "payload_too_large");
    BOOST_TEST(error_message(e).find("1024") != std::string::npos);
    // Through the project's client as well.
    auto viaclient = client->request(verb::post, "/api/jobs", body);
    BOOST_REQUIRE_MESSAGE(viaclient, "http_client: " << (viaclient ? "" : viaclient.error().text()));
    expect_error(*viaclient, 413, "payload_too_large");
    // Nothing was accepted, and the server still serves; a body within the limit is fine.
    BOOST_TEST(get_json_object("/api/jobs").at("total") == json::value(0));
    submit(R"({"service_required":"ext","payload":{"pad":")" + std::string(800, 'y') + R"("}})");
}

BOOST_AUTO_TEST_SUITE_END()
