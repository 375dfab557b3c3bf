// serve_redis_recovery: the real binary on a redis-server with an AOF fsynced at every write
// (appendonly yes, appendfsync always). Jobs are submitted and external workers (the test
// thread, over HTTP) claim some; serve is killed with SIGKILL and started again on the same
// Redis. Every acknowledged job must be there in its state, a job whose lease ran out while
// serve was down must be requeued (attempt counted), and the worker that kept its job must
// still complete it with the lease token the first process gave it. Then Redis itself is
// killed with SIGKILL and restarted from its AOF: serve answers 503 while it is down,
// reconnects by itself, and nothing acknowledged is lost. Every wait is bounded; nothing
// asserts a duration.
#define BOOST_TEST_MODULE serve_redis_recovery

#include <boost/test/unit_test.hpp>

#include "app/http_client.hpp"
#include "test/support/redis_server.hpp"
#include "test/support/serve_child.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>

using namespace jobrouter;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr auto kDeadline = 15s;

json::object parse_object(const std::string& body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    BOOST_REQUIRE_MESSAGE(!ec && v.is_object(), "not a JSON object: " << body);
    return v.get_object();
}

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

http_reply must(result<http_reply> r, const std::string& what) {
    BOOST_REQUIRE_MESSAGE(r, what << ": " << (r ? "" : r.error().text()));
    return *r;
}

json::object job(http_client& c, const std::string& id) {
    auto r = must(c.get("/api/jobs/" + id), "GET job " + id);
    BOOST_REQUIRE_MESSAGE(r.status == 200, "GET job " << id << " -> " << r.status << " " << r.body);
    return parse_object(r.body).at("job").get_object();
}

// Polls until `pred` holds (bounded); returns the job last seen.
json::object wait_job(http_client& c, const std::string& id, const std::function<bool(const json::object&)>& pred,
                      const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    json::object last;
    while (std::chrono::steady_clock::now() < deadline) {
        auto r = c.get("/api/jobs/" + id);
        if (r && r->status == 200) {
            last = parse_object(r->body).at("job").get_object();
            if (pred(last)) return last;
        }
        std::this_thread::sleep_for(20ms);
    }
    BOOST_FAIL("job " << id << " never " << what << "; last seen " << json::serialize(last));
    return last;
}

struct claimed {
    std::string id, token;
};

claimed claim(http_client& c, const std::string& worker) {
    auto r = must(c.post("/api/workers/" + worker + "/claim?wait_ms=2000"), "claim");
    BOOST_REQUIRE_MESSAGE(r.status == 200, "claim by " << worker << " -> " << r.status << " " << r.body);
    auto o = parse_object(r.body);
    return {str(o.at("job").at("id")), str(o.at("lease_token"))};
}

std::vector<std::string> serve_args(const std::string& port_file, const std::string& store) {
    return {"serve",       "--listen",  "127.0.0.1:0", "--port-file",       port_file, "--machine-id",     "recovery",
            "--store",     store,       "--workers",   "none",              "--lease-ms", "4000", "--retry-backoff-ms", "0",
            "--retry-backoff-max-ms", "0", "--worker-timeout-ms", "60000", "--store-timeout-ms", "2000"};
}

}  // namespace

using jobrouter::test::scratch_dir;
using jobrouter::test::serve_child;

BOOST_AUTO_TEST_CASE(kill_9_serve_then_redis_and_every_acknowledged_job_is_there) {
    jobrouter::test::redis_server redis(redis::local_server_options{.append_only = true});
    scratch_dir dir;
    const std::string store = redis.url(0);

    // ---- the first serve: jobs in every state -------------------------------------------------
    std::map<std::string, std::string> expected;  // job id -> status after the restart
    claimed kept, lost;
    {
        const std::string port_file = (dir.path / "port-1").string();
        serve_child first(dir, serve_args(port_file, store));
        http_client c("127.0.0.1", first.wait_port(port_file), 10s);
        for (const char* w : {"keeper", "leaver"}) {
            auto r = must(c.post("/api/workers", std::string(R"({"worker_id":")") + w + R"(","worker_type":"simulation"})"), "register");
            BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
        }
        for (int i = 0; i < 8; ++i) {
            const std::string id = "r" + std::to_string(i);
            auto r = must(c.post("/api/jobs", R"({"id":")" + id + R"(","service_required":"simulation","priority":)" +
                                                  std::to_string(90 - i) + R"(,"payload":{"n":)" + std::to_string(i) + "}}"),
                          "submit");
            BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
            expected[id] = "pending";
        }
        // r0: completed; r1: cancelled; r2: held by `keeper` (in progress); r3: held by `leaver`,
        // who goes silent (its lease runs out while serve is down).
        claimed done = claim(c, "keeper");
        BOOST_REQUIRE(done.id == "r0");
        BOOST_REQUIRE(must(c.post("/api/jobs/r0/complete", R"({"lease_token":")" + done.token + R"(","result":{"ok":1}})"), "complete").status == 200);
        expected["r0"] = "completed";
        BOOST_REQUIRE(must(c.post("/api/jobs/r1/cancel", ""), "cancel").status == 200);
        expected["r1"] = "cancelled";
        kept = claim(c, "keeper");
        BOOST_REQUIRE(kept.id == "r2");
        BOOST_REQUIRE(must(c.post("/api/jobs/r2/progress", R"({"lease_token":")" + kept.token + R"(","progress":30})"), "progress").status == 200);
        expected["r2"] = "in_progress";
        lost = claim(c, "leaver");
        BOOST_REQUIRE(lost.id == "r3");
        expected.erase("r3");  // checked on its own: its lease runs out while serve is down
        first.kill_now();  // kill -9
    }

    // ---- the second serve on the same Redis --------------------------------------------------
    const std::string port_file = (dir.path / "port-2").string();
    serve_child second(dir, serve_args(port_file, store));
    http_client c("127.0.0.1", second.wait_port(port_file), 10s);
    for (const auto& [id, status] : expected) {
        auto j = job(c, id);
        BOOST_TEST(str(j.at("status")) == status, id << " after the restart: " << json::serialize(j));
    }
    BOOST_TEST(str(job(c, "r0").at("result").at("ok")) == "1");
    // r3: still the leaver's until its lease runs out (it may have already).
    const std::string r3 = str(job(c, "r3").at("status"));
    BOOST_TEST((r3 == "assigned" || r3 == "pending"), "r3 after the restart: " << r3);
    // The keeper heartbeats through the new process; the leaver stays silent, so r3's lease
    // runs out and it is requeued with the attempt counted.
    auto j3 = wait_job(
        c, "r3",
        [&](const json::object& j) {
            (void)c.post("/api/workers/keeper/heartbeat", "{}");
            return str(j.at("status")) == "pending";
        },
        "was requeued after its lease ran out");
    BOOST_TEST(j3.at("attempts") == json::value(1));
    BOOST_TEST(str(j3.at("error")) == "lease expired");
    BOOST_TEST(str(job(c, "r2").at("status")) == "in_progress");
    // The token the first process gave is still r2's lease: the second process accepts it.
    auto r = must(c.post("/api/jobs/r2/complete", R"({"lease_token":")" + kept.token + R"(","result":"after restart"})"), "complete r2");
    BOOST_TEST(r.status == 200, r.body);
    BOOST_TEST(str(job(c, "r2").at("status")) == "completed");
    // The leaver's late report is refused (409) and changes nothing.
    r = must(c.post("/api/jobs/r3/complete", R"({"lease_token":")" + lost.token + R"(","result":"late"})"), "late complete");
    BOOST_TEST(r.status == 409, r.body);
    expected["r2"] = "completed";
    expected["r3"] = "pending";

    // ---- Redis killed (-9) and restarted from its AOF ------------------------------------------
    redis.stop(/*hard=*/true);
    r = must(c.post("/api/jobs", R"({"id":"while-down","service_required":"simulation"})"), "submit while Redis is down");
    BOOST_TEST(r.status == 503, r.body);
    BOOST_TEST(r.body.find("store_unavailable") != std::string::npos, r.body);
    BOOST_TEST(r.body.find(redis.url(0).substr(8)) != std::string::npos, "the 503 names the Redis URL: " << r.body);
    redis.restart();
    // serve reconnects by itself (back-off); then every acknowledged job is there, and the one
    // refused while Redis was down is not.
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    http_reply after;
    do {
        std::this_thread::sleep_for(50ms);
        after = must(c.get("/api/jobs/r0"), "GET after the Redis restart");
    } while (after.status == 503 && std::chrono::steady_clock::now() < deadline);
    BOOST_REQUIRE_MESSAGE(after.status == 200, "serve did not reconnect to the restarted Redis: " << after.status << " " << after.body);
    for (const auto& [id, status] : expected) {
        auto j = job(c, id);
        BOOST_TEST(str(j.at("status")) == status, id << " after the Redis restart: " << json::serialize(j));
    }
    BOOST_TEST(must(c.get("/api/jobs/while-down"), "GET while-down").status == 404);
    // And it still works: the keeper takes the next job.
    auto next = claim(c, "keeper");
    BOOST_TEST(next.id == "r3");
    BOOST_TEST(second.running());
}

BOOST_AUTO_TEST_CASE(an_unreachable_redis_at_start_exits_1_naming_it) {
    scratch_dir dir;
    const std::string port_file = (dir.path / "port").string();
    // Port 1 on loopback: nothing listens there.
    serve_child c(dir, serve_args(port_file, "redis://127.0.0.1:1/3"));
    auto code = c.exit_code();
    BOOST_REQUIRE_MESSAGE(code.has_value(), "serve did not exit; its stderr:\n" << c.stderr_text());
    BOOST_TEST(*code == 1);
    const std::string err = c.stderr_text();
    BOOST_TEST(err.find("--store") != std::string::npos, err);
    BOOST_TEST(err.find("127.0.0.1:1/3") != std::string::npos, err);
}
