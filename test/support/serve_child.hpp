// serve_child: `jobrouter serve` (or any jobrouter command) as a real child process for the
// Redis store's process tests: a child_process (child_process.hpp: posix_spawn of
// JOBROUTER_BINARY with a clean environment, output in files of a temporary directory, bounded
// waits, killed and reaped in the destructor) seen as those tests use it: kill -9, the exit
// code within a limit, the port from --port-file.
#pragma once

#include "test/support/child_process.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace jobrouter::test {

using scratch_dir = temp_dir;

class serve_child {
public:
    /// Runs `jobrouter <args...>` without the JOBROUTER_*, WORKERS and WORKER_* variables of
    /// the test's own environment.
    serve_child(const scratch_dir& dir, std::vector<std::string> args) : child_(dir, std::move(args)) {}

    /// SIGKILL and reap (kill -9: no shutdown path runs).
    void kill_now() { child_.kill_now(); }
    bool running() { return child_.running(); }
    std::string stderr_text() const { return child_.stderr_text(); }

    /// The exit code once the child exited normally within `limit`; nothing otherwise.
    std::optional<int> exit_code(std::chrono::seconds limit = std::chrono::seconds(20)) {
        const auto status = child_.wait_exit(limit);
        if (!status || !WIFEXITED(*status)) return std::nullopt;
        return WEXITSTATUS(*status);
    }

    /// The port from --port-file, once the child wrote it (bounded).
    std::string wait_port(const std::filesystem::path& port_file, std::chrono::seconds limit = std::chrono::seconds(20)) {
        return jobrouter::test::wait_port(child_, port_file, limit);
    }

private:
    child_process child_;
};

}  // namespace jobrouter::test
