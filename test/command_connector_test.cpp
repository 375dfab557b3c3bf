// command_connector: CommandConnector running real /bin/sh scripts written to a temporary
// directory: JSON and text results, progress lines, a non-zero exit with the stderr tail,
// retryable exit codes and signals, the timeout and cancel stopping the whole process group
// (checked through pid files: the processes are gone), output caps, a program that does not
// exist, bad config, working directory and environment.
#define BOOST_TEST_MODULE command_connector
#include "support/connector_recorder.hpp"
#include "connectors/command_connector.hpp"

#include "connectors/connector_registry.hpp"
#include "connectors/http_rest_connector.hpp"
#include "support/http_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace jobrouter;
namespace json = boost::json;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr auto kLimit = 10s;

using recorder = jobrouter::test::connector_recorder;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Alive and not a zombie waiting for its (new) parent to reap it.
bool alive(pid_t pid) {
    if (::kill(pid, 0) != 0) return false;
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

struct fixture {
    fixture() {
        std::string tmpl = (fs::temp_directory_path() / "command_connector_XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
    }
    ~fixture() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = kLimit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            if (io.stopped()) io.restart();
            io.run_for(2ms);
        }
        return done();
    }
    void run_for(std::chrono::milliseconds d) {
        const auto until = std::chrono::steady_clock::now() + d;
        run_until([&] { return std::chrono::steady_clock::now() >= until; });
    }

    /// A /bin/sh script in the temporary directory; returns its path.
    std::string script(const std::string& name, const std::string& body) {
        const fs::path p = dir / name;
        std::ofstream(p) << body;
        return p.string();
    }
    connector_job job(const std::string& payload, const std::string& api_config) {
        connector_job j;
        j.job_id = "job-7";
        j.job_type = "render";
        j.service = "cmd";
        j.payload = json::parse(payload);
        j.service_config = json::parse(R"({"connector":"CommandConnector","api_config":)" + api_config + "}").as_object();
        return j;
    }
    std::string run_script(const std::string& name, const std::string& body, const std::string& extra = "") {
        return R"({"command":["/bin/sh",")" + script(name, body) + "\"]" + extra + "}";
    }
    /// Runs a job to its end on the fixture's connector.
    void run_job(const std::string& payload, const std::string& api_config) {
        c.start(job(payload, api_config), rec.callbacks());
        BOOST_TEST(rec.endings == 0);  // nothing from inside start()
        BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
        run_for(20ms);
        BOOST_TEST(rec.endings == 1);
    }
    pid_t wait_pid_file(const std::string& name) {
        const fs::path p = dir / name;
        BOOST_REQUIRE_MESSAGE(run_until([&] {
                                  const std::string t = read_file(p);
                                  return !t.empty() && t.back() == '\n';
                              }),
                              "no pid file " << p);
        return static_cast<pid_t>(std::stol(read_file(p)));
    }

    fs::path dir;
    asio::io_context io;
    command_connector c{io};
    recorder rec;
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_registry_builds_it) {
    asio::io_context io;
    BOOST_TEST(make_connector("CommandConnector", io).value()->name() == "CommandConnector");
}

BOOST_FIXTURE_TEST_SUITE(command, fixture)

BOOST_AUTO_TEST_CASE(json_on_stdout_is_the_result_and_the_payload_arrives_on_stdin) {
    run_job(R"({"prompt":"a cat","n":2})",
            run_script("echo.sh", "printf '{\"id\":\"%s\",\"type\":\"%s\",\"got\":' \"$JOBROUTER_JOB_ID\" \"$JOBROUTER_JOB_TYPE\"\n"
                                  "cat\nprintf '}\\n'\n"));
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(*rec.result == json::parse(R"({"id":"job-7","type":"render","got":{"prompt":"a cat","n":2}})"));
    BOOST_TEST(rec.progress.back() == 100);
}

BOOST_AUTO_TEST_CASE(text_on_stdout_becomes_a_json_string) {
    run_job("{}", run_script("text.sh", "echo 'hello, world'\necho 'second line'\n"));
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(rec.result->as_string() == "hello, world\nsecond line");
}

BOOST_AUTO_TEST_CASE(progress_lines_on_stderr_are_progress) {
    run_job("{}", run_script("progress.sh",
                             "echo 'progress: 10' >&2\necho 'loading model' >&2\necho 'progress: 40 step 2 of 5' >&2\n"
                             "echo 'progress: 30' >&2\necho '{\"ok\":true}'\n"));
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST((rec.progress == std::vector<std::int64_t>{10, 40, 100}));  // 30 came after 40: dropped
    BOOST_TEST(rec.messages.at(1) == "step 2 of 5");
}

BOOST_AUTO_TEST_CASE(a_non_zero_exit_fails_with_the_stderr_tail) {
    run_job("{}", run_script("fail.sh",
                             "i=0\nwhile [ $i -lt 200 ]; do echo \"noise line $i ..........\" >&2; i=$((i+1)); done\n"
                             "echo 'fatal: model file missing' >&2\nexit 3\n"));
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "exited with code 3"), rec.message());
    BOOST_TEST(has(rec.message(), "fatal: model file missing"), rec.message());
    BOOST_TEST(!has(rec.message(), "noise line 0 "), "the head of stderr is not kept");
    BOOST_TEST(rec.message().size() < 3000u);
    BOOST_TEST(rec.error->at("exit_code").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(exit_75_is_retryable_and_the_list_is_configurable) {
    run_job("{}", run_script("tempfail.sh", "exit 75\n"));
    BOOST_TEST((rec.retryable == true));
    BOOST_TEST(has(rec.message(), "(no stderr)"), rec.message());

    command_connector c2(io);
    recorder r2;
    c2.start(job("{}", run_script("busy.sh", "exit 9\n", R"(,"retryable_exit_codes":["9"])")), r2.callbacks());
    BOOST_REQUIRE(run_until([&] { return r2.endings > 0; }));
    BOOST_TEST((r2.retryable == true));
}

BOOST_AUTO_TEST_CASE(death_by_a_signal_is_retryable) {
    run_job("{}", run_script("die.sh", "echo 'going down' >&2\nkill -KILL $$\n"));
    BOOST_TEST((rec.retryable == true));
    BOOST_TEST(has(rec.message(), "killed by signal 9"), rec.message());
    BOOST_TEST(has(rec.message(), "going down"), rec.message());
}

BOOST_AUTO_TEST_CASE(the_timeout_stops_the_process_and_its_children) {
    run_job("{}", run_script("slow.sh",
                             "echo $$ > " + (dir / "main.pid").string() + "\nsleep 30 &\necho $! > " +
                                 (dir / "child.pid").string() + "\nwait\n",
                             R"(,"timeout_ms":"300","kill_grace_ms":"200")"));
    BOOST_TEST((rec.retryable == true));
    BOOST_TEST(has(rec.message(), "timed out after 300 ms"), rec.message());
    const pid_t main_pid = wait_pid_file("main.pid");
    const pid_t child_pid = wait_pid_file("child.pid");
    BOOST_TEST(!alive(main_pid));
    BOOST_TEST(::kill(main_pid, 0) == -1);  // reaped, not a zombie of ours
    BOOST_TEST(run_until([&] { return !alive(child_pid); }), "the script's child outlived it");
}

BOOST_AUTO_TEST_CASE(a_process_ignoring_sigterm_is_killed_after_the_grace) {
    run_job("{}", run_script("stubborn.sh",
                             "trap '' TERM\necho $$ > " + (dir / "main.pid").string() +
                                 "\nwhile :; do sleep 0.05; done\n",
                             R"(,"timeout_ms":200,"kill_grace_ms":100)"));
    BOOST_TEST((rec.retryable == true));
    BOOST_TEST(::kill(wait_pid_file("main.pid"), 0) == -1);
}

BOOST_AUTO_TEST_CASE(cancel_kills_the_process_without_a_callback) {
    c.start(job("{}", run_script("long.sh", "echo $$ > " + (dir / "main.pid").string() +
                                                "\necho 'progress: 5' >&2\nsleep 30\n")),
            rec.callbacks());
    const pid_t pid = wait_pid_file("main.pid");
    BOOST_REQUIRE(alive(pid));
    c.cancel();
    BOOST_TEST(run_until([&] { return ::kill(pid, 0) == -1; }), "the process is still there after cancel");
    run_for(50ms);
    BOOST_TEST(rec.endings == 0);
}

BOOST_AUTO_TEST_CASE(destroying_the_connector_mid_job_kills_and_reaps_the_process) {
    pid_t pid = 0;
    {
        command_connector local(io);
        recorder r;
        local.start(job("{}", run_script("long2.sh", "echo $$ > " + (dir / "p.pid").string() + "\nsleep 30\n")),
                    r.callbacks());
        pid = wait_pid_file("p.pid");
    }
    BOOST_TEST(run_until([&] { return ::kill(pid, 0) == -1; }), "the process outlived its connector");
}

BOOST_AUTO_TEST_CASE(huge_stdout_fails_and_stops_the_process) {
    run_job("{}", run_script("yes.sh", "echo $$ > " + (dir / "main.pid").string() + "\nexec yes 'all work and no play'\n",
                             R"(,"max_stdout_bytes":"100000")"));
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "printed more than 100000 bytes on stdout (max_stdout_bytes)"), rec.message());
    BOOST_TEST(::kill(wait_pid_file("main.pid"), 0) == -1);
}

BOOST_AUTO_TEST_CASE(a_missing_program_is_a_clear_non_retryable_error) {
    run_job("{}", R"({"command":["no-such-program-jobrouter-test","--flag"]})");
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "services.cmd.api_config.command[0]: program \"no-such-program-jobrouter-test\" not found in PATH"),
               rec.message());

    command_connector c2(io);
    recorder r2;
    c2.start(job("{}", R"({"command":["/nonexistent/dir/prog"]})"), r2.callbacks());
    BOOST_REQUIRE(run_until([&] { return r2.endings > 0; }));
    BOOST_TEST((r2.retryable == false));
    BOOST_TEST(has(r2.message(), "cannot start \"/nonexistent/dir/prog\": No such file or directory"), r2.message());
}

BOOST_AUTO_TEST_CASE(programs_are_found_in_path_and_shell_runs_a_script) {
    run_job("{}", R"({"command":"printf '%s' \"$JOBROUTER_SERVICE\" | tr a-z A-Z","shell":true})");
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(rec.result->as_string() == "CMD");

    command_connector c2(io);
    recorder r2;
    c2.start(job(R"([1,2])", R"({"command":["cat"]})"), r2.callbacks());
    BOOST_REQUIRE(run_until([&] { return r2.endings > 0; }));
    BOOST_REQUIRE_MESSAGE(r2.result, r2.message());
    BOOST_TEST(json::serialize(*r2.result) == "[1,2]");
}

BOOST_AUTO_TEST_CASE(working_dir_and_env_reach_the_child) {
    fs::create_directory(dir / "work");
    run_job("{}", run_script("where.sh", "printf '%s|%s|%s' \"$(pwd)\" \"$GREETING\" \"${HOME:-unset}\"\n",
                             R"(,"working_dir":")" + (dir / "work").string() +
                                 R"(","env":{"GREETING":"hi there"},"inherit_env":"false")"));
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(rec.result->as_string() == fs::canonical(dir / "work").string() + "|hi there|unset");
}

BOOST_AUTO_TEST_CASE(bad_config_fails_not_retryable_naming_the_field) {
    run_job("{}", R"({"command":["/bin/sh","-c","true"],"timeout_ms":"soon"})");
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "services.cmd.api_config.timeout_ms"), rec.message());

    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({})", "services.cmd.api_config.command: missing"},
        {R"({"command":"echo hi"})", "services.cmd.api_config.command: must be a non-empty array"},
        {R"({"command":["echo"],"shell":true})", "with \"shell\": true, must be a non-empty string"},
        {R"({"command":["echo"],"working_dir":")" + (dir / "nope").string() + "\"}", "is not a directory"},
        {R"({"command":["echo"],"env":{"A-B":"x"}})", "services.cmd.api_config.env.A-B: not a valid"},
    };
    for (const auto& [config, expected] : cases) {
        command_connector cc(io);
        recorder r;
        cc.start(job("{}", config), r.callbacks());
        BOOST_REQUIRE(run_until([&] { return r.endings > 0; }));
        BOOST_TEST((r.retryable == false));
        BOOST_TEST(has(r.message(), expected), config << " -> " << r.message());
    }
}

// Starting a child must not disturb other connectors on the same io_context: a launcher that
// fork()s with io_context::notify_fork joins Asio's resolver thread and strands a resolve in
// flight, so a REST job started next to a command job could hang.
BOOST_AUTO_TEST_CASE(starting_processes_does_not_stall_http_requests_on_the_same_io_context) {
    using jobrouter::test::http_test_server;
    using jobrouter::test::test_reply;
    using jobrouter::test::test_request;
    http_test_server server(io, [](const test_request&) { return test_reply::json(R"({"ok":true})"); });
    for (int round = 0; round < 20; ++round) {
        http_rest_connector rest(io);
        recorder rest_rec;
        connector_job rest_job = job("{}", R"({"url":"http://localhost:)" + std::to_string(server.port()) +
                                               R"(/","request_timeout_ms":3000,"max_attempts":1})");
        command_connector cmd(io);
        recorder cmd_rec;
        rest.start(std::move(rest_job), rest_rec.callbacks());
        cmd.start(job("{}", R"({"command":["/bin/echo","{}"]})"), cmd_rec.callbacks());
        BOOST_REQUIRE_MESSAGE(run_until([&] { return rest_rec.endings > 0 && cmd_rec.endings > 0; }, 8s),
                              "round " << round << ": rest ended " << rest_rec.endings << ", command ended " << cmd_rec.endings);
        BOOST_REQUIRE_MESSAGE(rest_rec.result, "round " << round << ": " << rest_rec.message());
        BOOST_REQUIRE_MESSAGE(cmd_rec.result, "round " << round << ": " << cmd_rec.message());
    }
}

BOOST_AUTO_TEST_SUITE_END()
