// server_fixture: an in-process `jobrouter serve` for the integration tests (serve_api_test,
// serve_explain_test). It builds a server on a free loopback port from a mapping given as text
// (worker types `mock`, run in process, and `ext`, for external workers), runs its io_context
// on a background thread with a time limit, and gives the test thread HTTP helpers: the
// dispatcher lives on the io thread and is never touched from the test thread. Asynchronous
// outcomes are awaited by bounded polling; nothing asserts on durations.
//
// Include it after BOOST_TEST_MODULE and <boost/test/unit_test.hpp>, in one test file only.
#pragma once

#include "app/http_client.hpp"
#include "core/service_mapping.hpp"
#include "core/workers_spec.hpp"
#include "redis/connection.hpp"
#include "server/local_workers.hpp"
#include "server/redis_job_service.hpp"
#include "server/server.hpp"
#include "strategies/strategy_registry.hpp"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
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

// The store the fixture's servers use unless a test says otherwise: "" (memory), or a
// redis:// URL that a test module sets once (serve_api_redis_test runs serve_api's cases on it).
inline std::string& default_store_url() {
    static std::string url;
    return url;
}

struct config {
    time_ms lease_ms = 3000;
    time_ms backoff_ms = 150;
    time_ms backoff_max_ms = 600;
    time_ms worker_timeout_ms = 30000;
    std::size_t max_body_bytes = 64 * 1024;
    std::chrono::milliseconds max_wait{30000};
    std::string workers = "";  ///< a WORKERS list for in-process workers; "" = none
    std::function<void(server_settings&)> tune = {};  ///< last word on the settings (limits, tokens)
    std::string store_url = default_store_url();  ///< "" = the memory store; redis://... = the Redis store
    bool flush_store = true;                     ///< with a Redis store: FLUSHDB before starting
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
        if (c.tune) c.tune(settings);
        if (c.store_url.empty()) {
            srv = std::make_unique<server>(io, *mapping, *strat, settings, clock);
        } else {
            auto url = redis::parse_redis_url(c.store_url);
            BOOST_REQUIRE_MESSAGE(url, "store url: " << (url ? "" : url.error().text()));
            if (c.flush_store) {
                auto conn = redis::connection::open(*url, 5s);
                BOOST_REQUIRE_MESSAGE(conn, "redis: " << (conn ? "" : conn.error().text()));
                conn->command({"FLUSHDB"});
            }
            redis_service_options ro;
            ro.dispatching = settings.dispatching;
            auto service = redis_job_service::create(io, *mapping, *strat, *url, ro, clock, make_origin(kMachine));
            BOOST_REQUIRE_MESSAGE(service, "redis store: " << (service ? "" : service.error().text()));
            srv = std::make_unique<server>(io, settings, std::move(*service));
        }
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

}  // namespace
