// serve_worker_crash: an external worker killed with SIGKILL in the middle of a job, against the
// real binary (`jobrouter serve`, memory store, no in-process workers). The worker is a child
// process of the test (fork) that speaks the HTTP API: it registers, long-polls a claim, reports
// progress (the job is in progress), hands its job id and lease token to the test through a
// pipe, and heartbeats until it is killed. Then:
// - its lease expires, the job is retried and a second worker completes it exactly once;
// - the dead worker's token, replayed as a late report (progress, complete, fail), gets 409 and
//   changes nothing, whether the job is held by the second worker or already completed;
// - attempts, the error and /metrics say what happened;
// - with a long lease, --worker-timeout-ms removes the silent worker and its job is retried;
// - on the job's last attempt, the expired lease fails it for good.
// serve killed with -9 on the memory store loses its state by design and is not tested here.
// Every wait is bounded; nothing asserts a duration.
#define BOOST_TEST_MODULE serve_worker_crash
#include "app/http_client.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "test/support/child_process.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <utility>

using namespace jobrouter;
using namespace jobrouter::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr auto kDeadline = 20s;  // a claim, a requeue, a status change must show within this

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

json::value parse_body(const std::string& body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "not JSON (" << ec.message() << "): " << body);
    return v;
}

http_reply must(result<http_reply> r, const std::string& what) {
    BOOST_REQUIRE_MESSAGE(r, what << ": " << (r ? "" : r.error().text()));
    return *r;
}

std::string lease_body(const std::string& token, const std::string& extra = "") {
    return R"({"lease_token":")" + token + "\"" + (extra.empty() ? "" : "," + extra) + "}";
}

// ---- the worker process -------------------------------------------------------------------

// The child's whole life; its exit code says where it stopped (it never returns to the test).
int run_worker_child(const std::string& port, const std::string& worker_id, int report_fd) {
    http_client c("127.0.0.1", port, 10s);
    auto reg = c.post("/api/workers", R"({"worker_id":")" + worker_id + R"(","worker_type":"simulation"})");
    if (!reg || reg->status != 201) return 10;
    auto claim = c.post("/api/workers/" + worker_id + "/claim?wait_ms=20000", "{}");
    if (!claim || claim->status != 200) return 11;
    boost::system::error_code ec;
    const json::value v = json::parse(claim->body, ec);
    if (ec || !v.is_object()) return 12;
    const std::string job_id = str(v.at("job").at("id"));
    const std::string token = str(v.at("lease_token"));
    auto progress = c.post("/api/jobs/" + job_id + "/progress", lease_body(token, R"("progress":30,"message":"working")"));
    if (!progress || progress->status != 200) return 13;
    const std::string line = job_id + " " + token + "\n";
    if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 14;
    // Mid-job: alive and heartbeating until killed (or, if never killed, for a bounded time).
    const auto stop = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < stop) {
        (void)c.post("/api/workers/" + worker_id + "/heartbeat", "{}");
        std::this_thread::sleep_for(100ms);
    }
    return 0;
}

// A forked child running run_worker_child. Killed and reaped in the destructor if still alive.
class worker_process {
public:
    worker_process(const std::string& port, const std::string& worker_id) {
        int fds[2];
        BOOST_REQUIRE(::pipe(fds) == 0);
        pid_ = ::fork();
        BOOST_REQUIRE_MESSAGE(pid_ >= 0, "fork failed");
        if (pid_ == 0) {
            ::close(fds[0]);
            int rc = 20;
            try {
                rc = run_worker_child(port, worker_id, fds[1]);
            } catch (...) {
            }
            ::_exit(rc);  // never back into the test framework
        }
        ::close(fds[1]);
        read_fd_ = fds[0];
    }
    ~worker_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (read_fd_ >= 0) ::close(read_fd_);
    }
    worker_process(const worker_process&) = delete;
    worker_process& operator=(const worker_process&) = delete;

    struct claimed {
        std::string job_id, token;
    };
    // Waits for the child's report that it holds a job in progress.
    claimed wait_mid_job() {
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + kDeadline;
        while (line.find('\n') == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            BOOST_REQUIRE_MESSAGE(left.count() > 0, "the worker process never reported a job in progress");
            pollfd p{read_fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char buf[256];
            const ssize_t n = ::read(read_fd_, buf, sizeof buf);
            if (n <= 0) {
                int status = 0;
                ::waitpid(pid_, &status, 0);
                pid_ = -1;
                BOOST_FAIL("the worker process exited before holding a job, with code "
                           << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << " (see run_worker_child)");
            }
            line.append(buf, static_cast<std::size_t>(n));
        }
        const auto space = line.find(' ');
        BOOST_REQUIRE(space != std::string::npos);
        return {line.substr(0, space), line.substr(space + 1, line.find('\n') - space - 1)};
    }
    // SIGKILL, and reaped: the process is gone when this returns.
    void kill9() {
        BOOST_REQUIRE(pid_ > 0);
        BOOST_REQUIRE(::kill(pid_, SIGKILL) == 0);
        int status = 0;
        BOOST_REQUIRE(::waitpid(pid_, &status, 0) == pid_);
        BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
    int read_fd_ = -1;
};

// ---- serve and its API ------------------------------------------------------------------

struct serve_under_test {
    temp_dir dir;
    std::optional<child_process> proc;
    std::string port;
    std::optional<http_client> client;

    // serve with no in-process workers, the default mapping, and the given lease and timeout.
    serve_under_test(const std::string& lease_ms, const std::string& worker_timeout_ms) {
        const auto port_file = dir.path / "port";
        proc.emplace(dir, std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--port-file", port_file.string(),
                                                   "--workers", "none", "--machine-id", "crash", "--lease-ms", lease_ms,
                                                   "--retry-backoff-ms", "50", "--retry-backoff-max-ms", "50",
                                                   "--worker-timeout-ms", worker_timeout_ms});
        port = wait_port(*proc, port_file);
        client.emplace("127.0.0.1", port, 30s);
    }

    http_reply post(const std::string& target, const std::string& body = "{}") {
        return must(client->post(target, body), "POST " + target);
    }
    json::object job(const std::string& id) {
        auto r = must(client->get("/api/jobs/" + id), "GET job");
        BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
        return parse_body(r.body).at("job").get_object();
    }
    json::object wait_status(const std::string& id, const std::string& status) {
        const auto deadline = std::chrono::steady_clock::now() + kDeadline;
        json::object last;
        while (std::chrono::steady_clock::now() < deadline) {
            last = job(id);
            if (str(last.at("status")) == status) return last;
            std::this_thread::sleep_for(10ms);
        }
        BOOST_FAIL("job " << id << " never became " << status << "; last seen " << json::serialize(last));
        return last;
    }
    void submit(const std::string& body) {
        auto r = post("/api/jobs", body);
        BOOST_REQUIRE_MESSAGE(r.status == 201, "submit -> " << r.status << " " << r.body);
    }
    void register_worker(const std::string& id) {
        auto r = post("/api/workers", R"({"worker_id":")" + id + R"(","worker_type":"simulation"})");
        BOOST_REQUIRE_MESSAGE(r.status == 201, "register " << id << " -> " << r.status << " " << r.body);
    }
    // A long-poll claim that must return a job: {job id, token}.
    std::pair<std::string, std::string> claim(const std::string& worker_id) {
        auto r = post("/api/workers/" + worker_id + "/claim?wait_ms=" + std::to_string(kDeadline.count() * 1000));
        BOOST_REQUIRE_MESSAGE(r.status == 200, "claim by " << worker_id << " -> " << r.status << " " << r.body);
        const auto v = parse_body(r.body);
        return {str(v.at("job").at("id")), str(v.at("lease_token"))};
    }
    // A counter of /metrics (jobrouter_<name>_total).
    std::uint64_t counter(const std::string& name) {
        auto r = must(client->get("/metrics"), "GET /metrics");
        BOOST_REQUIRE(r.status == 200);
        const std::string key = "\njobrouter_" + name + "_total ";
        const auto at = r.body.find(key);
        BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no " << key << " in /metrics");
        return std::stoull(r.body.substr(at + key.size()));
    }
    // A report with a token that must be refused with 409, naming the lease.
    void expect_stale(const std::string& job_id, const std::string& action, const std::string& token, const std::string& extra) {
        auto r = post("/api/jobs/" + job_id + "/" + action, lease_body(token, extra));
        BOOST_TEST(r.status == 409u, action << " with a stale token -> " << r.status << " " << r.body);
        BOOST_TEST(r.body.find("\"conflict\"") != std::string::npos, r.body);
    }
    void expect_all_stale(const std::string& job_id, const std::string& token) {
        expect_stale(job_id, "progress", token, R"("progress":90)");
        expect_stale(job_id, "complete", token, R"("result":{"by":"the dead worker"})");
        expect_stale(job_id, "fail", token, R"("error":"late","retryable":false)");
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(serve_worker_crash)

BOOST_AUTO_TEST_CASE(killed_worker_job_requeued_after_lease_and_completed_once_by_another) {
    // The worker timeout is far away: the lease alone must bring the job back.
    serve_under_test s("1000", "600000");
    s.submit(R"({"id":"crash-1","service_required":"simulation","max_retries":3,"payload":{"n":1}})");

    worker_process first(s.port, "w-first");
    const auto held = first.wait_mid_job();
    BOOST_TEST(held.job_id == "crash-1");
    auto j = s.job("crash-1");
    BOOST_TEST(str(j.at("status")) == "in_progress");
    BOOST_TEST(str(j.at("worker_id")) == "w-first");
    BOOST_TEST(j.at("attempts").to_number<int>() == 1);
    first.kill9();

    // A second worker long-polls; it gets the job once the dead worker's lease has expired.
    s.register_worker("w-second");
    const auto [job_id, token] = s.claim("w-second");
    BOOST_TEST(job_id == "crash-1");
    BOOST_TEST(token != held.token);
    j = s.job("crash-1");
    BOOST_TEST(str(j.at("status")) == "assigned");
    BOOST_TEST(str(j.at("worker_id")) == "w-second");
    BOOST_TEST(j.at("attempts").to_number<int>() == 2, "attempts: " << json::serialize(j));
    BOOST_TEST(str(j.at("error")) == "lease expired", "the first attempt's end: " << json::serialize(j));

    // The dead worker's late reports change nothing while the second one holds the job.
    s.expect_all_stale("crash-1", held.token);
    j = s.job("crash-1");
    BOOST_TEST(str(j.at("status")) == "assigned");
    BOOST_TEST(str(j.at("worker_id")) == "w-second");
    BOOST_TEST(j.at("attempts").to_number<int>() == 2);
    BOOST_TEST(j.at("progress").to_number<int>() == 0, "progress of the second attempt: " << json::serialize(j));

    auto done = s.post("/api/jobs/crash-1/complete", lease_body(token, R"("result":{"by":"w-second"})"));
    BOOST_TEST(done.status == 200u, done.body);
    j = s.job("crash-1");
    BOOST_TEST(str(j.at("status")) == "completed");
    BOOST_TEST(json::serialize(j.at("result")) == R"({"by":"w-second"})");

    // After completion: the dead worker's token and a repeated complete are both refused.
    s.expect_all_stale("crash-1", held.token);
    s.expect_stale("crash-1", "complete", token, R"("result":{"by":"w-second again"})");
    j = s.job("crash-1");
    BOOST_TEST(str(j.at("status")) == "completed");
    BOOST_TEST(json::serialize(j.at("result")) == R"({"by":"w-second"})");
    BOOST_TEST(j.at("attempts").to_number<int>() == 2);

    // Exactly once: one completion, one retry (the expired lease), two claims, no failure.
    BOOST_TEST(s.counter("submitted") == 1u);
    BOOST_TEST(s.counter("claims") == 2u);
    BOOST_TEST(s.counter("retries") == 1u);
    BOOST_TEST(s.counter("completions") == 1u);
    BOOST_TEST(s.counter("failures") == 0u);
    BOOST_TEST(s.proc->running(), "serve is still up; its stderr:\n" << s.proc->stderr_text());
}

BOOST_AUTO_TEST_CASE(killed_worker_removed_by_worker_timeout_and_its_job_retried) {
    // The lease is far away: the silent worker's removal must bring the job back.
    serve_under_test s("600000", "1500");
    s.submit(R"({"id":"crash-2","service_required":"simulation","max_retries":3})");
    worker_process first(s.port, "w-gone");
    const auto held = first.wait_mid_job();
    BOOST_TEST(held.job_id == "crash-2");
    first.kill9();

    s.register_worker("w-next");
    const auto [job_id, token] = s.claim("w-next");
    BOOST_TEST(job_id == "crash-2");
    auto j = s.job("crash-2");
    BOOST_TEST(j.at("attempts").to_number<int>() == 2);
    BOOST_TEST(str(j.at("error")).find("w-gone") != std::string::npos, "the first attempt's end: " << json::serialize(j));
    // The dead worker is gone from the registry.
    auto workers = must(s.client->get("/api/workers"), "GET /api/workers");
    BOOST_TEST(workers.body.find("w-gone") == std::string::npos, workers.body);

    s.expect_all_stale("crash-2", held.token);
    BOOST_TEST(s.post("/api/jobs/crash-2/complete", lease_body(token, R"("result":1)")).status == 200u);
    BOOST_TEST(str(s.job("crash-2").at("status")) == "completed");
    BOOST_TEST(s.counter("completions") == 1u);
    BOOST_TEST(s.counter("retries") == 1u);
}

BOOST_AUTO_TEST_CASE(killed_worker_on_the_last_attempt_fails_the_job_for_good) {
    serve_under_test s("1000", "600000");
    s.submit(R"({"id":"crash-3","service_required":"simulation","max_retries":1})");
    worker_process first(s.port, "w-last");
    const auto held = first.wait_mid_job();
    first.kill9();

    auto j = s.wait_status("crash-3", "failed");
    BOOST_TEST(str(j.at("error")) == "lease expired");
    BOOST_TEST(j.at("attempts").to_number<int>() == 1);
    // Nobody gets it again, and the dead worker's token cannot revive it.
    s.register_worker("w-after");
    BOOST_TEST(s.post("/api/workers/w-after/claim?wait_ms=0").status == 204u);
    s.expect_all_stale("crash-3", held.token);
    BOOST_TEST(str(s.job("crash-3").at("status")) == "failed");
    BOOST_TEST(s.counter("failures") == 1u);
    BOOST_TEST(s.counter("completions") == 0u);
    BOOST_TEST(s.counter("retries") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
