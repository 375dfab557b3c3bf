// strategy_registry: builds a strategy from its --strategy name. The only place that knows
// the concrete strategy classes; an unknown name is an error listing the known ones.
#pragma once

#include "core/error.hpp"
#include "strategies/strategy.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter {

inline constexpr std::string_view kDefaultStrategy = "job-type";

/// Known names, in the order --help lists them.
std::vector<std::string> strategy_names();

result<std::unique_ptr<strategy>> make_strategy(std::string_view name);

}  // namespace jobrouter
