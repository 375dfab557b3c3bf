// simulation_service: a stand-in for EMP's simulation services, speaking both of their
// protocols on loopback, so that the SimulationHttpConnector and SimulationWebsocketConnector
// make real round trips (`jobrouter simulate`, and serve when it starts one in-process).
//
// HTTP (Beast, on settings.http_endpoint):
//   POST /process  {job_id, job_type, payload, simulation_config:{processing_time_ms, steps,
//                  progress_interval_ms}}  -> 202 {"job_id", "status":"processing"}
//   GET  /history/{job_id} -> 200 {"progress":{...}} while running (EMP's clients see no
//                  "status" and keep polling; `progress` is our addition),
//                  {"status":"success","outputs":{...},"progress":{...}} when done,
//                  {"status":"error","error":"..."} on failure; 404 for an unknown job.
//   GET  /health   -> {"status":"ok"}
// WebSocket (Beast, on settings.ws_endpoint, any path): the client sends
//   {"type":"simulation_job", job_id, job_type, payload, config:{processing_time_ms, steps,
//   progress_interval_ms}} and receives simulation_started, simulation_progress (progress,
//   current_step, total_steps), simulation_complete (results) or simulation_error (error);
//   {"type":"cancel_simulation", job_id} stops the job (answered by simulation_cancelled);
//   {"type":"ping"} is answered by {"type":"pong"} (WebSocket ping frames are answered by Beast).
//
// A job runs `steps` equal steps over `duration_ms` on its own steady_timer. Its settings,
// first found wins: payload.steps / payload.duration_ms, then the request's simulation_config
// (or config) steps / processing_time_ms, then settings.steps / settings.duration_ms.
// payload.should_fail (a boolean) decides failure; otherwise it fails with probability
// settings.failure_rate, drawn from a PRNG seeded with settings.seed. A failing job fails
// halfway through its steps. Submitting a job_id that is still running does not restart it:
// the request is accepted and the client (a WebSocket one: its session) follows that job. A
// finished job_id submitted again runs anew.
//
// Executor: everything runs on the io_context given to the constructor (one thread); nothing
// is locked. Ownership: the service owns its acceptors, jobs and timers; sessions are kept alive
// by their own operations (shared_from_this) and hold only a weak reference to the service's
// state, so destroying the service (which calls stop()) while sessions are queued is safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace jobrouter {

struct simulation_settings {
    /// Where the HTTP protocol listens (port 0: any free port, see http_endpoint()).
    boost::asio::ip::tcp::endpoint http_endpoint{boost::asio::ip::make_address("127.0.0.1"), 8299};
    /// Where the WebSocket protocol listens (port 0: any free port, see ws_endpoint()).
    boost::asio::ip::tcp::endpoint ws_endpoint{boost::asio::ip::make_address("127.0.0.1"), 8399};
    std::int64_t duration_ms = 2000;  ///< a job's duration unless the request says otherwise
    std::int64_t steps = 10;          ///< a job's steps unless the request says otherwise
    double failure_rate = 0.0;        ///< probability (0..1) that a job fails, unless should_fail says
    std::uint64_t seed = 1;           ///< seeds the failure PRNG: the same seed, the same failures
    std::size_t max_body_bytes = 1024 * 1024;           ///< larger HTTP bodies / WS messages are refused
    std::chrono::milliseconds io_timeout{30000};        ///< deadline of each HTTP read and write
    std::size_t max_finished_jobs = 10000;              ///< finished jobs kept for /history
    /// Observer of every WebSocket message received (type, job_id): logging and tests. May be empty.
    std::function<void(std::string_view type, std::string_view job_id)> on_ws_message;
};

/// Range limits shared by the command's options and the request fields.
inline constexpr std::int64_t kSimulationMaxSteps = 10000;
inline constexpr std::int64_t kSimulationMaxDurationMs = 86400000;  ///< one day

namespace detail {
struct simulation_state;
}

class simulation_service {
public:
    simulation_service(boost::asio::io_context& io, simulation_settings settings);
    ~simulation_service();
    simulation_service(const simulation_service&) = delete;
    simulation_service& operator=(const simulation_service&) = delete;

    /// Binds both ports and starts accepting; throws boost::system::system_error when an
    /// address is unusable (nothing is left listening then).
    void start();
    /// Stops accepting, cancels every job's timer and closes every WebSocket session. Idempotent.
    void stop();

    /// The bound endpoints (the real ports when listening on port 0); only after start().
    boost::asio::ip::tcp::endpoint http_endpoint() const;
    boost::asio::ip::tcp::endpoint ws_endpoint() const;

    /// "running", "success", "error", "cancelled", or "" for a job it does not know.
    std::string job_status(const std::string& job_id) const;

private:
    std::shared_ptr<detail::simulation_state> state_;
};

/// Builds and starts a service on `io` (the shape serve uses to run one in-process); throws
/// boost::system::system_error when a port is unusable. Destroying the result stops it.
std::unique_ptr<simulation_service> start_simulation_service(boost::asio::io_context& io,
                                                             simulation_settings settings);

}  // namespace jobrouter
