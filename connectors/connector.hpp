// connector: does the work of a claimed job (service-mapping.md: a route's connector).
//
// A connector runs on the server's io_context thread (the dispatcher's), like everything in
// serve: it starts the work, reports progress, and finishes exactly once with a result or an
// error (retryable or not) through the callbacks it was given. It honours cancel() promptly and
// puts a deadline on every network step (its timeouts are fields of its config, taken from the
// service's entry in service-mapping.json).
//
// One connector object serves one job; the registry (connector_registry.hpp) builds them by
// the names service-mapping.json uses.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace jobrouter {

/// What a connector is asked to run.
struct connector_job {
    std::string job_id;
    std::string job_type;           ///< the job's service_required
    std::string service;            ///< the route's service name
    boost::json::value payload;
    boost::json::object service_config;  ///< services.<service> from the mapping (after ${VAR})
    boost::json::object job;        ///< the whole job as the API shows it
};

/// How a connector reports back. Each callback is called on the io_context thread.
struct connector_callbacks {
    std::function<void(std::int64_t percent, std::string message)> on_progress;
    std::function<void(boost::json::value result)> on_complete;
    /// `retryable`: whether another attempt may succeed (a timeout, a refused connection) or not
    /// (the service rejected the input).
    std::function<void(boost::json::value error, bool retryable)> on_fail;
};

class connector {
public:
    virtual ~connector() = default;
    virtual std::string_view name() const = 0;
    /// Starts the job; returns at once. Exactly one of on_complete / on_fail follows, unless
    /// cancel() is called first, after which no callback is made.
    virtual void start(connector_job job, connector_callbacks callbacks) = 0;
    /// Stops the work (closes connections, kills processes); no callback follows.
    virtual void cancel() = 0;
};

}  // namespace jobrouter
