// serve_events: GET /ws/events seen by a real WebSocket client, against a real server on a
// free loopback port (in-process server on a background thread with a time limit; the test
// thread talks to it only over HTTP and WebSocket). Every read is bounded.
#define BOOST_TEST_MODULE serve_events
#include "app/http_client.hpp"
#include "core/service_mapping.hpp"
#include "core/workers_spec.hpp"
#include "server/local_workers.hpp"
#include "server/server.hpp"
#include "strategies/strategy_registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace jobrouter;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using verb = http::verb;

namespace {

constexpr auto kServerLimit = 60s;  // the server's io_context runs at most this long
constexpr auto kDeadline = 10s;     // how long an expected event or outcome may take
constexpr auto kPoll = 10ms;

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
  }
})";

const std::string kMockWorker = "test-worker-mock-0";

struct config {
    time_ms lease_ms = 3000;
    time_ms backoff_ms = 0;
    time_ms backoff_max_ms = 0;
    time_ms worker_timeout_ms = 30000;
    std::string workers = "";
};

json::value parse_body(const std::string& body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "not JSON (" << ec.message() << "): " << body);
    return v;
}

std::string str(const json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

}  // namespace

// ws_client (needs kDeadline and parse_body, above).
#include "test/support/ws_client.hpp"

namespace {

struct server_fixture {
    std::optional<service_mapping> mapping;
    std::unique_ptr<strategy> strat;
    system_clock_source clock;
    asio::io_context io{1};
    std::unique_ptr<server> srv;
    std::thread runner;
    std::string port;
    std::unique_ptr<http_client> client;
    int probes = 0;

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
        settings.dispatching.local_heartbeat_ms = std::max<time_ms>(c.lease_ms / 3, 1);
        settings.limits.read_timeout = 20s;
        settings.limits.write_timeout = 20s;
        srv = std::make_unique<server>(io, *mapping, *strat, settings, clock);
        if (!c.workers.empty()) {
            auto counts = parse_workers_spec(c.workers, *mapping, "WORKERS");
            BOOST_REQUIRE(counts);
            auto workers = local_workers::create(io, srv->get_dispatcher(), *counts, "test", capabilities_config{});
            BOOST_REQUIRE_MESSAGE(workers, "local_workers: " << (workers ? "" : workers.error().text()));
            srv->attach_workers(std::move(*workers));
        }
        srv->start();
        port = std::to_string(srv->local_endpoint().port());
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

    http_reply call(verb method, const std::string& target, const std::string& body = {}) {
        auto r = client->request(method, target, body);
        BOOST_REQUIRE_MESSAGE(r, "HTTP " << target << ": " << (r ? "" : r.error().text()));
        return *r;
    }
    http_reply post(const std::string& target, const std::string& body = "{}") {
        return call(verb::post, target, body);
    }

    std::string submit(const std::string& body) {
        auto r = post("/api/jobs", body);
        BOOST_REQUIRE_MESSAGE(r.status == 201, "submit " << body << " -> " << r.status << " " << r.body);
        return str(parse_body(r.body).at("job_id"));
    }
    void register_worker(const std::string& id) {
        auto r = post("/api/workers", R"({"worker_id":")" + id + R"(","worker_type":"ext"})");
        BOOST_REQUIRE_MESSAGE(r.status == 201, "register " << id << " -> " << r.status << " " << r.body);
    }
    std::string status_of(const std::string& id) {
        auto r = call(verb::get, "/api/jobs/" + id);
        BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
        return str(parse_body(r.body).at("job").at("status"));
    }
    void wait_status(const std::string& id, const std::string& status) {
        const auto deadline = std::chrono::steady_clock::now() + kDeadline;
        std::string last;
        while (std::chrono::steady_clock::now() < deadline) {
            last = status_of(id);
            if (last == status) return;
            std::this_thread::sleep_for(kPoll);
        }
        BOOST_FAIL("job " << id << " never became " << status << "; last " << last);
    }
    std::string claim_now(const std::string& worker_id) {
        auto r = post("/api/workers/" + worker_id + "/claim?wait_ms=0");
        BOOST_REQUIRE_MESSAGE(r.status == 200, "claim -> " << r.status << " " << r.body);
        return str(parse_body(r.body).at("lease_token"));
    }

    // Proves `ws` is subscribed: a probe worker joins and the client sees it (unfiltered
    // clients only). Events before this point may or may not have reached it.
    void sync(ws_client& ws) {
        const std::string id = "probe-" + std::to_string(++probes);
        register_worker(id);
        ws.until(
            [&](const json::object& e) {
                return str(e.at("event")) == "worker_joined" && str(e.at("worker_id")) == id;
            },
            "worker_joined of " + id);
    }
    std::unique_ptr<ws_client> subscribe(const std::string& target = "/ws/events") {
        auto ws = std::make_unique<ws_client>(port, target);
        BOOST_REQUIRE_MESSAGE(ws->open(), "WebSocket " << target << ": " << ws->error());
        return ws;
    }
};

std::vector<std::string> kinds_of(const std::vector<json::object>& events, const std::string& job_id) {
    std::vector<std::string> out;
    for (const auto& e : events)
        if (e.contains("job_id") && str(e.at("job_id")) == job_id) out.push_back(str(e.at("event")));
    return out;
}

auto is_event(const std::string& kind, const std::string& job_id) {
    return [kind, job_id](const json::object& e) {
        return str(e.at("event")) == kind && e.contains("job_id") && str(e.at("job_id")) == job_id;
    };
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(serve_events, server_fixture)

BOOST_AUTO_TEST_CASE(lifecycle_of_an_in_process_job_in_order) {
    start(config{.workers = "mock:1"});
    auto ws = subscribe();
    sync(*ws);
    const std::string id = submit(R"({"id":"j1","service_required":"mock","payload":{"delay_ms":50}})");
    std::vector<json::object> seen;
    ws->until(is_event("completed", id), "completed of " + id, &seen);

    const std::vector<std::string> want{"submitted", "assigned", "progress", "progress", "progress", "completed"};
    const auto got = kinds_of(seen, id);
    BOOST_TEST(got == want, boost::test_tools::per_element());
    std::vector<std::int64_t> progress;
    for (const auto& e : seen) {
        if (!e.contains("job_id") || str(e.at("job_id")) != id) continue;
        BOOST_TEST(str(e.at("service_required")) == "mock");
        BOOST_TEST(e.at("at").is_string());
        const std::string kind = str(e.at("event"));
        if (kind == "assigned" || kind == "progress" || kind == "completed")
            BOOST_TEST(str(e.at("worker_id")) == kMockWorker, "event " << json::serialize(e));
        if (kind == "progress") progress.push_back(e.at("progress").as_int64());
    }
    BOOST_TEST(progress == (std::vector<std::int64_t>{10, 80, 100}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(job_id_filter_sees_only_that_job) {
    start(config{.workers = "mock:1"});
    auto filtered = subscribe("/ws/events?job_id=mine");
    auto all = subscribe();  // connected after the filtered one
    sync(*all);
    // Another job runs to the end first, then ours: every event of the other one is queued
    // for the filtered client (if it let them through) before any of ours.
    const std::string other = submit(R"({"id":"other","service_required":"mock","payload":{"delay_ms":10}})");
    all->until(is_event("completed", other), "completed of other");
    register_worker("ext-w");
    submit(R"({"id":"mine","service_required":"mock","payload":{"delay_ms":10}})");

    std::vector<json::object> seen;
    filtered->until(is_event("completed", "mine"), "completed of mine", &seen);
    for (const auto& e : seen)
        BOOST_TEST((e.contains("job_id") && str(e.at("job_id")) == "mine"),
                   "filtered client got " << json::serialize(e));
    BOOST_TEST(kinds_of(seen, "mine").front() == "submitted");
    BOOST_TEST(kinds_of(seen, "mine").back() == "completed");
}

BOOST_AUTO_TEST_CASE(type_filter_sees_only_that_service_required) {
    start();
    auto typed = subscribe("/ws/events?type=ext2");
    auto all = subscribe();
    sync(*all);
    submit(R"({"id":"a","service_required":"ext"})");
    submit(R"({"id":"b","service_required":"ext2"})");
    all->until(is_event("submitted", "b"), "submitted of b");
    auto first = typed->next();
    BOOST_REQUIRE_MESSAGE(first, "the ?type=ext2 client got nothing");
    BOOST_TEST(str(first->at("job_id")) == "b", "got " << json::serialize(*first));
    BOOST_TEST(str(first->at("service_required")) == "ext2");
}

BOOST_AUTO_TEST_CASE(retried_and_cancelled_events) {
    start(config{.backoff_ms = 0, .backoff_max_ms = 0});
    auto ws = subscribe();
    sync(*ws);
    register_worker("w1");
    ws->until([](const json::object& e) { return str(e.at("event")) == "worker_joined"; }, "worker_joined of w1");
    const std::string id = submit(R"({"id":"r1","service_required":"ext","max_retries":3})");
    std::string token = claim_now("w1");
    auto r = post("/api/jobs/" + id + "/fail", R"({"lease_token":")" + token + R"(","error":"flaky"})");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    std::vector<json::object> seen;
    auto retried = ws->until(is_event("retried", id), "retried", &seen);
    BOOST_TEST(str(retried.at("worker_id")) == "w1");
    BOOST_TEST(str(retried.at("message")) == "flaky");
    ws->until(is_event("requeued", id), "requeued", &seen);
    wait_status(id, "pending");
    token = claim_now("w1");
    ws->until(is_event("assigned", id), "second assigned", &seen);

    r = post("/api/jobs/" + id + "/cancel", "");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    auto cancelled = ws->until(is_event("cancelled", id), "cancelled", &seen);
    BOOST_TEST(str(cancelled.at("worker_id")) == "w1");
    const std::vector<std::string> want{"submitted", "assigned", "retried", "requeued", "assigned", "cancelled"};
    BOOST_TEST(kinds_of(seen, id) == want, boost::test_tools::per_element());

    // A pending job cancelled: no worker.
    submit(R"({"id":"p1","service_required":"ext2"})");
    BOOST_REQUIRE(post("/api/jobs/p1/cancel", "").status == 200);
    // (w1 is not waiting, so p1 stayed pending until cancelled.)
    auto c2 = ws->until(is_event("cancelled", "p1"), "cancelled of p1");
    BOOST_TEST(!c2.contains("worker_id"));
}

BOOST_AUTO_TEST_CASE(in_process_retry_and_final_failure) {
    start(config{.workers = "mock:1"});
    auto ws = subscribe();
    sync(*ws);
    const std::string id =
        submit(R"({"id":"sf","service_required":"mock","max_retries":2,"payload":{"delay_ms":10,"should_fail":true}})");
    std::vector<json::object> seen;
    ws->until(is_event("failed", id), "failed", &seen);
    const std::vector<std::string> want{"submitted", "assigned", "progress", "progress", "retried",
                                        "requeued",  "assigned", "progress", "progress", "failed"};
    BOOST_TEST(kinds_of(seen, id) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(worker_joined_and_left_for_an_external_worker) {
    start(config{.worker_timeout_ms = 400});
    auto ws = subscribe();
    sync(*ws);
    register_worker("ext-1");
    auto joined =
        ws->until([](const json::object& e) { return str(e.at("event")) == "worker_joined"; }, "worker_joined");
    BOOST_TEST(str(joined.at("worker_id")) == "ext-1");
    BOOST_TEST(!joined.contains("job_id"));
    BOOST_REQUIRE(call(verb::delete_, "/api/workers/ext-1").status == 200);
    auto left = ws->until(
        [](const json::object& e) { return str(e.at("event")) == "worker_left" && str(e.at("worker_id")) == "ext-1"; },
        "worker_left of ext-1");
    BOOST_TEST(str(left.at("worker_id")) == "ext-1");

    // A worker that goes silent leaves too (worker timeout), and its job is retried.
    register_worker("ext-2");
    submit(R"({"id":"held","service_required":"ext"})");
    claim_now("ext-2");
    std::vector<json::object> seen;
    ws->until(
        [](const json::object& e) { return str(e.at("event")) == "worker_left" && str(e.at("worker_id")) == "ext-2"; },
        "worker_left of the silent worker", &seen);
    BOOST_TEST(kinds_of(seen, "held").back() == "retried");
}

BOOST_AUTO_TEST_CASE(unknown_websocket_path_is_refused) {
    start();
    for (const char* target : {"/ws/nope", "/ws", "/ws/events/more", "/api/jobs"}) {
        BOOST_TEST_CONTEXT(target) {
            ws_client ws(port, target);
            BOOST_TEST(!ws.open());
            BOOST_TEST(ws.refused_status() == 404u, "error " << ws.error());
        }
    }
    // The server is fine, and /ws/events still works.
    auto ws = subscribe();
    sync(*ws);
}

BOOST_AUTO_TEST_SUITE_END()
