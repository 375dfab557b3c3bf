// command_connector: runs a configured program for each job ("CommandConnector" in
// service-mapping.json). Settings in `services.<s>.api_config` (numbers may be strings of
// digits, as ${VAR} leaves them; a bad value fails the job, not retryable, naming the field):
//   command               ["program", "arg", ...]: run directly, no shell (a program without '/'
//                         is looked up in the child's PATH); or, with "shell": true, one string
//                         run as /bin/sh -c <command>
//   shell                 false (default) or true
//   working_dir           the child's working directory (default: serve's)
//   env                   {"NAME": "value"} added to the child's environment
//   inherit_env           whether the child starts from serve's environment (default true)
//   timeout_ms            the job's deadline (default 600000)
//   kill_grace_ms         SIGTERM first, SIGKILL this long after (default 2000)
//   max_stdout_bytes      more output than this fails the job and stops the process (16 MiB)
//   retryable_exit_codes  exit codes worth another attempt (default [75], EX_TEMPFAIL)
// The child also gets JOBROUTER_JOB_ID, JOBROUTER_JOB_TYPE and JOBROUTER_SERVICE.
//
// Protocol: the job's payload, as JSON, on the child's stdin (then EOF). Its stdout is the
// result: JSON when it parses as JSON, else the text (without trailing newlines) as a JSON
// string. A stderr line
// "progress: N [message]" (N from 0 to 100) is progress; other stderr lines are kept, and the
// last 2 KiB go into the error when the process exits non-zero or is killed.
// Outcomes: exit 0 completes; another exit code fails (retryable only for
// retryable_exit_codes); death by a signal that jobrouter did not send, and the timeout, fail
// retryable; too much stdout, a program that cannot be started (not found, not executable, a
// missing working_dir) and bad config fail not retryable.
//
// The child runs in its own process group, and every stop (timeout, cancel, too much output)
// signals the whole group, so that a shell's own children stop too: SIGTERM, then SIGKILL
// after kill_grace_ms. Every child is reaped (no zombies), even after cancel() or the
// connector's destruction; the child inherits no descriptor but stdin, stdout and stderr.
//
// Executor: the io_context it is built with; every callback is posted there, never made from
// inside start() or cancel(). Ownership: the caller owns the connector (one per job); the
// process, its pipes and timers live in a run state shared with their handlers, which outlives
// the connector until the child is reaped. After cancel() (or destruction) no callback is made.
#pragma once

#include "connectors/connector.hpp"

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace jobrouter {

namespace detail {
struct command_run;
}

class command_connector final : public connector {
public:
    static constexpr std::string_view kName = "CommandConnector";
    static constexpr std::size_t kStderrTailBytes = 2048;

    explicit command_connector(boost::asio::io_context& io);
    ~command_connector() override;
    command_connector(const command_connector&) = delete;
    command_connector& operator=(const command_connector&) = delete;

    std::string_view name() const override { return kName; }
    /// Starts the job (once per connector object); returns at once.
    void start(connector_job job, connector_callbacks callbacks) override;
    /// Stops the process group (SIGTERM, then SIGKILL after the grace); no callback follows.
    void cancel() override;

private:
    std::shared_ptr<detail::command_run> run_;
};

}  // namespace jobrouter
