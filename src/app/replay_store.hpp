// replay_store: what replay needs from a store, so that one event loop and one set of output
// formatting (replay.cpp) serve both the memory scheduler and Redis. Each store answers with
// structured results (an error, a job id or none, explain entries); replay turns them into
// lines, so both stores print the same bytes for the same trace.
#pragma once

#include "core/error.hpp"
#include "core/job.hpp"
#include "core/scheduler.hpp"
#include "core/worker.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter {

namespace redis {
class redis_store;
}

/// A pending job that a claim could not take, and why (--explain).
struct claim_rejection {
    std::string job_id;
    std::string rule;
    std::string detail;
};

class replay_store {
public:
    virtual ~replay_store() = default;
    /// Moves the clock to `t` (never back) and applies every timed effect due by then.
    virtual void advance(time_ms t) = 0;
    virtual result<void> submit(job_spec spec) = 0;
    virtual result<void> register_worker(worker_capabilities caps) = 0;
    virtual result<void> unregister_worker(std::string_view worker_id) = 0;
    /// The claimed job's id, or nullopt when no pending job matches.
    virtual result<std::optional<std::string>> claim(std::string_view worker_id) = 0;
    virtual result<void> complete(std::string_view job_id, json::value job_result) = 0;
    virtual result<void> fail(std::string_view job_id, bool retryable, json::value job_error) = 0;
    virtual result<void> cancel(std::string_view job_id) = 0;
    virtual result<void> heartbeat(std::string_view worker_id) = 0;
    /// For each of the first `n` pending jobs in rank order that the worker cannot take, why.
    virtual result<std::vector<claim_rejection>> explain_claim(std::string_view worker_id, std::size_t n) = 0;
};

/// The in-memory scheduler (src/core). `mapping` and `strat` must outlive the store.
std::unique_ptr<replay_store> make_memory_replay_store(const service_mapping& mapping, const strategy& strat,
                                                       scheduler_options options);

/// A Redis store (src/redis), which must outlive the replay store.
std::unique_ptr<replay_store> make_redis_replay_store(redis::redis_store& store);

}  // namespace jobrouter
