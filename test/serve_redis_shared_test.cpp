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

BOOST_AUTO_TEST_SUITE_END()
