#include "bench/scenario.hpp"

#include <algorithm>

namespace jobrouter::bench {

namespace {

// A function-local static: registrars in other translation units may run before any global here.
std::vector<std::unique_ptr<scenario>>& scenario_registry() {
    static std::vector<std::unique_ptr<scenario>> entries;
    return entries;
}

}  // namespace

void register_scenario(std::unique_ptr<scenario> s) { scenario_registry().push_back(std::move(s)); }

std::vector<const scenario*> registered_scenarios() {
    std::vector<const scenario*> out;
    for (const auto& s : scenario_registry()) out.push_back(s.get());
    std::stable_sort(out.begin(), out.end(), [](const scenario* a, const scenario* b) { return a->order() < b->order(); });
    return out;
}

}  // namespace jobrouter::bench
