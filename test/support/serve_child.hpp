// serve_child: `jobrouter serve` (or any jobrouter command) as a real child process for the
// Redis store's process tests: posix_spawn of JOBROUTER_BINARY with a clean environment, its
// stdout and stderr in files of a temporary directory, the port read from --port-file, kill
// (SIGKILL) and bounded waits. The destructor kills a child still alive and reaps it.
// (serve_process_test has the same helpers inline; they predate this header.)
#pragma once

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
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

struct scratch_dir {
    std::filesystem::path path;
    scratch_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "jobrouter_child_XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

class serve_child {
public:
    /// Runs `jobrouter <args...>` without the JOBROUTER_*, WORKERS and WORKER_* variables of
    /// the test's own environment.
    serve_child(const scratch_dir& dir, std::vector<std::string> args) {
        const std::string n = std::to_string(++count_);
        out_ = dir.path / ("stdout-" + n);
        err_ = dir.path / ("stderr-" + n);
        args.insert(args.begin(), JOBROUTER_BINARY);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env;
        for (char** e = environ; e && *e; ++e) {
            const std::string kv = *e;
            const std::string name = kv.substr(0, kv.find('='));
            if (name == "WORKERS" || name.rfind("JOBROUTER_", 0) == 0 || name.rfind("WORKER_", 0) == 0) continue;
            env.push_back(kv);
        }
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
    ~serve_child() { kill_now(); }
    serve_child(const serve_child&) = delete;
    serve_child& operator=(const serve_child&) = delete;

    /// SIGKILL and reap (kill -9: no shutdown path runs).
    void kill_now() {
        if (!alive_) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        alive_ = false;
    }
    bool running() {
        if (!alive_) return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) alive_ = false;
        return alive_;
    }
    std::string stderr_text() const { return read_text_file(err_); }

    /// The exit code once the child exited normally within `limit`; nothing otherwise.
    std::optional<int> exit_code(std::chrono::seconds limit = std::chrono::seconds(20)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (alive_ && std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                alive_ = false;
                if (WIFEXITED(status)) return WEXITSTATUS(status);
                return std::nullopt;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return std::nullopt;
    }

    /// The port from --port-file, once the child wrote it (bounded).
    std::string wait_port(const std::filesystem::path& port_file, std::chrono::seconds limit = std::chrono::seconds(20)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            const std::string text = read_text_file(port_file);
            if (!text.empty() && text.back() == '\n') return text.substr(0, text.size() - 1);
            BOOST_REQUIRE_MESSAGE(running(), "serve exited before listening; its stderr:\n" << stderr_text());
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        BOOST_FAIL("serve never wrote its port file; its stderr:\n" << stderr_text());
        return {};
    }

private:
    static inline int count_ = 0;
    std::filesystem::path out_, err_;
    pid_t pid_ = -1;
    bool alive_ = false;
};

}  // namespace jobrouter::test
