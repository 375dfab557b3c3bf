// job_type_strategy: Option B of the seed, the default. A worker offers the job types it
// accepts (`job_service_required_map`, else `job_types`, else its worker type's routes).
#pragma once

#include "strategies/strategy.hpp"

namespace jobrouter {

class job_type_strategy final : public strategy {
public:
    static constexpr std::string_view kName = "job-type";

    std::string_view name() const override { return kName; }
    std::span<const std::string> offered_keys(const worker_capabilities& w) const override { return w.job_types; }
    std::vector<std::string> offered_keys(const worker_type& t) const override { return t.job_types(); }
    std::optional<route> resolve_route(const worker_type& t, const service_mapping& m,
                               std::string_view service_required) const override;
};

}  // namespace jobrouter
