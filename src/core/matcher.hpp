// matcher: the requirement rules of matching.md section 3, in one place.
//
// `find_rejection` answers "may this worker run a job of this class?" with the first rule
// that fails (R1, R2, R3a, R3b, R3c, R3d, R3e, R4, in that order), or nothing when the
// worker matches. The job index calls it once per bucket; explain calls it per job with
// details. No comparison ever fails with an error: a value of the wrong type does not match.
#pragma once

#include "core/job_class.hpp"
#include "core/worker.hpp"
#include "core/worker_profile.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace jobrouter {

struct rejection {
    std::string_view rule;  ///< "R1" ... "R4"
    std::string detail;     ///< what failed, with the values involved (only when asked for)
};

/// R2 on its own: the worker's offered keys (chosen by the strategy) contain service_required.
bool offers(std::span<const std::string> offered_keys, std::string_view service_required);

/// The first failing rule for a job of class `c` and worker `w`, whose offered keys under the
/// current strategy are `offered_keys`. `with_detail` fills rejection::detail (explain); the
/// claim path leaves it off.
std::optional<rejection> find_rejection(const job_class& c, const worker_capabilities& w,
                                        std::span<const std::string> offered_keys, bool with_detail);

/// Every rule but R2 (the index has already picked buckets by service_required).
bool passes_requirements(const job_class& c, const worker_capabilities& w);

/// The same answer from the compiled forms (job_class::compiled, worker_profile): the claim
/// path's check. It never looks a key up in the class's JSON, nor a path in the worker's.
bool passes_requirements(const job_class& c, const worker_profile& w);

/// matching.md compare(worker_value, required); `worker_value` null pointer = missing.
bool compare(const json::value* worker_value, const json::value& required);

/// matching.md check(worker, key, required): `key` is a dotted path into the worker.
bool check(const json::value& worker, std::string_view key, const json::value& required);

}  // namespace jobrouter
