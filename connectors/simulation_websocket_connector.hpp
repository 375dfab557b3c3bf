// simulation_websocket_connector: EMP's SimulationWebsocketConnector
// ("SimulationWebsocketConnector" in service-mapping.json). It speaks the simulation service's
// WebSocket protocol (`jobrouter simulate`, server/simulation_service.hpp) with Beast:
//
//   -> {"type":"simulation_job", job_id, job_type, payload, config:{processing_time_ms, steps,
//       progress_interval_ms}}
//   <- simulation_started, simulation_progress {progress, current_step, total_steps} ->
//      on_progress; simulation_complete {results} -> on_complete(results); simulation_error
//      {error} -> on_fail at once (retryable: a simulated failure need not recur).
//   cancel() -> {"type":"cancel_simulation", job_id}, then the connection is closed.
//
// Connection loss before the job ends: reconnect after a back-off (reconnect_delay_ms, doubling,
// at most kMaxBackoffMs), at most max_retries times, re-sending simulation_job (the service does
// not restart a job that is still running: it reattaches the client), then a retryable failure.
// A first connection that cannot be made (refused, timed out) fails the attempt at once,
// retryable. Messages about other job ids are ignored.
//
// Config (services.<s> of the mapping; numbers may be strings of digits, as ${VAR} leaves them;
// a bad value fails the attempt, not retryable, naming the JSON path):
// - `api_config.ws_url` ("ws://host[:port][/path]"), else `ws://127.0.0.1:<ports[0]>`;
// - `api_config.timeout_ms` (default 30000): the deadline of resolving, connecting, the
//   handshake and the close;
// - `api_config.heartbeat_interval_ms` (default 10000): a ping is sent after this long without
//   a message, and the connection counts as lost after twice this long (Beast's keep-alive pings);
// - `api_config.max_retries` (default 3): reconnections allowed per job;
// - `api_config.reconnect_delay_ms` (default 250): the first back-off;
// - `simulation_config.{processing_time_ms, steps, progress_interval_ms}`: sent in `config` when set.
//
// Executor: the io_context it is built with; every callback is made from a handler there, never
// from inside start() or cancel(). Ownership: the caller owns the connector (one per job);
// handlers share its run state, so destroying it (which cancels) is safe at any time, and after
// cancel() (or destruction) no callback is made.
#pragma once

#include "connectors/connector.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string_view>

namespace jobrouter {

namespace detail {
struct sim_ws_run;
}

class simulation_websocket_connector final : public connector {
public:
    static constexpr std::string_view kName = "SimulationWebsocketConnector";
    static constexpr std::int64_t kDefaultTimeoutMs = 30000;
    static constexpr std::int64_t kDefaultHeartbeatMs = 10000;
    static constexpr std::int64_t kDefaultMaxRetries = 3;
    static constexpr std::int64_t kDefaultReconnectDelayMs = 250;
    static constexpr std::int64_t kMaxBackoffMs = 10000;

    explicit simulation_websocket_connector(boost::asio::io_context& io);
    ~simulation_websocket_connector() override;
    simulation_websocket_connector(const simulation_websocket_connector&) = delete;
    simulation_websocket_connector& operator=(const simulation_websocket_connector&) = delete;

    std::string_view name() const override { return kName; }
    /// Starts the job (once per connector object); returns at once.
    void start(connector_job job, connector_callbacks callbacks) override;
    /// Sends cancel_simulation (when connected) and closes the connection; no callback follows.
    void cancel() override;

private:
    std::shared_ptr<detail::sim_ws_run> run_;
};

}  // namespace jobrouter
