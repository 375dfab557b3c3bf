// redis_store: the scheduler's state in Redis. Every state change is one call of the jobrouter
// function library (jobrouter.lua), so match, status change and lease are atomic in Redis.
// This class takes validated input (job_spec, worker_capabilities), builds the arguments (a
// job's score and class signature, a worker's offered keys under both strategies) and turns the
// library's status codes into the same error texts as the memory scheduler
// (src/core/scheduler.cpp), so that replay prints the same bytes on both stores
// (test/redis_parity_test.cpp holds them to it).
//
// The store keeps its own copy of the clock (max of the times it was given) and passes it to
// every call; the library applies every timed effect due by then first. Redis failures throw
// redis_error (connection.hpp). One owner, one thread.
#pragma once

#include "core/error.hpp"
#include "core/job.hpp"
#include "core/matcher.hpp"
#include "core/scheduler.hpp"
#include "core/service_mapping.hpp"
#include "core/worker.hpp"
#include "redis/connection.hpp"
#include "strategies/strategy.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter::redis {

/// A pending job in rank order and the first rule that keeps a worker from it (explain).
struct explained_pending_job {
    std::string job_id;
    std::string rule;
    std::string detail;
};

class redis_store {
public:
    /// `c` must have the function library loaded (load_function_library). Writes the
    /// configuration (lease, back-off, strategy) and the mapping's worker types (for
    /// findMatchingJob) to Redis. `mapping` and `strat` must outlive the store.
    redis_store(connection c, const service_mapping& mapping, const strategy& strat, scheduler_options options);

    /// Moves the clock to `t` (never back) and applies every timed effect due by then.
    void advance(time_ms t);
    time_ms now() const { return now_; }

    result<void> submit(const job_spec& spec);
    result<void> register_worker(const worker_capabilities& caps);
    result<void> unregister_worker(std::string_view worker_id);
    /// The claimed job's id, or nullopt when no pending job matches.
    result<std::optional<std::string>> claim(std::string_view worker_id);
    result<void> complete(std::string_view job_id, const json::value& job_result);
    result<void> fail(std::string_view job_id, bool retryable, const json::value& job_error);
    result<void> cancel(std::string_view job_id);
    result<void> heartbeat(std::string_view worker_id);
    result<void> progress(std::string_view job_id, std::int64_t percent);
    result<void> release(std::string_view job_id);

    /// EMP's algorithm over the same keys (jobrouter_emp_claim, for the bench): the first job
    /// among the top `max_scan` of jobs:pending that the worker matches is claimed.
    std::optional<std::string> emp_claim(const worker_capabilities& caps, std::size_t max_scan);
    /// ZCARD jobs:pending.
    std::size_t pending_count();

    /// For each of the first `n` pending jobs in rank order, the first rule that keeps this
    /// worker from it (jobs it would match are left out); the rules run in C++ (matcher.cpp),
    /// so details read as the memory store's.
    result<std::vector<explained_pending_job>> explain_claim(std::string_view worker_id, std::size_t n = 10);

    connection& conn() { return conn_; }

private:
    reply call(std::string_view function, std::vector<std::string> args);
    result<void> job_status_reply(const reply& r, std::string_view job_id);
    result<void> worker_status_reply(const reply& r, std::string_view worker_id);

    connection conn_;
    const service_mapping& mapping_;
    const strategy& strategy_;
    scheduler_options options_;
    time_ms now_ = 0;
};

/// jobrouter_submit's arguments after `now` for a job submitted at `now`: id, score, class
/// signature, service_required, then (field value)... in EMP's field names.
std::vector<std::string> submit_arguments(const job_spec& spec, time_ms now);

/// DBSIZE of the connection's database.
std::int64_t key_count(connection& c);
/// FLUSHDB of the connection's database (functions are server-wide and stay).
void flush_database(connection& c);

}  // namespace jobrouter::redis
