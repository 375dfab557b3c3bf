// serve_process: `jobrouter serve` as a real child process (test/support/child_process.hpp),
// with its standard output and error captured in temporary files: --help, usage errors, the
// start-up summary, and graceful shutdown on SIGTERM (running in-process jobs finish, or are
// handed back when the grace period is 0), and the default mapping's workers running jobs
// end to end through real sockets with --simulate. Every child is killed in a destructor if it
// is still alive; every wait is bounded.
#define BOOST_TEST_MODULE serve_process
#include "app/http_client.hpp"
#include "test/support/child_process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace jobrouter;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
namespace asio = boost::asio;
namespace beast = boost::beast;

using jobrouter::test::child_process;
using jobrouter::test::read_text_file;
using jobrouter::test::temp_dir;
using jobrouter::test::wait_port;

namespace {

constexpr auto kDeadline = 15s;      // start-up, jobs starting
constexpr auto kPoll = 10ms;

std::string str(const json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

json::value parse_body(const std::string& body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "not JSON (" << ec.message() << "): " << body);
    return v;
}

std::string job_status(http_client& client, const std::string& id) {
    auto r = client.get("/api/jobs/" + id);
    BOOST_REQUIRE_MESSAGE(r, "GET job: " << (r ? "" : r.error().text()));
    BOOST_REQUIRE_MESSAGE(r->status == 200, r->body);
    return str(parse_body(r->body).at("job").at("status"));
}

bool is_running(const std::string& status) {
    return status == "assigned" || status == "in_progress";
}

void wait_running(http_client& client, const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
        last = job_status(client, id);
        if (is_running(last)) return;
        std::this_thread::sleep_for(kPoll);
    }
    BOOST_FAIL("job " << id << " never started running; last status " << last);
}

void submit(http_client& client, const std::string& body) {
    auto r = client.post("/api/jobs", body);
    BOOST_REQUIRE_MESSAGE(r, "submit: " << (r ? "" : r.error().text()));
    BOOST_REQUIRE_MESSAGE(r->status == 201, "submit " << body << " -> " << r->status << " " << r->body);
}

std::vector<std::string> serve_args(const fs::path& port_file, std::vector<std::string> extra) {
    std::vector<std::string> args{"serve",        "--listen", "127.0.0.1:0", "--port-file", port_file.string(),
                                  "--machine-id", "ptest"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(serve_process)

BOOST_AUTO_TEST_CASE(help_lists_every_option_with_its_default) {
    temp_dir dir;
    child_process c(dir, {"serve", "--help"});
    BOOST_TEST(c.exit_code() == 0);
    const std::string help = c.stdout_text();
    BOOST_TEST(help.find("Usage: jobrouter serve") != std::string::npos, help);

    // Each option's line, and its default where it has one.
    const std::vector<std::pair<std::string, std::string>> options{
        {"--help", ""},
        {"--config", ""},
        {"--listen", "(=127.0.0.1:7700)"},
        {"--mapping", ""},
        {"--strategy", "(=job-type)"},
        {"--store", "(=memory)"},
        {"--store-timeout-ms", "(=2000)"},
        {"--workers", "(=simulation:2)"},
        {"--machine-id", ""},
        {"--log-format", "(=text)"},
        {"--log-level", "(=info)"},
        {"--lease-ms", "(=60000)"},
        {"--retry-backoff-ms", "(=1000)"},
        {"--retry-backoff-max-ms", "(=60000)"},
        {"--retention-ms", "(=3600000)"},
        {"--retention-count", "(=100000)"},
        {"--worker-timeout-ms", "(=60000)"},
        {"--shutdown-grace-ms", "(=10000)"},
        {"--max-body-bytes", "(=1048576)"},
        {"--read-timeout-ms", "(=30000)"},
        {"--max-wait-ms", "(=60000)"},
        {"--port-file", ""},
    };
    std::vector<std::string> lines;
    {
        std::istringstream in(help);
        for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    for (const auto& [name, def] : options) {
        BOOST_TEST_CONTEXT(name) {
            // The option's own line: the name followed by a space, '[' or ' arg'.
            std::optional<std::string> found;
            for (const auto& line : lines) {
                const auto at = line.find(name);
                if (at == std::string::npos) continue;
                const auto after = at + name.size();
                if (after < line.size() && line[after] != ' ' && line[after] != '[')
                    continue;  // --lease-ms vs --lease-ms-x
                found = line;
                break;
            }
            BOOST_TEST(found.has_value(), "--help does not list " << name << ":\n" << help);
            if (found && !def.empty()) BOOST_TEST(found->find(def) != std::string::npos, "line: " << *found);
        }
    }
    BOOST_TEST(c.stderr_text().empty());
}

BOOST_AUTO_TEST_CASE(bad_flags_exit_2_with_a_message) {
    temp_dir dir;
    struct case_ {
        std::vector<std::string> args;
        std::string needle;
    };
    for (const auto& k :
         {case_{{"serve", "--no-such-flag"}, "no-such-flag"}, case_{{"serve", "--lease-ms", "soon"}, "lease-ms"},
          case_{{"serve", "--lease-ms", "0"}, "--lease-ms"}, case_{{"serve", "--log-level", "loud"}, "--log-level"},
          case_{{"serve", "--listen", "nowhere"}, "--listen"}, case_{{"serve", "--strategy", "random"}, "random"},
          case_{{"serve", "--store", "postgres://db"}, "--store"}, case_{{"serve", "--store", "redis://h:notaport/0"}, "--store"}}) {
        BOOST_TEST_CONTEXT(k.args.back()) {
            child_process c(dir, k.args);
            BOOST_TEST(c.exit_code() == 2);
            const std::string err = c.stderr_text();
            BOOST_TEST(err.find("jobrouter serve") != std::string::npos, "stderr: " << err);
            BOOST_TEST(err.find(k.needle) != std::string::npos, "stderr: " << err);
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_worker_type_exits_2_listing_the_valid_types) {
    temp_dir dir;
    child_process c(dir, serve_args(dir.path / "port", {"--workers", "mock:1,nosuch:2"}));
    BOOST_TEST(c.exit_code() == 2);
    const std::string err = c.stderr_text();
    BOOST_TEST(err.find("--workers") != std::string::npos, "stderr: " << err);
    BOOST_TEST(err.find("nosuch") != std::string::npos, "stderr: " << err);
    for (const char* t : {"mock", "simulation", "simulation-http", "simulation-websocket"})
        BOOST_TEST(err.find(t) != std::string::npos, "stderr does not list " << t << ": " << err);
    BOOST_TEST(!fs::exists(dir.path / "port"));  // it never listened
}

BOOST_AUTO_TEST_CASE(sigterm_lets_running_in_process_jobs_finish) {
    temp_dir dir;
    const fs::path port_file = dir.path / "port";
    child_process c(dir, serve_args(port_file, {"--workers", "mock:2", "--log-level", "debug"}));
    const std::string port = wait_port(c, port_file);

    // The summary line at start.
    const std::string start_log = c.stderr_text();
    for (const std::string& needle :
         {std::string("jobrouter serving"), "listen=127.0.0.1:" + port, std::string("workers=mock:2"),
          std::string("strategy=job-type"), std::string("machine_id=ptest")})
        BOOST_TEST(start_log.find(needle) != std::string::npos, "no " << needle << " in:\n" << start_log);

    http_client client("127.0.0.1", port, 10s);
    const std::vector<std::string> ids{"g0", "g1"};
    for (const auto& id : ids)
        submit(client, R"({"id":")" + id + R"(","service_required":"mock","payload":{"delay_ms":800}})");
    for (const auto& id : ids) wait_running(client, id);
    // Right before SIGTERM: both still running.
    for (const auto& id : ids) {
        const std::string s = job_status(client, id);
        BOOST_TEST_REQUIRE(is_running(s), "job " << id << " is " << s << " before SIGTERM (not running)");
    }
    c.signal(SIGTERM);
    BOOST_TEST(c.exit_code() == 0);

    const std::string log = c.stderr_text();
    const auto stopped = log.find("stopped");
    BOOST_TEST(log.find("signal received: shutting down") != std::string::npos, log);
    BOOST_TEST(stopped != std::string::npos, log);
    for (const auto& id : ids) {
        const auto done = log.find("event=completed job_id=" + id + " ");
        BOOST_TEST(done != std::string::npos, "no completed event for " << id << " in:\n" << log);
        BOOST_TEST(done < stopped, "job " << id << " completed after 'stopped'");
    }
    BOOST_TEST(log.find("handing running in-process jobs back") == std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(sigterm_with_zero_grace_hands_running_jobs_back) {
    temp_dir dir;
    const fs::path port_file = dir.path / "port";
    child_process c(dir,
                    serve_args(port_file, {"--workers", "mock:2", "--log-level", "debug", "--shutdown-grace-ms", "0"}));
    const std::string port = wait_port(c, port_file);
    http_client client("127.0.0.1", port, 10s);
    const std::vector<std::string> ids{"long0", "long1"};
    for (const auto& id : ids)
        submit(client, R"({"id":")" + id + R"(","service_required":"mock","payload":{"delay_ms":600000}})");
    for (const auto& id : ids) wait_running(client, id);
    c.signal(SIGTERM);
    BOOST_TEST(c.exit_code() == 0);

    const std::string log = c.stderr_text();
    BOOST_TEST(log.find("handing running in-process jobs back to pending jobs=2") != std::string::npos, log);
    for (const auto& id : ids) {
        BOOST_TEST(log.find("event=requeued job_id=" + id + " ") != std::string::npos, "no requeued event for " << id
                                                                                                                << ":\n"
                                                                                                                << log);
        BOOST_TEST(log.find("event=completed job_id=" + id + " ") == std::string::npos, log);
    }
}

// A free loopback port (bound, then released) for a service the child starts itself.
unsigned short free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

// The default mapping end to end: WORKERS=simulation-http:2,simulation-websocket:2,mock:1 with
// --simulate, so every job crosses real sockets (the connectors' HTTP polling and WebSocket
// protocol to the simulation service in the same process), and /ws/events shows each job's
// progress and completion, from both simulation worker types and the mock worker.
BOOST_AUTO_TEST_CASE(default_mapping_workers_complete_jobs_with_progress_on_ws_events) {
    temp_dir dir;
    const fs::path port_file = dir.path / "port";
    child_process c(dir, serve_args(port_file, {"--simulate"}),
                    {"WORKERS=simulation-http:2,simulation-websocket:2,mock:1",
                     "SIMULATION_HTTP_PORT=" + std::to_string(free_port()),
                     "SIMULATION_WS_PORT=" + std::to_string(free_port()), "SIMULATION_POLL_INTERVAL_MS=50"});
    const std::string port = wait_port(c, port_file);

    asio::io_context io;
    beast::websocket::stream<beast::tcp_stream> ws(io);
    beast::error_code ec = asio::error::timed_out;
    beast::get_lowest_layer(ws).expires_after(10s);
    beast::get_lowest_layer(ws).async_connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))),
        [&](beast::error_code e) {
            if (e) {
                ec = e;
                return;
            }
            ws.async_handshake("127.0.0.1:" + port, "/ws/events", [&](beast::error_code e2) { ec = e2; });
        });
    io.run_for(15s);
    BOOST_REQUIRE_MESSAGE(!ec, "WebSocket: " << ec.message());
    beast::get_lowest_layer(ws).expires_never();

    std::vector<json::object> events;
    beast::flat_buffer buffer;
    std::function<void()> read_next = [&] {
        ws.async_read(buffer, [&](beast::error_code e, std::size_t) {
            if (e) return;
            events.push_back(parse_body(beast::buffers_to_string(buffer.data())).as_object());
            buffer.consume(buffer.size());
            read_next();
        });
    };
    read_next();

    // Four simulation jobs at once, so that each simulation worker takes one; one mock job.
    http_client client("127.0.0.1", port, 10s);
    const std::vector<std::string> sims{"sim0", "sim1", "sim2", "sim3"};
    for (const auto& id : sims)
        submit(client, R"({"id":")" + id + R"(","service_required":"simulation","payload":{"steps":3,"duration_ms":900}})");
    submit(client, R"({"id":"mock0","service_required":"mock","payload":{"delay_ms":300}})");

    std::map<std::string, std::string> completed_by;
    std::map<std::string, std::vector<std::int64_t>> progress;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (completed_by.size() < sims.size() + 1 && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(20ms);
        for (; !events.empty(); events.erase(events.begin())) {
            const json::object& e = events.front();
            const std::string kind = str(e.at("event"));
            const std::string id = e.contains("job_id") ? str(e.at("job_id")) : "";
            if (kind == "progress") progress[id].push_back(e.at("progress").as_int64());
            if (kind == "completed") completed_by[id] = str(e.at("worker_id"));
            BOOST_TEST_REQUIRE(kind != "failed", "job " << id << " failed: " << json::serialize(e));
        }
    }
    BOOST_REQUIRE_MESSAGE(completed_by.size() == sims.size() + 1, "only " << completed_by.size()
                                                                        << " jobs completed; serve's stderr:\n"
                                                                        << c.stderr_text());
    std::set<std::string> simulation_types;
    for (const auto& id : sims) {
        const std::string& worker = completed_by.at(id);
        BOOST_TEST(worker.rfind("ptest-worker-simulation-", 0) == 0u, id << " ran on " << worker);
        simulation_types.insert(worker.find("websocket") != std::string::npos ? "websocket" : "http");
        // Progress from the service while the job ran, then 100.
        const auto& p = progress[id];
        BOOST_TEST(std::any_of(p.begin(), p.end(), [](std::int64_t v) { return v > 0 && v < 100; }), id << ": no progress in between");
        BOOST_TEST((!p.empty() && p.back() == 100), id);
    }
    BOOST_TEST(simulation_types.size() == 2u, "both simulation worker types ran jobs");
    BOOST_TEST(completed_by.at("mock0") == "ptest-worker-mock-0");
    BOOST_TEST((!progress["mock0"].empty() && progress["mock0"].back() == 100));
    for (const auto& id : sims) {
        const json::object job = parse_body(client.get("/api/jobs/" + id)->body).at("job").as_object();
        BOOST_TEST(job.at("result").at("simulated").as_bool(), id);
        BOOST_TEST(job.at("result").at("steps").as_int64() == 3, id);
    }

    c.signal(SIGTERM);
    BOOST_TEST(c.exit_code() == 0);
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
}

// serve starts worker types routed to HttpRestConnector and CommandConnector (it used to refuse
// them) and runs their jobs: the REST connector speaks the simulation service's protocol as
// configured (submit, then poll by id), the command connector runs a shell script.
BOOST_AUTO_TEST_CASE(generic_connectors_run_jobs_in_serve) {
    temp_dir dir;
    const fs::path port_file = dir.path / "port";
    const std::string sim_port = std::to_string(free_port());
    const fs::path mapping = dir.path / "mapping.json";
    std::ofstream(mapping) << R"({
  "workers": {
    "rest": { "services": ["sim-rest"] },
    "cmd":  { "services": ["echo-cmd"] }
  },
  "services": {
    "sim-rest": {
      "connector": "HttpRestConnector",
      "job_types_accepted": ["rest-job"],
      "api_config": {
        "url": "http://127.0.0.1:${SIMULATION_HTTP_PORT}/process",
        "body": { "job_id": "{{job_id}}", "job_type": "{{job_type}}", "payload": "{{payload}}" },
        "result_path": "outputs",
        "request_timeout_ms": "5000",
        "total_timeout_ms": "20000",
        "poll": { "id_path": "job_id", "url": "http://127.0.0.1:${SIMULATION_HTTP_PORT}/history/{{id}}",
                  "interval_ms": 30, "status_path": "status", "done_values": ["success"],
                  "failed_values": ["error"], "progress_path": "progress.percent", "error_path": "error" }
      }
    },
    "echo-cmd": {
      "connector": "CommandConnector",
      "job_types_accepted": ["cmd-job"],
      "api_config": {
        "command": "echo 'progress: 50' >&2; printf '{\"job\":\"%s\",\"input\":' \"$JOBROUTER_JOB_ID\"; cat; printf '}'",
        "shell": true,
        "timeout_ms": "10000"
      }
    }
  }
})";
    child_process c(dir, serve_args(port_file, {"--simulate", "--mapping", mapping.string(), "--workers", "rest:1,cmd:1"}),
                    {"SIMULATION_HTTP_PORT=" + sim_port, "SIMULATION_WS_PORT=" + std::to_string(free_port())});
    const std::string port = wait_port(c, port_file);
    http_client client("127.0.0.1", port, 10s);
    submit(client, R"({"id":"r1","service_required":"rest-job","payload":{"steps":2,"duration_ms":200}})");
    submit(client, R"({"id":"c1","service_required":"cmd-job","payload":{"text":"hi"}})");

    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    std::string rest_status, cmd_status;
    while (std::chrono::steady_clock::now() < deadline) {
        rest_status = job_status(client, "r1");
        cmd_status = job_status(client, "c1");
        if ((rest_status == "completed" || rest_status == "failed") && (cmd_status == "completed" || cmd_status == "failed"))
            break;
        std::this_thread::sleep_for(kPoll);
    }
    const json::object rest = parse_body(client.get("/api/jobs/r1")->body).at("job").as_object();
    const json::object cmd = parse_body(client.get("/api/jobs/c1")->body).at("job").as_object();
    BOOST_REQUIRE_MESSAGE(rest_status == "completed", json::serialize(rest) << "\n" << c.stderr_text());
    BOOST_REQUIRE_MESSAGE(cmd_status == "completed", json::serialize(cmd) << "\n" << c.stderr_text());
    BOOST_TEST(rest.at("result").at("simulated").as_bool());
    BOOST_TEST(rest.at("result").at("job_id").as_string() == "r1");
    BOOST_TEST(rest.at("result").at("steps").as_int64() == 2);
    BOOST_TEST(cmd.at("result") == json::parse(R"({"job":"c1","input":{"text":"hi"}})"));
    c.signal(SIGTERM);
    BOOST_TEST(c.exit_code() == 0);
}

// A WebSocket client still connected at SIGTERM: the process must still exit 0 (its session
// is torn down after the server; it must not touch the dispatcher then).
BOOST_AUTO_TEST_CASE(sigterm_with_a_websocket_client_connected_exits_0) {
    temp_dir dir;
    const fs::path port_file = dir.path / "port";
    child_process c(dir, serve_args(port_file, {"--workers", "none"}));
    const std::string port = wait_port(c, port_file);

    asio::io_context io;
    beast::websocket::stream<beast::tcp_stream> ws(io);
    beast::error_code ec = asio::error::timed_out;
    beast::get_lowest_layer(ws).expires_after(10s);
    beast::get_lowest_layer(ws).async_connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))),
        [&](beast::error_code e) {
            if (e) {
                ec = e;
                return;
            }
            ws.async_handshake("127.0.0.1:" + port, "/ws/events", [&](beast::error_code e2) { ec = e2; });
        });
    io.run_for(15s);
    BOOST_REQUIRE_MESSAGE(!ec, "WebSocket: " << ec.message());
    // An event reaches it, so its session is subscribed.
    http_client client("127.0.0.1", port, 10s);
    submit(client, R"({"id":"seen","service_required":"mock"})");
    beast::flat_buffer buffer;
    bool got = false;
    beast::get_lowest_layer(ws).expires_never();
    ws.async_read(buffer, [&](beast::error_code e, std::size_t) { got = !e; });
    io.restart();
    io.run_for(10s);
    BOOST_REQUIRE_MESSAGE(got, "no event on the WebSocket");

    c.signal(SIGTERM);
    BOOST_TEST(c.exit_code() == 0);
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
}

BOOST_AUTO_TEST_SUITE_END()
