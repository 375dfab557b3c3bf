// mock_connector: EMP's MockConnector ("MockConnector" in service-mapping.json), the basis of
// deterministic lifecycle tests. No I/O: it waits on a steady_timer and reports
//   progress 10 at the start, 80 after ~80% of the delay, then 100 and completes with
//   {"mock": true, "job_id": ..., "payload": <payload>, "delay_ms": ...}.
//
// Job fields (`payload` must be an object for these to apply; anything else means defaults):
// - `payload.delay_ms`: a non-negative integer (at most kMaxDelayMs); when absent, the
//   service's `api_config.delay_ms` (an integer or a string of digits, as `${MOCK_DELAY_MS}`
//   leaves it), else 100. Anything else fails the attempt, not retryable, naming the field.
// - `payload.should_fail`: true makes the attempt fail, retryable, where it would have
//   completed: {"message": "mock failure (payload.should_fail)"}. Must be a boolean.
// `api_config.failure_rate` is not honoured: random failures would make tests nondeterministic.
//
// Executor: the io_context it is built with; every callback is posted there, never made from
// inside start() or cancel(). Ownership: the caller owns the connector (one per job); queued
// timer handlers share its run state, so destroying it (which cancels) while one is queued is
// safe, and after cancel() (or destruction) no callback is made.
#pragma once

#include "connectors/connector.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string_view>

namespace jobrouter {

namespace detail {
struct mock_run;
}

class mock_connector final : public connector {
public:
    static constexpr std::string_view kName = "MockConnector";
    static constexpr std::int64_t kDefaultDelayMs = 100;
    static constexpr std::int64_t kMaxDelayMs = 86400000;  ///< one day

    explicit mock_connector(boost::asio::io_context& io);
    ~mock_connector() override;
    mock_connector(const mock_connector&) = delete;
    mock_connector& operator=(const mock_connector&) = delete;

    std::string_view name() const override { return kName; }
    /// Starts the job (once per connector object); returns at once.
    void start(connector_job job, connector_callbacks callbacks) override;
    /// Cancels the timer; no callback follows.
    void cancel() override;

private:
    std::shared_ptr<detail::mock_run> run_;
};

}  // namespace jobrouter
