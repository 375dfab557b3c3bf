// explain: why a job is (not) being claimed, from every registered worker's answer. The
// memory store's scheduler (scheduler::explain_job) and the Redis store's serve (which reads
// the job and the workers' capabilities from Redis) build the same verdicts through it, so
// GET /api/jobs/{id}/explain, submit warnings and ?unroutable=true say the same on both.
//
// Pure functions over the matcher (find_rejection, with details); O(workers) per job. Never on
// the claim path.
#pragma once

#include "core/job.hpp"
#include "core/job_class.hpp"
#include "core/matcher.hpp"
#include "core/worker.hpp"
#include "strategies/strategy.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace jobrouter {

/// One registered worker, as seen from one job (explain_job).
struct worker_verdict {
    const worker_capabilities* caps = nullptr;  ///< the worker's; must outlive the verdict
    std::optional<rejection> why;  ///< the first rule that keeps the worker from the job; nullopt: it would match
    bool busy = false;             ///< the worker holds assigned jobs
    bool matches() const { return !why; }
};

/// The worker's answer for a job of class `c`: the first failing rule with its details
/// (find_rejection under `strat`), or a match.
worker_verdict judge_worker(const job_class& c, const worker_capabilities& caps, bool busy, const strategy& strat);

/// The one-line verdict of a job of `service_required` in `status` (held by worker `holder`
/// while running), from the answers of every registered worker, sorted by worker id:
/// "job is assigned to worker ...", "... could run it; ...", "no registered worker offers ...",
/// "no registered worker meets the job's requirements: ...", "no worker is registered".
std::string explain_verdict(job_status status, std::string_view holder, std::string_view service_required,
                            std::span<const worker_verdict> workers, const strategy& strat);

/// The job status named `s` ("pending", ...), if it is one.
std::optional<job_status> parse_job_status(std::string_view s);

/// A short name for a rule of matching.md ("R3a" -> "hardware"), for human-readable output.
std::string_view rule_title(std::string_view rule);

}  // namespace jobrouter
