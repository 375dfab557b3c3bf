// workers_spec: the WORKERS variable and --workers option (service-mapping.md "Worker ids and
// WORKERS"): which worker types this process runs, and how many of each.
//
// Syntax: a comma-separated list of `type:count` (`simulation-http:2,mock`). Items and both
// sides of the colon are trimmed; a missing count means 1; a count is an integer >= 1; each type
// must be a key of the mapping's `workers` and appear once. Shared by check-config and serve.
#pragma once

#include "core/error.hpp"
#include "core/service_mapping.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace jobrouter {

struct worker_count {
    std::string worker_type;
    int count = 1;

    bool operator==(const worker_count&) const = default;
};

/// Parses a WORKERS value against `mapping`. A blank value gives an empty list: the caller's
/// default (the spec leaves it to the command). Errors have `origin` ("WORKERS", "--workers")
/// as their path, quote the offending item, and list the valid worker types when a type is
/// unknown.
result<std::vector<worker_count>> parse_workers_spec(std::string_view spec, const service_mapping& mapping,
                                                     std::string_view origin = "WORKERS");

}  // namespace jobrouter
