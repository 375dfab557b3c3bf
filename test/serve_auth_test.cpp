// serve_auth: bearer tokens (README "Security and limits"). Against a real in-process server:
// a missing or wrong token is 401 with WWW-Authenticate, /health stays open, with a worker
// token set a worker token cannot submit and a client token cannot claim (403), a refused
// request changes nothing; the route classes (which route is a worker route) as a table; the
// constant-time compare; the CLI clients (`jobrouter submit/status/explain`) sending the token
// from --auth-token or JOBROUTER_AUTH_TOKEN; and serve's warning when it listens beyond
// loopback without a token (the real binary). Child processes are bounded by deadlines.
#define BOOST_TEST_MODULE serve_auth

#include <boost/test/unit_test.hpp>

#include "test/support/server_fixture.hpp"
#include "test/support/raw_http.hpp"

#include "server/auth.hpp"

#include <boost/beast/websocket.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace fs = std::filesystem;

namespace {

const std::string kClient = "client-token-0123456789";
const std::string kWorker = "worker-token-9876543210";

std::pair<http::field, std::string> bearer(const std::string& token) { return {http::field::authorization, "Bearer " + token}; }

config with_tokens(std::string client_token, std::string worker_token) {
    config c;
    c.tune = [client_token, worker_token](server_settings& s) {
        s.auth.client_token = client_token;
        s.auth.worker_token = worker_token;
    };
    return c;
}

// A job count that needs no token: /health is open.
std::size_t jobs_on_health(server_fixture& f) {
    auto r = raw_request(f.port, verb::get, "/health");
    BOOST_REQUIRE_MESSAGE(r.ok && r.status() == 200, "GET /health: " << r.error << r.res.body());
    return json::parse(r.res.body()).at("jobs").to_number<std::size_t>();
}

// ---- a child process with a deadline -----------------------------------------------------------

struct run_result {
    int exit_code = -1;
    std::string out, err;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "serve_auth_XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// The environment minus anything jobrouter reads, plus `extra` ("NAME=value").
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) {
        const std::string kv = *e;
        if (kv.rfind("JOBROUTER_", 0) == 0 || kv.rfind("WORKERS=", 0) == 0) continue;
        out.push_back(kv);
    }
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

class child {
public:
    child(const temp_dir& dir, std::vector<std::string> args, const std::vector<std::string>& env = {})
        : out_(dir.path / ("out-" + std::to_string(++count_))), err_(dir.path / ("err-" + std::to_string(count_))) {
        args.insert(args.begin(), JOBROUTER_BINARY);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        auto envs = child_environment(env);
        std::vector<char*> envp;
        for (auto& e : envs) envp.push_back(e.data());
        envp.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int rc = posix_spawn(&pid_, JOBROUTER_BINARY, &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        BOOST_REQUIRE_MESSAGE(rc == 0, "posix_spawn failed: " << rc);
    }
    ~child() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            int st = 0;
            ::waitpid(pid_, &st, 0);
        }
    }
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    // Waits (bounded) for the exit; -1 when it did not exit in time (it is then killed).
    run_result finish(std::chrono::seconds timeout = 20s) {
        run_result r;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!exited_) {
            int st = 0;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                exited_ = true;
                r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                break;
            }
            if (std::chrono::steady_clock::now() > deadline) break;
            std::this_thread::sleep_for(kPoll);
        }
        r.out = slurp(out_);
        r.err = slurp(err_);
        return r;
    }
    void signal(int sig) { ::kill(pid_, sig); }
    std::string err_text() const { return slurp(err_); }

private:
    static inline int count_ = 0;
    fs::path out_, err_;
    pid_t pid_ = -1;
    bool exited_ = false;
};

run_result run_cli(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    temp_dir dir;
    child c(dir, std::move(args), env);
    return c.finish();
}

}  // namespace

// ---- route classes and the compare (no server) ----------------------------------------------------

BOOST_AUTO_TEST_CASE(every_route_has_the_documented_class) {
    struct row {
        verb method;
        const char* target;
        route_class cls;
    };
    const row rows[] = {
        {verb::get, "/health", route_class::open},
        {verb::post, "/api/jobs", route_class::client},
        {verb::get, "/api/jobs?status=pending", route_class::client},
        {verb::get, "/api/jobs/j1", route_class::client},
        {verb::get, "/api/jobs/j1/explain", route_class::client},
        {verb::post, "/api/jobs/j1/cancel", route_class::client},
        {verb::get, "/api/workers", route_class::client},
        {verb::get, "/api/workers/w1/explain", route_class::client},
        {verb::get, "/metrics", route_class::client},
        {verb::get, "/ws/events", route_class::client},
        {verb::get, "/no/such/route", route_class::client},
        {verb::post, "/api/workers", route_class::worker},
        {verb::delete_, "/api/workers/w1", route_class::worker},
        {verb::post, "/api/workers/w1/claim?wait_ms=100", route_class::worker},
        {verb::post, "/api/workers/w1/heartbeat", route_class::worker},
        {verb::post, "/api/jobs/j1/progress", route_class::worker},
        {verb::post, "/api/jobs/j1/complete", route_class::worker},
        {verb::post, "/api/jobs/j1/fail", route_class::worker},
        // Other spellings of the same route keep its class (the router decodes them alike).
        {verb::post, "/api/workers/w1/cl%61im", route_class::worker},
        {verb::post, "/api/workers/w1/claim/", route_class::worker},
        {verb::post, "/api/jobs/j1/%63omplete", route_class::worker},
        {verb::get, "/he%61lth", route_class::open},
    };
    for (const auto& r : rows)
        BOOST_TEST_CONTEXT(http::to_string(r.method) << " " << r.target) {
            BOOST_TEST(to_string(route_class_of(r.method, r.target)) == to_string(r.cls));
        }
}

BOOST_AUTO_TEST_CASE(constant_time_equal_compares_whole_tokens) {
    BOOST_TEST(constant_time_equal("secret", "secret"));
    BOOST_TEST(!constant_time_equal("secreT", "secret"));
    BOOST_TEST(!constant_time_equal("secret-longer", "secret"));
    BOOST_TEST(!constant_time_equal("secre", "secret"));
    BOOST_TEST(!constant_time_equal("", "secret"));
    BOOST_TEST(!constant_time_equal("secretsecret", "secret"));  // a repeat is not a match
}

BOOST_FIXTURE_TEST_SUITE(serve_auth, server_fixture)

BOOST_AUTO_TEST_CASE(without_tokens_every_route_is_open) {
    start();
    submit(R"({"service_required":"ext"})");
    register_worker("w1");
}

BOOST_AUTO_TEST_CASE(a_missing_or_wrong_token_is_401_with_www_authenticate_and_health_stays_open) {
    start(with_tokens(kClient, ""));
    auto missing = raw_request(port, verb::post, "/api/jobs", R"({"id":"a","service_required":"ext"})");
    expect_refusal(missing, 401, "unauthorized", {"missing Authorization", "--auth-token"});
    BOOST_TEST(missing.header(http::field::www_authenticate) == R"(Bearer realm="jobrouter")");

    auto wrong = raw_request(port, verb::post, "/api/jobs", R"({"id":"a","service_required":"ext"})", {bearer("nope")});
    const std::string message = expect_refusal(wrong, 401, "unauthorized", {"wrong token"});
    BOOST_TEST(wrong.header(http::field::www_authenticate) == R"(Bearer realm="jobrouter", error="invalid_token")");
    BOOST_TEST(message.find(kClient) == std::string::npos, "the token was echoed");

    auto basic = raw_request(port, verb::get, "/api/jobs", {}, {{http::field::authorization, "Basic dXNlcjpwYXNz"}});
    expect_refusal(basic, 401, "unauthorized", {"Bearer"});

    // Reads, metrics and worker routes (no worker token: the client token guards them too).
    for (auto [method, target] : {std::pair{verb::get, "/api/jobs"}, std::pair{verb::get, "/metrics"},
                                  std::pair{verb::get, "/api/workers"}, std::pair{verb::post, "/api/workers/w/claim"},
                                  std::pair{verb::get, "/no/such/route"}})
        BOOST_TEST_CONTEXT(target) { BOOST_TEST(raw_request(port, method, target).status() == 401u); }

    BOOST_TEST(jobs_on_health(*this) == 0u);  // /health needs no token; nothing was submitted

    client->set_bearer_token(kClient);
    submit(R"({"id":"a","service_required":"ext"})");
    register_worker("w1");  // worker routes take the client token when no worker token is set
    auto ok = raw_request(port, verb::get, "/api/jobs/a", {}, {{http::field::authorization, "bearer  " + kClient}});
    BOOST_TEST(ok.status() == 200u, "the scheme is case-insensitive: " << ok.res.body());
}

BOOST_AUTO_TEST_CASE(with_a_worker_token_clients_cannot_claim_and_workers_cannot_submit) {
    start(with_tokens(kClient, kWorker));
    // A worker token cannot submit: 403, and no job exists afterwards.
    auto r = raw_request(port, verb::post, "/api/jobs", R"({"id":"by-worker","service_required":"ext"})", {bearer(kWorker)});
    expect_refusal(r, 403, "forbidden", {"worker token", "client route", "--auth-token"});
    BOOST_TEST(jobs_on_health(*this) == 0u);
    BOOST_TEST(raw_request(port, verb::get, "/metrics", {}, {bearer(kWorker)}).status() == 403u);

    // A client token cannot register or claim.
    r = raw_request(port, verb::post, "/api/workers", R"({"worker_id":"w1","worker_type":"ext"})", {bearer(kClient)});
    expect_refusal(r, 403, "forbidden", {"client token", "worker route", "--worker-token"});
    r = raw_request(port, verb::post, "/api/workers/w1/claim", {}, {bearer(kClient)});
    BOOST_TEST(r.status() == 403u);
    r = raw_request(port, verb::post, "/api/workers/w1/cl%61im", {}, {bearer(kClient)});
    BOOST_TEST(r.status() == 403u, "an encoded path must not slip past: " << r.res.body());

    // Each token on its own routes: the whole round trip.
    client->set_bearer_token(kClient);
    submit(R"({"id":"j1","service_required":"ext"})");
    client->set_bearer_token(kWorker);
    register_worker("w1");
    auto c = claim_now("w1");
    BOOST_TEST(str(c.job.at("id")) == "j1");
    BOOST_TEST(report("j1", "complete", c.token).status == 200u);
    // The worker token does not read jobs; the client token does.
    BOOST_TEST(get("/api/jobs/j1").status == 403u);
    client->set_bearer_token(kClient);
    BOOST_TEST(status_of("j1") == "completed");
    BOOST_TEST(workers().size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_event_stream_needs_the_client_token) {
    start(with_tokens(kClient, kWorker));
    for (const auto& [token, expect_ok] : {std::pair{std::string(), false}, std::pair{kWorker, false}, std::pair{kClient, true}}) {
        BOOST_TEST_CONTEXT("token " << (token.empty() ? "(none)" : token)) {
            asio::io_context io;
            beast::websocket::stream<beast::tcp_stream> ws(io);
            ws.set_option(beast::websocket::stream_base::decorator([t = token](beast::websocket::request_type& req) {
                if (!t.empty()) req.set(http::field::authorization, "Bearer " + t);
            }));
            std::optional<beast::error_code> result;
            const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port)));
            beast::get_lowest_layer(ws).expires_after(10s);
            beast::get_lowest_layer(ws).async_connect(ep, [&](beast::error_code ec) {
                if (ec) {
                    result = ec;
                    return;
                }
                ws.async_handshake("127.0.0.1", "/ws/events", [&](beast::error_code ec2) { result = ec2; });
            });
            io.run_for(15s);
            BOOST_REQUIRE(result.has_value());
            BOOST_TEST(!*result == expect_ok, "handshake: " << result->message());
        }
    }
}

BOOST_AUTO_TEST_CASE(in_process_workers_need_no_token) {
    // They call the dispatcher directly, never over HTTP.
    auto c = with_tokens(kClient, kWorker);
    c.workers = "mock:1";
    start(c);
    client->set_bearer_token(kClient);
    const std::string id = submit(R"({"service_required":"mock"})");
    wait_status(id, "completed");
}

// ---- the CLI clients ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(cli_clients_send_the_token_from_the_flag_or_the_environment) {
    start(with_tokens(kClient, kWorker));
    const std::string server = "127.0.0.1:" + port;

    auto denied = run_cli({"submit", "--server", server, "--service", "ext", "--id", "cli-0"});
    BOOST_TEST(denied.exit_code == 1, denied.err);
    BOOST_TEST(denied.err.find("401") != std::string::npos, denied.err);

    auto by_flag = run_cli({"submit", "--server", server, "--service", "ext", "--id", "cli-1", "--auth-token", kClient});
    BOOST_TEST(by_flag.exit_code == 0, by_flag.err);
    BOOST_TEST(by_flag.out == "cli-1\n");

    auto by_env = run_cli({"submit", "--server", server, "--service", "ext", "--id", "cli-2"}, {"JOBROUTER_AUTH_TOKEN=" + kClient});
    BOOST_TEST(by_env.exit_code == 0, by_env.err);

    auto status = run_cli({"status", "cli-1", "--server", server}, {"JOBROUTER_AUTH_TOKEN=" + kClient});
    BOOST_TEST(status.exit_code == 0, status.err);
    BOOST_TEST(status.out.find("\"cli-1\"") != std::string::npos, status.out);

    auto explain = run_cli({"explain", "cli-1", "--server", server, "--auth-token", kClient});
    BOOST_TEST(explain.exit_code == 0, explain.err);

    auto wrong = run_cli({"status", "--server", server, "--auth-token", kWorker});
    BOOST_TEST(wrong.exit_code == 1);
    BOOST_TEST(wrong.err.find("403") != std::string::npos, wrong.err);
    BOOST_TEST(jobs_on_health(*this) == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the real binary: the warning when listening beyond loopback without a token -------------------

BOOST_AUTO_TEST_CASE(serve_warns_loudly_when_listening_beyond_loopback_without_a_token) {
    temp_dir dir;
    auto serve_until_listening = [&](const std::vector<std::string>& extra_args, const std::vector<std::string>& env) {
        const fs::path port_file = dir.path / "port";
        fs::remove(port_file);
        std::vector<std::string> args{"serve", "--listen", "0.0.0.0:0", "--workers", "none", "--port-file", port_file.string()};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        child c(dir, args, env);
        const auto deadline = std::chrono::steady_clock::now() + kDeadline;
        while (slurp(port_file).find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(kPoll);
        BOOST_REQUIRE_MESSAGE(slurp(port_file).find('\n') != std::string::npos, "serve never listened: " << c.err_text());
        c.signal(SIGTERM);
        auto r = c.finish();
        BOOST_TEST(r.exit_code == 0, r.err);
        return r.err;
    };
    const std::string open = serve_until_listening({}, {});
    BOOST_TEST(open.find("WARNING") != std::string::npos, open);
    BOOST_TEST(open.find("--auth-token") != std::string::npos, open);

    const std::string guarded = serve_until_listening({}, {"JOBROUTER_AUTH_TOKEN=" + kClient});
    BOOST_TEST(guarded.find("WARNING") == std::string::npos, guarded);
    BOOST_TEST(guarded.find(kClient) == std::string::npos, "the token was logged: " << guarded);
}
