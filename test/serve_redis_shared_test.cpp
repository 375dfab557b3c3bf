// serve_redis_shared: two servers (each with its own io_context thread, as two processes
// would have) on one Redis database: a job submitted to one wakes an external worker parked in
// a long-poll claim on the other, events reach the WebSocket clients of both, and a lease
// token handed out by one is honoured by the other. Cross-process signalling goes through
// Redis pub/sub (jobrouter:events:<db>). Every wait is bounded; nothing asserts a duration.
#define BOOST_TEST_MODULE serve_redis_shared

#include <boost/test/unit_test.hpp>

#include "test/support/server_fixture.hpp"
#include "test/support/redis_server.hpp"
#include "test/support/ws_client.hpp"

#include <atomic>
#include <thread>

namespace {

jobrouter::test::redis_server& shared_redis() {
    static jobrouter::test::redis_server server;
    return server;
}

// Subscriptions are asynchronous: workers join through `talker` (from a thread of its own)
// until `listener`'s WebSocket client reports one, so that what follows is heard.
void wait_until_heard(ws_client& listener, const std::string& talker_port) {
    std::atomic<bool> heard{false};
    std::thread prober([&heard, talker_port] {
        http_client c("127.0.0.1", talker_port, 10s);
        for (int i = 0; i < 100 && !heard; ++i) {
            (void)c.post("/api/workers", R"({"worker_id":"probe-)" + std::to_string(i) + R"(","worker_type":"ext"})");
            std::this_thread::sleep_for(100ms);
        }
    });
    listener.until(
        [](const json::object& e) { return str(e.at("event")) == "worker_joined" && str(e.at("worker_id")).rfind("probe-", 0) == 0; },
        "worker_joined through the other process");
    heard = true;
    prober.join();
}

struct two_servers {
    server_fixture a, b;
    void start(const std::string& a_workers = "") {
        config ca;
        ca.workers = a_workers;
        ca.store_url = shared_redis().url(0);
        a.start(ca);
        config cb;
        cb.store_url = ca.store_url;
        cb.flush_store = false;  // the same database as a
        b.start(cb);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(serve_redis_shared, two_servers)

BOOST_AUTO_TEST_CASE(a_job_submitted_to_one_process_wakes_a_worker_parked_in_the_other) {
    start();
    b.register_worker("wb");
    auto parked = b.claim_async("wb", 20000);
    b.wait_worker_waiting("wb");
    const std::string id = a.submit(R"({"id":"cross-1","service_required":"ext"})");
    BOOST_REQUIRE(parked.wait_for(kDeadline) == std::future_status::ready);
    auto r = parked.get();
    BOOST_REQUIRE(r);
    BOOST_REQUIRE_MESSAGE(r->status == 200u, r->status << " " << r->body);
    auto c = server_fixture::to_claimed(*r);
    BOOST_TEST(str(c.job.at("id")) == id);
    // The token b handed out is the job's lease for a as well.
    auto done = a.report(id, "complete", c.token, R"("result":"via a")");
    BOOST_TEST(done.status == 200u, done.body);
    BOOST_TEST(b.status_of(id) == "completed");
    BOOST_TEST(a.report(id, "complete", c.token, R"("result":"again")").status == 409u);
}

BOOST_AUTO_TEST_CASE(events_reach_the_websocket_clients_of_every_process) {
    start();
    ws_client on_a(a.port, "/ws/events");
    ws_client on_b(b.port, "/ws/events");
    BOOST_REQUIRE_MESSAGE(on_a.open() && on_b.open(), on_a.error() << " / " << on_b.error());
    wait_until_heard(on_b, a.port);
    a.register_worker("wa");
    const std::string id = a.submit(R"({"id":"ev-1","service_required":"ext"})");
    auto is = [](const char* kind) {
        return [kind](const json::object& e) {
            return str(e.at("event")) == kind && e.contains("job_id") && str(e.at("job_id")) == "ev-1";
        };
    };
    on_a.until(is("submitted"), "submitted (own process)");
    on_b.until(is("submitted"), "submitted (the other process)");
    auto c = a.claim_now("wa");
    on_b.until(is("assigned"), "assigned (the other process)");
    BOOST_TEST(b.report(id, "progress", c.token, R"("progress":50,"message":"half")").status == 200u);
    auto p = on_a.until(is("progress"), "progress reported through the other process");
    BOOST_TEST(p.at("progress") == json::value(50));
    BOOST_TEST(str(p.at("message")) == "half");
    BOOST_TEST(b.report(id, "complete", c.token, R"("result":1)").status == 200u);
    auto e = on_a.until(is("completed"), "completed reported through the other process");
    BOOST_TEST(str(e.at("worker_id")) == "wa");
    on_b.until(is("completed"), "completed (own process)");
}

BOOST_AUTO_TEST_CASE(a_cancel_in_one_process_stops_the_in_process_worker_of_the_other) {
    start("mock:1");  // a runs an in-process mock worker; b has none
    ws_client on_a(a.port, "/ws/events");
    BOOST_REQUIRE_MESSAGE(on_a.open(), on_a.error());
    wait_until_heard(on_a, b.port);
    const std::string first = b.submit(R"({"id":"long","service_required":"mock","payload":{"delay_ms":60000}})");
    auto running = b.wait_running(first);
    BOOST_TEST(str(running.at("worker_id")) == kMockWorker);
    const std::string next = b.submit(R"({"id":"next","service_required":"mock","payload":{"delay_ms":10}})");
    BOOST_TEST(b.post("/api/jobs/" + first + "/cancel", "").status == 200u);
    // a hears the cancel, stops the connector, and its worker takes the next job.
    auto done = b.wait_status(next, "completed");
    BOOST_TEST(str(done.at("worker_id")) == kMockWorker);
    BOOST_TEST(b.status_of(first) == "cancelled");
}

// The warnings of a submit reply (none when it has no "warnings").
std::vector<std::string> warnings_of(const http_reply& r) {
    std::vector<std::string> out;
    auto v = parse_body(r.body);
    BOOST_REQUIRE(v.is_object());
    if (const auto* w = v.get_object().if_contains("warnings"))
        for (const auto& s : w->as_array()) out.push_back(str(s));
    return out;
}

std::vector<std::string> unroutable_ids(server_fixture& f) {
    std::vector<std::string> out;
    const auto page = f.get_json_object("/api/jobs?unroutable=true");
    for (const auto& j : page.at("jobs").as_array()) out.push_back(str(j.at("id")));
    return out;
}

// Explain, submit warnings and ?unroutable=true read the workers from Redis: a worker that
// registers, changes its capabilities or leaves through one process changes what the other
// says at once. The submit path keeps a copy of the workers and reads them again when the
// submit reply's jobrouter:workers_gen moved; a re-registration with other capabilities
// publishes no event, so only that generation can tell a.
BOOST_AUTO_TEST_CASE(explain_and_unroutable_jobs_see_the_workers_of_the_other_process) {
    start();
    auto submit_big = [&](server_fixture& s, const std::string& id, unsigned want = 201u) {
        auto r = s.post("/api/jobs", R"({"id":")" + id + R"(","service_required":"ext","requirements":{"hardware":{"gpu_memory_gb":24}}})");
        BOOST_REQUIRE_MESSAGE(r.status == want, r.status << " " << r.body);
        return warnings_of(r);
    };
    BOOST_TEST(submit_big(a, "big-1") == (std::vector<std::string>{"no worker is registered"}));

    // A worker too small for it registers through b: a's next submission of the kind names it.
    BOOST_TEST(b.post("/api/workers", R"({"worker_id":"small","worker_type":"ext","hardware":{"gpu_memory_gb":16}})").status == 201u);
    BOOST_TEST(submit_big(a, "big-2") ==
               (std::vector<std::string>{
                   R"(no registered worker meets the job's requirements: 1 worker offers job type "ext" but fails R3a hardware (small))"}));
    auto e = a.get_json_object("/api/jobs/big-1/explain");
    BOOST_TEST(e.at("unroutable") == json::value(true));
    BOOST_REQUIRE_EQUAL(e.at("workers").as_array().size(), 1u);
    BOOST_TEST(str(e.at("workers").as_array()[0].at("rule")) == "R3a");
    BOOST_TEST(unroutable_ids(a) == (std::vector<std::string>{"big-2", "big-1"}));

    // It comes back through b with more memory: a warns no more, and explains the match.
    BOOST_TEST(b.post("/api/workers", R"({"worker_id":"small","worker_type":"ext","hardware":{"gpu_memory_gb":48}})").status == 201u);
    BOOST_TEST(submit_big(a, "big-3").empty());
    e = a.get_json_object("/api/jobs/big-1/explain");
    BOOST_TEST(e.at("unroutable") == json::value(false));
    BOOST_TEST(str(e.at("verdict")) == "1 worker could run it; 1 not busy (each takes the best-ranked job it matches at its next claim)");
    const auto& small = e.at("workers").as_array()[0].as_object();
    BOOST_TEST(str(small.at("worker_id")) == "small");
    BOOST_TEST(str(small.at("kind")) == "external");
    BOOST_TEST(str(small.at("detail")) == "would match (idle)");
    BOOST_TEST(unroutable_ids(a).empty());

    // It leaves through b: every waiting job of the kind is unroutable again, as a says.
    BOOST_TEST(b.call(verb::delete_, "/api/workers/small").status == 200u);
    BOOST_TEST(unroutable_ids(a) == (std::vector<std::string>{"big-3", "big-2", "big-1"}));
    e = a.get_json_object("/api/jobs/big-3/explain");
    BOOST_TEST(e.at("unroutable") == json::value(true));
    BOOST_TEST(str(e.at("verdict")) == "no worker is registered");
    BOOST_TEST(e.at("workers").as_array().empty());
    BOOST_TEST(submit_big(a, "big-4") == (std::vector<std::string>{"no worker is registered"}));
    // An idempotent resubmission through the other process repeats the warning.
    BOOST_TEST(submit_big(b, "big-1", 200u) == (std::vector<std::string>{"no worker is registered"}));
}

BOOST_AUTO_TEST_SUITE_END()
