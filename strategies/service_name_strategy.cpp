#include "strategies/service_name_strategy.hpp"

namespace jobrouter {

// The service named service_required runs the job. The worker type's first route through that
// service carries its connector; a service the type lists without a route still answers with
// the service's own connector (service-mapping.md "Which connector runs a claimed job").
std::optional<route> service_name_strategy::resolve_route(const worker_type& t, const service_mapping& m,
                                                          std::string_view service_required) const {
    for (const route& r : t.routes)
        if (r.service == service_required) return r;
    for (const std::string& s : t.services) {
        if (s != service_required) continue;
        const service_def* def = m.find_service(s);
        return route{s, s, def ? def->connector : std::string{}, "workers." + t.name + ".services"};
    }
    return std::nullopt;
}

}  // namespace jobrouter
