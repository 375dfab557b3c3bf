// strategy: which keys a worker offers to jobs' service_required (matching.md section 2), and
// which of a worker type's routes runs a claimed job (service-mapping.md "Which connector").
//
// Strategies are stateless and never touch scheduler state; they are built by name from the
// registry (strategy_registry.hpp), which is the only place that knows the concrete classes.
#pragma once

#include "core/service_mapping.hpp"
#include "core/worker.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace jobrouter {

class strategy {
public:
    virtual ~strategy() = default;

    /// The name used by --strategy ("service-name", "job-type").
    virtual std::string_view name() const = 0;

    /// The keys this worker offers: a job matches only if its service_required is one of them.
    virtual std::span<const std::string> offered_keys(const worker_capabilities& w) const = 0;

    /// The keys a worker of this type offers (check-config, summaries).
    virtual std::vector<std::string> offered_keys(const worker_type& t) const = 0;

    /// The route of worker type `t` that runs a job with this service_required, if any.
    virtual std::optional<route> resolve_route(const worker_type& t, const service_mapping& m,
                                       std::string_view service_required) const = 0;
};

}  // namespace jobrouter
