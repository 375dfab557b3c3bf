// service_name_strategy: Option A of the seed. A worker offers its service names
// (`services`, else `workers.<type>.services`); a job's service_required must name one.
#pragma once

#include "strategies/strategy.hpp"

namespace jobrouter {

class service_name_strategy final : public strategy {
public:
    static constexpr std::string_view kName = "service-name";

    std::string_view name() const override { return kName; }
    std::span<const std::string> offered_keys(const worker_capabilities& w) const override { return w.services; }
    std::vector<std::string> offered_keys(const worker_type& t) const override { return t.services; }
    std::optional<route> resolve_route(const worker_type& t, const service_mapping& m,
                               std::string_view service_required) const override;
};

}  // namespace jobrouter
