// local_simulation_connector: the interim, in-process stand-in for the simulation services.
// It does the "work" of a simulation job itself, on a steady_timer: `steps` equal steps over
// `duration_ms`, reporting progress after each step (100 after the last), then completes with
//   {"simulated": true, "steps": N, "duration_ms": D}.
//
// Settings, first found wins:
// - `payload.steps` (an integer 1..kMaxSteps), then the service's `simulation_config.steps`,
//   then 5;
// - `payload.duration_ms` (an integer 0..kMaxDurationMs), then the service's
//   `simulation_config.processing_time_ms`, then 1000.
// Service values may also be strings of digits (what `${VAR}` substitution leaves). A value
// of the wrong type or out of range fails the attempt, not retryable, naming the field.
//
// The registry builds it FOR NOW under the names "SimulationHttpConnector" and
// "SimulationWebsocketConnector" (see connector_registry.cpp); name() answers the name it was
// built under. The connectors issue replaces those entries with the real protocol connectors.
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
#include <string>
#include <string_view>

namespace jobrouter {

namespace detail {
struct simulation_run;
}

class local_simulation_connector final : public connector {
public:
    static constexpr std::int64_t kDefaultSteps = 5;
    static constexpr std::int64_t kMaxSteps = 10000;
    static constexpr std::int64_t kDefaultDurationMs = 1000;
    static constexpr std::int64_t kMaxDurationMs = 86400000;  ///< one day

    /// `name`: the registry name it is built under (what name() answers).
    local_simulation_connector(boost::asio::io_context& io, std::string name);
    ~local_simulation_connector() override;
    local_simulation_connector(const local_simulation_connector&) = delete;
    local_simulation_connector& operator=(const local_simulation_connector&) = delete;

    std::string_view name() const override { return name_; }
    /// Starts the job (once per connector object); returns at once.
    void start(connector_job job, connector_callbacks callbacks) override;
    /// Cancels the timer; no callback follows.
    void cancel() override;

private:
    std::string name_;
    std::shared_ptr<detail::simulation_run> run_;
};

}  // namespace jobrouter
