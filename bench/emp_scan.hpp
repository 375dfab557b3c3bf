// emp_scan: EMP's findMatchingJob algorithm as a bench_store, the baseline the index is
// measured against (matching.md D1).
//
// Pending jobs sit in one ordered set in rank order (score descending, id descending:
// ranks_before, as ZREVRANGE). A claim walks the top `max_scan` jobs in that order and applies
// every rule to each job on its own (find_rejection); the first job that fits wins. Nothing is
// bucketed, so a claim costs up to max_scan rule checks, and a matching job below max_scan
// jobs that fit nobody is never reached.
//
// This is a generous baseline: EMP's Lua function also fetches and JSON-decodes each job's
// hash per examined job; here the job's class is already parsed.
#pragma once

#include "bench/store.hpp"

#include <cstddef>
#include <memory>

namespace jobrouter::bench {

std::unique_ptr<bench_store> make_emp_scan_store(const store_context& ctx, std::size_t max_scan);

}  // namespace jobrouter::bench
