#include "strategies/strategy_registry.hpp"

#include "strategies/job_type_strategy.hpp"
#include "strategies/service_name_strategy.hpp"

#include <functional>
#include <utility>

namespace jobrouter {

namespace {

using factory = std::function<std::unique_ptr<strategy>()>;

const std::vector<std::pair<std::string_view, factory>>& registry() {
    static const std::vector<std::pair<std::string_view, factory>> entries{
        {job_type_strategy::kName, [] { return std::make_unique<job_type_strategy>(); }},
        {service_name_strategy::kName, [] { return std::make_unique<service_name_strategy>(); }},
    };
    return entries;
}

}  // namespace

std::vector<std::string> strategy_names() {
    std::vector<std::string> names;
    for (const auto& [name, make] : registry()) names.emplace_back(name);
    return names;
}

result<std::unique_ptr<strategy>> make_strategy(std::string_view name) {
    std::string known;
    for (const auto& [entry_name, make] : registry()) {
        if (entry_name == name) return make();
        known += (known.empty() ? "" : ", ") + std::string(entry_name);
    }
    return make_error("--strategy", "unknown strategy \"" + std::string(name) + "\" (valid: " + known + ")");
}

}  // namespace jobrouter
