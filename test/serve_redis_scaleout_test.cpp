// serve_redis_scaleout: issue #5's test. Two `jobrouter serve` processes (the real binary) on
// one redis-server (AOF, fsync at every write), 4 external workers on each (threads of this
// test speaking HTTP to their own process), 2,000 jobs submitted half to each process, and
// failures drawn at random per attempt (retryable, max_retries 2: a job fails for good when
// both its attempts fail). Redis is killed (SIGKILL) and restarted from its AOF mid-run.
//
// What must hold at the end, read back from the store:
// - none lost: every acknowledged job exists and is final (completed or failed);
// - at most one worker at a time: each claim of a job hands out a new attempt number, so no
//   two claims of one job carry the same `attempts`;
// - exactly once: a completed job was completed by one report (the worker's one 200, or one
//   report whose reply was lost when Redis died and whose retry found it completed), with that
//   attempt's result; a failed job failed on its last allowed attempt;
// - every 503 named the Redis store and nothing else was refused.
//
// Bounded: every HTTP step has a deadline, the workers stop at a global deadline, and nothing
// asserts a duration (the elapsed time is printed for information).
#define BOOST_TEST_MODULE serve_redis_scaleout

#include <boost/test/unit_test.hpp>

#include "app/http_client.hpp"
#include "test/support/redis_server.hpp"
#include "test/support/serve_child.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace jobrouter;
using namespace std::chrono_literals;
namespace json = boost::json;
using jobrouter::test::scratch_dir;
using jobrouter::test::serve_child;

namespace {

constexpr int kJobs = 2000;
constexpr int kWorkersPerProcess = 4;
constexpr int kMaxRetries = 2;
constexpr auto kRunLimit = 150s;  // the whole run; the workers stop here whatever happened

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

std::optional<json::object> object_of(const std::string& body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return v.get_object();
}

// Whether attempt `attempt` of job `id` fails: a fixed hash, so a run is reproducible (~30%).
bool attempt_fails(const std::string& id, std::int64_t attempt) {
    std::uint64_t h = 1469598103934665603ull;
    for (char ch : id + "#" + std::to_string(attempt)) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
    return h % 10 < 3;
}

struct report_record {
    std::int64_t attempt = 0;
    bool complete = false;  ///< else fail
    unsigned status = 0;    ///< the final HTTP status of the report (after retries of 503s)
    bool lost_reply = false;  ///< a 503 "did not answer" came first: the report may have been applied
};

struct ledger {
    std::mutex m;
    std::map<std::string, std::vector<std::int64_t>> claims;  ///< job id -> attempts handed out
    std::map<std::string, std::vector<report_record>> reports;
    std::vector<std::string> unexpected;  ///< anything a worker did not expect, for the failure message
    std::atomic<int> finished{0};         ///< reports answered 200 that ended a job or an attempt
    void note(const std::string& what) {
        std::lock_guard lock(m);
        if (unexpected.size() < 20) unexpected.push_back(what);
    }
};

bool store_refusal(const http_reply& r) { return r.status == 503 && r.body.find("store_unavailable") != std::string::npos; }

// One external worker: claims (long-poll), then fails or completes each attempt.
void run_worker(const std::string& port, const std::string& id, ledger& book, const std::atomic<bool>& stop,
                std::chrono::steady_clock::time_point deadline) {
    http_client c("127.0.0.1", port, 10s);
    auto registered = c.post("/api/workers", R"({"worker_id":")" + id + R"(","worker_type":"simulation"})");
    if (!registered || registered->status != 201) {
        book.note(id + ": register failed");
        return;
    }
    while (!stop && std::chrono::steady_clock::now() < deadline) {
        auto r = c.post("/api/workers/" + id + "/claim?wait_ms=300");
        if (!r) {
            std::this_thread::sleep_for(20ms);
            continue;
        }
        if (r->status == 204) continue;
        if (store_refusal(*r)) {
            std::this_thread::sleep_for(50ms);
            continue;
        }
        if (r->status == 404) {  // Redis lost the worker? It has an AOF: this must not happen
            book.note(id + ": claim 404 " + r->body);
            auto again = c.post("/api/workers", R"({"worker_id":")" + id + R"(","worker_type":"simulation"})");
            (void)again;
            continue;
        }
        auto o = r->status == 200 ? object_of(r->body) : std::nullopt;
        if (!o) {
            book.note(id + ": claim " + std::to_string(r->status) + " " + r->body.substr(0, 200));
            continue;
        }
        const std::string job = str(o->at("job").at("id"));
        const std::int64_t attempt = o->at("job").at("attempts").to_number<std::int64_t>();
        const std::string token = str(o->at("lease_token"));
        {
            std::lock_guard lock(book.m);
            book.claims[job].push_back(attempt);
        }
        report_record rec;
        rec.attempt = attempt;
        rec.complete = !attempt_fails(job, attempt);
        const std::string body =
            rec.complete ? R"({"lease_token":")" + token + R"(","result":{"attempt":)" + std::to_string(attempt) + "}}"
                         : R"({"lease_token":")" + token + R"(","error":"attempt )" + std::to_string(attempt) + R"( failed","retryable":true})";
        const std::string target = "/api/jobs/" + job + (rec.complete ? "/complete" : "/fail");
        for (;;) {
            auto rep = c.post(target, body);
            if (!rep) {
                rec.lost_reply = true;  // the connection broke: the report may have been applied
                std::this_thread::sleep_for(20ms);
                continue;
            }
            if (store_refusal(*rep)) {
                if (rep->body.find("did not answer") != std::string::npos) rec.lost_reply = true;
                if (std::chrono::steady_clock::now() > deadline) break;
                std::this_thread::sleep_for(50ms);
                continue;
            }
            rec.status = rep->status;
            break;
        }
        if (rec.status == 200) ++book.finished;
        std::lock_guard lock(book.m);
        book.reports[job].push_back(rec);
    }
}

std::vector<std::string> serve_args(const std::string& port_file, const std::string& store, const std::string& machine) {
    return {"serve",         "--listen",  "127.0.0.1:0", "--port-file",        port_file, "--machine-id",   machine,
            "--store",       store,       "--workers",   "none",               "--lease-ms", "5000", "--retry-backoff-ms", "0",
            "--retry-backoff-max-ms", "0", "--worker-timeout-ms", "60000", "--max-pending-jobs", "100000",
            "--log-level",   "warn"};
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_processes_four_workers_each_2000_jobs_redis_restarted_midway) {
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + kRunLimit;
    jobrouter::test::redis_server redis(redis::local_server_options{.append_only = true});
    scratch_dir dir;
    const std::string store = redis.url(0);
    const std::string port_file_a = (dir.path / "port-a").string(), port_file_b = (dir.path / "port-b").string();
    serve_child a(dir, serve_args(port_file_a, store, "scale-a"));
    serve_child b(dir, serve_args(port_file_b, store, "scale-b"));
    const std::string ports[2] = {a.wait_port(port_file_a), b.wait_port(port_file_b)};

    ledger book;
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int p = 0; p < 2; ++p)
        for (int i = 0; i < kWorkersPerProcess; ++i)
            workers.emplace_back(run_worker, ports[p], std::string(p == 0 ? "wa" : "wb") + std::to_string(i), std::ref(book),
                                 std::cref(stop), deadline);

    // Submit half to each process; a 503 (Redis restarting) is retried with the same body,
    // which the id makes idempotent (201 the first time, 200 when it had been stored).
    http_client submit_to[2] = {http_client("127.0.0.1", ports[0], 10s), http_client("127.0.0.1", ports[1], 10s)};
    std::vector<std::string> ids;
    bool restarted = false;
    int submit_503 = 0;
    for (int n = 0; n < kJobs; ++n) {
        char id[16];
        std::snprintf(id, sizeof id, "s%04d", n);
        ids.push_back(id);
        const std::string body = std::string(R"({"id":")") + id + R"(","service_required":"simulation","max_retries":)" +
                                 std::to_string(kMaxRetries) + R"(,"payload":{"n":)" + std::to_string(n) + "}}";
        for (;;) {
            auto r = submit_to[n % 2].post("/api/jobs", body);
            BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "submissions did not finish by the deadline");
            if (r && (r->status == 201 || r->status == 200)) break;
            if (r && store_refusal(*r)) {
                ++submit_503;
                std::this_thread::sleep_for(50ms);
                continue;
            }
            BOOST_REQUIRE_MESSAGE(!r, "submit " << id << " -> " << r->status << " " << r->body);
            std::this_thread::sleep_for(20ms);
        }
        // Midway: Redis dies (kill -9) and comes back from its AOF, with work in flight.
        if (n == kJobs / 2 && !restarted) {
            redis.stop(/*hard=*/true);
            std::this_thread::sleep_for(300ms);
            redis.restart();
            restarted = true;
        }
    }

    const double submit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // Wait until every job is final (read from the store through process A), bounded.
    http_client reader("127.0.0.1", ports[0], 10s);
    std::size_t final_jobs = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        std::size_t n = 0;
        bool ok = true;
        for (const char* s : {"completed", "failed"}) {
            auto r = reader.get(std::string("/api/jobs?limit=1&status=") + s);
            auto o = r && r->status == 200 ? object_of(r->body) : std::nullopt;
            if (!o) {
                ok = false;
                break;
            }
            n += static_cast<std::size_t>(o->at("total").to_number<std::int64_t>());
        }
        if (ok) final_jobs = n;
        if (final_jobs >= static_cast<std::size_t>(kJobs)) break;
        std::this_thread::sleep_for(200ms);
    }
    stop = true;
    for (auto& t : workers) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "serve_redis_scaleout: " << kJobs << " jobs, " << final_jobs << " final, in " << seconds
              << " s (submissions done after " << submit_seconds << " s; "
              << submit_503 << " submissions answered 503 while Redis restarted)\n";
    {
        std::lock_guard lock(book.m);
        std::string notes;
        for (const auto& u : book.unexpected) notes += "\n  " + u;
        BOOST_TEST(book.unexpected.empty(), "workers saw:" << notes);
    }
    BOOST_REQUIRE_MESSAGE(final_jobs == static_cast<std::size_t>(kJobs), "only " << final_jobs << " of " << kJobs
                                                                                  << " jobs are final by the deadline");

    // Every job, from the store.
    int completed = 0, failed = 0;
    for (const auto& id : ids) {
        auto r = reader.get("/api/jobs/" + id);
        BOOST_REQUIRE_MESSAGE(r && r->status == 200, "job " << id << " is lost: " << (r ? r->body : r.error().text()));
        const json::object j = object_of(r->body)->at("job").get_object();
        const std::string status = str(j.at("status"));
        const std::int64_t attempts = j.at("attempts").to_number<std::int64_t>();
        std::lock_guard lock(book.m);
        // At most one worker at a time: every claim handed out a new attempt number.
        auto claims = book.claims[id];
        std::sort(claims.begin(), claims.end());
        BOOST_TEST((std::adjacent_find(claims.begin(), claims.end()) == claims.end()),
                   id << " was handed out twice under one attempt number");
        BOOST_TEST(!claims.empty(), id << " was never claimed");
        const auto& reps = book.reports[id];
        int ok_completes = 0, uncertain_completes = 0;
        for (const auto& rep : reps) {
            if (rep.complete && rep.status == 200) ++ok_completes;
            if (rep.complete && rep.status == 409 && rep.lost_reply) ++uncertain_completes;
        }
        if (status == "completed") {
            ++completed;
            // Exactly once: one report completed it (its reply may have been lost in the restart).
            BOOST_TEST(ok_completes + (ok_completes == 0 ? std::min(uncertain_completes, 1) : 0) == 1,
                       id << " completed by " << ok_completes << " acknowledged reports");
            BOOST_TEST(ok_completes <= 1, id << " completed twice");
            BOOST_TEST(j.at("result").at("attempt").to_number<std::int64_t>() == attempts, id << ": " << json::serialize(j));
            BOOST_TEST(!attempt_fails(id, attempts), id << " completed on an attempt that failed");
        } else {
            ++failed;
            BOOST_TEST(status == "failed", id << " is " << status);
            BOOST_TEST(attempts == kMaxRetries, id << " failed after " << attempts << " attempts");
            BOOST_TEST(ok_completes == 0, id << " failed although a completion was acknowledged");
        }
    }
    std::cout << "serve_redis_scaleout: " << completed << " completed, " << failed << " failed after " << kMaxRetries
              << " attempts\n";
    BOOST_TEST(completed + failed == kJobs);
    BOOST_TEST(a.running());
    BOOST_TEST(b.running());
}
