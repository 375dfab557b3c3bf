// simulation_http_connector: EMP's SimulationHttpConnector ("SimulationHttpConnector" in
// service-mapping.json). It speaks the simulation service's HTTP protocol (`jobrouter simulate`,
// server/simulation_service.hpp) with Beast:
//
//   POST {base}/process {job_id, job_type, payload, simulation_config:{processing_time_ms,
//        steps, progress_interval_ms}}, then every poll_interval_ms GET {base}/history/{job_id}:
//   {} while running, {"status":"success","outputs":...} -> on_complete(outputs),
//   {"status":"error","error":...} -> on_fail at once (retryable: a simulated failure may not
//   recur), a 404 -> on_fail (retryable: the service lost the job, e.g. it restarted).
//
// Progress: the service's `progress.percent` when its reply has one (our simulate service adds
// it), otherwise synthesized from the time elapsed against the job's expected duration
// (payload.duration_ms, else simulation_config.processing_time_ms), at most 95 until it ends.
//
// Config (connector_job::service_config, i.e. services.<s> of the mapping; every number may be
// a string of digits, as ${VAR} substitution leaves it, and a bad value fails the attempt, not
// retryable, with the JSON path):
// - `api_config.base_url` ("http://host[:port][/prefix]"), else `http://127.0.0.1:<ports[0]>`;
// - `api_config.timeout_ms` (default 30000): the deadline of each network step (resolve,
//   connect, write, read of every request);
// - `api_config.poll_interval_ms` (default 500);
// - `simulation_config.{processing_time_ms, steps, progress_interval_ms}`: passed on when set
//   (the service uses its own defaults otherwise).
// A refused connection, a timeout or a 5xx is a retryable failure; any other 4xx is not.
//
// Executor: the io_context it is built with; every callback is posted there, never made from
// inside start() or cancel(). Ownership: the caller owns the connector (one per job); network
// handlers share its run state, so destroying it (which cancels) while one is queued is safe,
// and after cancel() (or destruction) no callback is made. cancel() closes the connection; the
// job keeps running in the service (the protocol has no cancel).
#pragma once

#include "connectors/connector.hpp"
#include "core/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace jobrouter {

namespace detail {
struct sim_http_run;

/// "scheme://host[:port][/path]" split up; what both simulation connectors accept.
struct simple_url {
    std::string scheme;
    std::string host;
    std::string port;
    std::string path;  ///< without a trailing '/', "" for none
};

/// Parses a base URL of scheme `scheme` ("http" or "ws"); `path` names the field in errors.
result<simple_url> parse_simple_url(std::string_view text, std::string_view scheme, const std::string& path);

/// services.<s>.<object>.<key> as an integer in [min, max]: a JSON integer or a string of
/// digits (${VAR} substitution leaves strings); nullopt when absent.
result<std::optional<std::int64_t>> config_integer(const boost::json::object* object, std::string_view key,
                                                   const std::string& path, std::int64_t min, std::int64_t max);

/// The service URL: api_config.<url_key>, else "<scheme>://127.0.0.1:<ports[0]>".
result<simple_url> service_url(const connector_job& job, std::string_view url_key, std::string_view scheme);
}  // namespace detail

class simulation_http_connector final : public connector {
public:
    static constexpr std::string_view kName = "SimulationHttpConnector";
    static constexpr std::int64_t kDefaultTimeoutMs = 30000;
    static constexpr std::int64_t kDefaultPollIntervalMs = 500;

    explicit simulation_http_connector(boost::asio::io_context& io);
    ~simulation_http_connector() override;
    simulation_http_connector(const simulation_http_connector&) = delete;
    simulation_http_connector& operator=(const simulation_http_connector&) = delete;

    std::string_view name() const override { return kName; }
    /// Starts the job (once per connector object); returns at once.
    void start(connector_job job, connector_callbacks callbacks) override;
    /// Closes the connection and stops polling; no callback follows.
    void cancel() override;

private:
    std::shared_ptr<detail::sim_http_run> run_;
};

}  // namespace jobrouter
