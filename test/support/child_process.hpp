// child_process: `jobrouter <args...>` (JOBROUTER_BINARY) as a real child process, spawned with
// posix_spawn, its standard output and error in files of a temp_dir, for the tests that must
// signal or kill the binary. The child sees the environment without anything serve would read
// (WORKERS, JOBROUTER_*, WORKER_*, ...), so the flags alone decide. Every wait is bounded and a
// child still alive in the destructor is killed and reaped. wait_port reads serve's
// --port-file. Include after <boost/test/unit_test.hpp>.
#pragma once

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace jobrouter::test {

inline std::string read_text_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// A temporary directory, removed at the end.
struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "jobrouter_test_XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
};

// The environment without anything serve would read.
inline std::vector<std::string> serve_free_environment() {
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) {
        const std::string kv = *e;
        const std::string name = kv.substr(0, kv.find('='));
        if (name == "WORKERS" || name.rfind("JOBROUTER_", 0) == 0 || name.rfind("WORKER_", 0) == 0 ||
            name == "ALLOWED_CUSTOMERS" || name == "DENIED_CUSTOMERS" || name.rfind("MOCK_", 0) == 0)
            continue;
        out.push_back(kv);
    }
    return out;
}

class child_process {
public:
    static constexpr auto kExitDeadline = std::chrono::seconds(20);

    /// `extra_env`: NAME=value entries that replace the environment's own.
    child_process(const temp_dir& dir, std::vector<std::string> args, const std::vector<std::string>& extra_env = {})
        : out_(dir.path / ("stdout-" + std::to_string(++count_))), err_(dir.path / ("stderr-" + std::to_string(count_))) {
        args.insert(args.begin(), JOBROUTER_BINARY);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env;
        for (const auto& kv : serve_free_environment()) {
            bool replaced = false;
            for (const auto& e : extra_env) replaced = replaced || e.substr(0, e.find('=') + 1) == kv.substr(0, kv.find('=') + 1);
            if (!replaced) env.push_back(kv);
        }
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        std::vector<char*> envp;
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int rc = posix_spawn(&pid_, JOBROUTER_BINARY, &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        BOOST_REQUIRE_MESSAGE(rc == 0, "posix_spawn " << JOBROUTER_BINARY << ": " << std::strerror(rc));
        alive_ = true;
    }

    ~child_process() { kill_now(); }

    /// SIGKILL and reap (kill -9: no shutdown path runs).
    void kill_now() {
        if (!alive_) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        alive_ = false;
        status_ = status;
    }

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// The raw wait status once the child has exited, or nothing while it still runs after `timeout`.
    std::optional<int> wait_exit(std::chrono::steady_clock::duration timeout = kExitDeadline) {
        if (!alive_) return status_;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                alive_ = false;
                status_ = status;
                return status_;
            }
            if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    /// The exit code; fails the test when the child did not exit normally in time.
    int exit_code(std::chrono::steady_clock::duration timeout = kExitDeadline) {
        auto s = wait_exit(timeout);
        BOOST_REQUIRE_MESSAGE(s, "the child did not exit in time; its stderr:\n" << stderr_text());
        BOOST_REQUIRE_MESSAGE(WIFEXITED(*s), "the child did not exit normally (signal "
                                                 << (WIFSIGNALED(*s) ? WTERMSIG(*s) : 0) << "); its stderr:\n"
                                                 << stderr_text());
        return WEXITSTATUS(*s);
    }
    bool running() { return alive_ && !wait_exit(std::chrono::milliseconds(0)).has_value(); }
    void signal(int sig) {
        BOOST_REQUIRE(alive_);
        BOOST_REQUIRE(::kill(pid_, sig) == 0);
    }
    pid_t pid() const { return pid_; }

    std::string stdout_text() const { return read_text_file(out_); }
    std::string stderr_text() const { return read_text_file(err_); }

private:
    static inline int count_ = 0;
    std::filesystem::path out_, err_;
    pid_t pid_ = -1;
    bool alive_ = false;
    std::optional<int> status_;
};

/// Waits (bounded) for serve's --port-file to hold a whole line; fails when serve exits first.
inline std::string wait_port(child_process& c, const std::filesystem::path& port_file,
                             std::chrono::steady_clock::duration timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::string text = read_text_file(port_file);
        if (!text.empty() && text.back() == '\n') {
            const std::string port = text.substr(0, text.size() - 1);
            BOOST_REQUIRE_MESSAGE(!port.empty() && port.find_first_not_of("0123456789") == std::string::npos,
                                  "port file holds " << text);
            return port;
        }
        BOOST_REQUIRE_MESSAGE(c.running(), "serve exited before listening; its stderr:\n" << c.stderr_text());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_FAIL("serve never wrote its port file; its stderr:\n" << c.stderr_text());
    return {};
}

}  // namespace jobrouter::test
