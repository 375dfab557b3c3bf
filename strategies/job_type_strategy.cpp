#include "strategies/job_type_strategy.hpp"

namespace jobrouter {

// First route in file order wins when a worker type routes one job type twice
// (service-mapping.md; check-config warns about it).
std::optional<route> job_type_strategy::resolve_route(const worker_type& t, const service_mapping&,
                                              std::string_view service_required) const {
    for (const route& r : t.routes)
        if (r.job_type == service_required) return r;
    return std::nullopt;
}

}  // namespace jobrouter
