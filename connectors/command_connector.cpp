// How the child is started and awaited. Boost.Process v2 (header-only in Boost 1.81) waits for
// the exit through a pidfd on the io_context: no SIGCHLD handler that could steal another
// component's children, no polling; that is what this connector uses it for. Its launcher is
// not used: it fork()s and calls io_context::notify_fork, which joins Asio's resolver thread and
// leaves a resolve that was in flight (another connector's, on the same io_context) queued with
// no thread to run it until the next resolve starts (seen here as a REST job hanging while a
// command job started). posix_spawn instead: glibc runs it as clone(CLONE_VFORK) with no code of
// ours in the child, reports exec failures (ENOENT, EACCES) as its return value, and its
// attributes give the child its own process group, SIGPIPE back to the default, the working
// directory, and no descriptor but 0, 1 and 2 (addclosefrom_np). BOOST_PROCESS_USE_STD_FS keeps
// v2 on std::filesystem (Boost.Filesystem would be one more compiled library).
#define BOOST_PROCESS_USE_STD_FS 1

#include "connectors/command_connector.hpp"

#include "connectors/command_settings.hpp"
#include "connectors/outcome.hpp"
#include "core/json_util.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/assert.hpp>
// Boost 1.81's v2 config.hpp names boost::optional without including it.
#include <boost/optional.hpp>
#include <boost/process/v2/process.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace jobrouter {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace detail {

struct command_run {
    explicit command_run(asio::io_context& i)
        : io(i), in(i), out(i), err(i), deadline(i), kill_timer(i), drain_timer(i) {}

    ~command_run() {
        // The io_context is going away with the child still running (serve stopping): kill the
        // group now; the process object's destructor then reaps the leader.
        if (pid > 0 && !exited) ::kill(-pid, SIGKILL);
    }

    enum class stop_reason { none, timeout, cancel, too_much_output };

    asio::io_context& io;
    std::optional<bp::process> process;
    pid_t pid = -1;
    asio::writable_pipe in;
    asio::readable_pipe out;
    asio::readable_pipe err;
    asio::steady_timer deadline;     ///< timeout_ms
    asio::steady_timer kill_timer;   ///< SIGKILL after the grace
    asio::steady_timer drain_timer;  ///< after the exit: how long the pipes may stay open
    std::string payload;             ///< written to stdin
    std::array<char, 64 * 1024> out_chunk{};
    std::array<char, 4096> err_chunk{};
    std::string stdout_text;
    std::string stderr_line;  ///< a line not yet ended
    std::string stderr_tail;  ///< the last kStderrTailBytes of non-progress stderr
    bool out_eof = false;
    bool err_eof = false;
    bool exited = false;
    int wait_status = 0;
    stop_reason stopped = stop_reason::none;
    connector_callbacks callbacks;
    command_settings settings;
    std::int64_t last_percent = -1;
    bool started = false;
    bool done = false;  ///< finished or cancelled: no callback may follow
};

}  // namespace detail

namespace {

using run_ptr = std::shared_ptr<detail::command_run>;
using stop_reason = detail::command_run::stop_reason;

// Writing the payload to a child that exits without reading it raises SIGPIPE, which would
// end serve; ignored once, process-wide, the write fails with EPIPE instead (the usual choice
// for a server). Children get the default back (posix_spawnattr_setsigdefault in launch).
void ignore_sigpipe() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa {};
        sa.sa_handler = SIG_IGN;
        ::sigemptyset(&sa.sa_mask);
        ::sigaction(SIGPIPE, &sa, nullptr);
    });
}

json::object base_error(const run_ptr& run, std::string message) {
    json::object e;
    e["message"] = std::move(message);
    e["connector"] = std::string(command_connector::kName);
    json::array argv;
    for (const auto& a : run->settings.argv) argv.emplace_back(a);
    e["command"] = std::move(argv);
    return e;
}

void report_fail(const run_ptr& run, json::object error, bool retryable) {
    run->deadline.cancel();
    run->drain_timer.cancel();
    deliver_fail(*run, std::move(error), retryable);
}

void report_progress(const run_ptr& run, std::int64_t percent, std::string message) {
    if (run->done || percent <= run->last_percent) return;
    run->last_percent = percent;
    deliver_progress(*run, percent, std::move(message));
}

// The program as exec will run it: a name without '/' is searched in the child's PATH (its
// own from the config when set there), as a shell would; "" when not found.
std::string resolve_program(const std::string& name, const std::vector<std::string>& env) {
    if (name.find('/') != std::string::npos) return name;
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& kv : env)
        if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto end = std::min(path.find(':', start), path.size());
        const std::string dir = end > start ? path.substr(start, end - start) : ".";
        const std::string candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return candidate;
        start = end + 1;
    }
    return "";
}

std::vector<std::string> child_environment(const run_ptr& run, const connector_job& job) {
    std::vector<std::pair<std::string, std::string>> vars = run->settings.env;
    vars.emplace_back("JOBROUTER_JOB_ID", job.job_id);
    vars.emplace_back("JOBROUTER_JOB_TYPE", job.job_type);
    vars.emplace_back("JOBROUTER_SERVICE", job.service);
    std::vector<std::string> out;
    if (run->settings.inherit_env) {
        for (char** e = environ; e && *e; ++e) {
            const std::string_view kv = *e;
            const std::string_view name = kv.substr(0, kv.find('='));
            bool overridden = false;
            for (const auto& [n, v] : vars) overridden = overridden || n == name;
            if (!overridden) out.emplace_back(kv);
        }
    }
    for (const auto& [n, v] : vars) out.push_back(n + "=" + v);
    return out;
}

std::string signal_name(int sig) {
    const char* d = ::strsignal(sig);
    return "signal " + std::to_string(sig) + (d ? " (" + std::string(d) + ")" : std::string());
}

std::string with_stderr(std::string message, const run_ptr& run) {
    std::string tail = run->stderr_tail;
    if (!run->stderr_line.empty()) tail += run->stderr_line;  // a last line without '\n'
    if (tail.size() > command_connector::kStderrTailBytes) tail = tail.substr(tail.size() - command_connector::kStderrTailBytes);
    if (tail.empty()) return message + " (no stderr)";
    return message + "; stderr ends with: " + tail;
}

// Signals the group: SIGTERM now, SIGKILL after the grace unless it has exited by then.
void stop_group(const run_ptr& run, stop_reason why) {
    if (run->stopped == stop_reason::none) run->stopped = why;
    if (run->pid <= 0 || run->exited) return;
    ::kill(-run->pid, run->settings.kill_grace.count() == 0 ? SIGKILL : SIGTERM);
    run->kill_timer.expires_after(run->settings.kill_grace);
    run->kill_timer.async_wait([run](boost::system::error_code ec) {
        if (!ec && !run->exited) ::kill(-run->pid, SIGKILL);
    });
}

void close_pipes(const run_ptr& run) {
    boost::system::error_code ignored;
    run->in.close(ignored);
    run->out.close(ignored);
    run->err.close(ignored);
}

// Once the child has exited and both pipes have ended: the outcome.
void finish(const run_ptr& run) {
    if (!run->exited || !run->out_eof || !run->err_eof) return;
    run->deadline.cancel();
    run->kill_timer.cancel();
    run->drain_timer.cancel();
    close_pipes(run);
    if (run->done) return;
    const int status = run->wait_status;
    switch (run->stopped) {
    case stop_reason::timeout:
        return report_fail(run, base_error(run, with_stderr("timed out after " + std::to_string(run->settings.timeout.count()) +
                                                                " ms (timeout_ms); the process group was stopped", run)),
                           true);
    case stop_reason::too_much_output:
        return report_fail(run, base_error(run, "printed more than " + std::to_string(run->settings.max_stdout_bytes) +
                                                    " bytes on stdout (max_stdout_bytes); the process group was stopped"),
                           false);
    case stop_reason::cancel: return;
    case stop_reason::none: break;
    }
    if (WIFSIGNALED(status)) {
        json::object e = base_error(run, with_stderr("the process was killed by " + signal_name(WTERMSIG(status)), run));
        e["signal"] = WTERMSIG(status);
        e["stderr_tail"] = run->stderr_tail;
        // Not by us: the OOM killer or an operator; another attempt may well succeed.
        return report_fail(run, std::move(e), true);
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code != 0) {
        json::object e = base_error(run, with_stderr("the process exited with code " + std::to_string(code), run));
        e["exit_code"] = code;
        e["stderr_tail"] = run->stderr_tail;
        const auto& retryable = run->settings.retryable_exit_codes;
        return report_fail(run, std::move(e), std::find(retryable.begin(), retryable.end(), code) != retryable.end());
    }
    boost::system::error_code ec;
    json::value result = json::parse(run->stdout_text, ec);
    if (ec) {
        // Not JSON: the text, without its trailing newlines (as $(...) in a shell).
        std::string text = std::move(run->stdout_text);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        result = json::string(text);
    }
    report_progress(run, 100, "done");
    deliver_complete(*run, std::move(result));
}

// "progress: 40" or "progress: 40 step 2 of 5": the percent and the message.
std::optional<std::pair<std::int64_t, std::string>> progress_line(std::string_view line) {
    constexpr std::string_view prefix = "progress:";
    if (line.size() < prefix.size() || line.substr(0, prefix.size()) != prefix) return std::nullopt;
    std::string_view rest = line.substr(prefix.size());
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    double percent = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), percent);
    if (ec != std::errc() || percent < 0 || percent > 100) return std::nullopt;
    std::string_view message = rest.substr(static_cast<std::size_t>(end - rest.data()));
    while (!message.empty() && message.front() == ' ') message.remove_prefix(1);
    if (message.empty()) message = line;
    return std::pair{static_cast<std::int64_t>(percent), std::string(message)};
}

void on_stderr_line(const run_ptr& run, std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto p = progress_line(line)) {
        report_progress(run, std::min<std::int64_t>(p->first, 99), std::move(p->second));
        return;
    }
    run->stderr_tail.append(line);
    run->stderr_tail += '\n';
    if (run->stderr_tail.size() > 2 * command_connector::kStderrTailBytes)
        run->stderr_tail.erase(0, run->stderr_tail.size() - command_connector::kStderrTailBytes);
}

void read_stderr(const run_ptr& run) {
    run->err.async_read_some(asio::buffer(run->err_chunk), [run](boost::system::error_code ec, std::size_t n) {
        std::string& line = run->stderr_line;
        line.append(run->err_chunk.data(), n);
        std::size_t pos;
        while ((pos = line.find('\n')) != std::string::npos) {
            on_stderr_line(run, std::string_view(line).substr(0, pos));
            line.erase(0, pos + 1);
        }
        // A "line" with no end in sight is kept as stderr text, not held in memory whole.
        if (line.size() > 4 * command_connector::kStderrTailBytes) {
            on_stderr_line(run, line);
            line.clear();
        }
        if (ec) {
            run->err_eof = true;
            return finish(run);
        }
        read_stderr(run);
    });
}

void read_stdout(const run_ptr& run) {
    run->out.async_read_some(asio::buffer(run->out_chunk), [run](boost::system::error_code ec, std::size_t n) {
        if (run->stdout_text.size() + n > run->settings.max_stdout_bytes) {
            // Stop reading and stop the process: memory stays bounded, the job fails.
            stop_group(run, stop_reason::too_much_output);
            boost::system::error_code ignored;
            run->out.close(ignored);
            run->out_eof = true;
            return finish(run);
        }
        run->stdout_text.append(run->out_chunk.data(), n);
        if (ec) {
            run->out_eof = true;
            return finish(run);
        }
        read_stdout(run);
    });
}

void on_exit(const run_ptr& run, int status) {
    run->exited = true;
    run->wait_status = status;
    run->kill_timer.cancel();
    if (run->out_eof && run->err_eof) return finish(run);
    // Something the child started still holds its stdout or stderr. Give it the grace, then
    // stop the group (it still exists: its members hold the pipes) and end with what we have.
    run->drain_timer.expires_after(std::max(run->settings.kill_grace, std::chrono::milliseconds(100)));
    run->drain_timer.async_wait([run](boost::system::error_code ec) {
        if (ec) return;
        ::kill(-run->pid, SIGKILL);
        close_pipes(run);
        run->out_eof = run->err_eof = true;
        finish(run);
    });
}

void fail_to_start(const run_ptr& run, std::string message) {
    run->exited = run->out_eof = run->err_eof = true;
    report_fail(run, base_error(run, std::move(message)), false);
}

void launch(const run_ptr& run, const connector_job& job) {
    const command_settings& s = run->settings;
    const std::string field = "services." + job.service + ".api_config";
    if (s.working_dir && !std::filesystem::is_directory(*s.working_dir))
        return fail_to_start(run, field + ".working_dir: " + jobrouter::quoted(*s.working_dir) + " is not a directory");
    std::vector<std::string> env = child_environment(run, job);
    const std::string program = resolve_program(s.argv[0], env);
    if (program.empty())
        return fail_to_start(run, field + ".command[0]: program " + jobrouter::quoted(s.argv[0]) + " not found in PATH");
    std::vector<const char*> envp;
    for (const auto& kv : env) envp.push_back(kv.c_str());
    envp.push_back(nullptr);

    std::vector<char*> argv;
    for (const auto& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    // Our ends become Asio pipes; the child's ends are dup'ed onto 0, 1, 2 and closed here
    // once it runs. O_CLOEXEC everywhere: no other child may inherit them.
    int in_fds[2], out_fds[2], err_fds[2];
    if (::pipe2(in_fds, O_CLOEXEC) != 0) return fail_to_start(run, std::string("cannot create a pipe: ") + std::strerror(errno));
    if (::pipe2(out_fds, O_CLOEXEC) != 0) {
        const int e = errno;
        ::close(in_fds[0]), ::close(in_fds[1]);
        return fail_to_start(run, std::string("cannot create a pipe: ") + std::strerror(e));
    }
    if (::pipe2(err_fds, O_CLOEXEC) != 0) {
        const int e = errno;
        ::close(in_fds[0]), ::close(in_fds[1]), ::close(out_fds[0]), ::close(out_fds[1]);
        return fail_to_start(run, std::string("cannot create a pipe: ") + std::strerror(e));
    }
    boost::system::error_code assign_ec;
    run->in.assign(in_fds[1], assign_ec);
    run->out.assign(out_fds[0], assign_ec);
    run->err.assign(err_fds[0], assign_ec);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_fds[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (s.working_dir) posix_spawn_file_actions_addchdir_np(&actions, s.working_dir->c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    ::sigemptyset(&none);
    ::sigemptyset(&defaults);
    ::sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), const_cast<char* const*>(envp.data()));
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(in_fds[0]), ::close(out_fds[1]), ::close(err_fds[1]);
    if (rc != 0) {
        close_pipes(run);
        return fail_to_start(run, "cannot start " + jobrouter::quoted(program) + ": " + std::strerror(rc));
    }
    try {
        run->process.emplace(asio::any_io_executor(run->io.get_executor()), pid);  // pidfd_open
    } catch (const std::exception& e) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        close_pipes(run);
        return fail_to_start(run, std::string("cannot watch the started process (pidfd_open): ") + e.what());
    }
    run->pid = run->process->id();

    // The handler's code folds exit codes and signals together (evaluate_exit_code); the raw
    // wait status that tells them apart is native_exit_code().
    run->process->async_wait([run](bp::error_code ec, int) {
        on_exit(run, ec ? 0x7f00 : run->process->native_exit_code());  // an error cannot happen for our own child
    });
    read_stdout(run);
    read_stderr(run);
    asio::async_write(run->in, asio::buffer(run->payload), [run](boost::system::error_code, std::size_t) {
        // EPIPE (the child did not read it all) is the child's business; EOF either way.
        boost::system::error_code ignored;
        run->in.close(ignored);
    });
    run->deadline.expires_after(s.timeout);
    run->deadline.async_wait([run](boost::system::error_code ec) {
        if (!ec && !run->exited) stop_group(run, stop_reason::timeout);
    });
}

}  // namespace

command_connector::command_connector(asio::io_context& io) : run_(std::make_shared<detail::command_run>(io)) {
    ignore_sigpipe();
}

command_connector::~command_connector() { cancel(); }

void command_connector::start(connector_job job, connector_callbacks callbacks) {
    BOOST_ASSERT_MSG(!run_->started, "a connector runs one job");
    run_->started = true;
    run_->callbacks = std::move(callbacks);
    auto settings = read_command_settings(job);
    if (!settings) {
        // The config cannot change between attempts, so retrying would only fail again.
        asio::post(run_->io, [run = run_, e = settings.error()] {
            json::object error;
            error["message"] = e.text();
            error["connector"] = std::string(command_connector::kName);
            deliver_fail(*run, std::move(error), false);
        });
        return;
    }
    run_->settings = std::move(*settings);
    run_->payload = json::serialize(job.payload);
    asio::post(run_->io, [run = run_, job = std::move(job)] {
        if (!run->done) launch(run, job);
    });
}

void command_connector::cancel() {
    const bool was_running = run_->started && !run_->done;
    run_->done = true;
    // Drop the callbacks now: they may hold the caller's state, which need not outlive us.
    run_->callbacks = {};
    if (!was_running) return;
    run_->deadline.cancel();
    stop_group(run_, stop_reason::cancel);
    // Our ends of the pipes close: a child still writing gets EPIPE. The wait and the kill
    // timer keep the run state alive until the child is reaped.
    close_pipes(run_);
}

}  // namespace jobrouter
