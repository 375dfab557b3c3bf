// redis_explain: what serve on the Redis store needs to explain jobs and find the ones nobody
// can take, from what the Functions library reads (jobrouter_serve_capabilities,
// jobrouter_serve_waiting_classes, a job's hash). The matching and the verdicts are the core's
// (core/explain.hpp, matcher.cpp), run here in C++, so both stores answer alike; Redis only
// supplies the data. No I/O here: redis_job_service makes the calls.
#pragma once

#include "core/explain.hpp"
#include "core/job_class.hpp"
#include "core/service_mapping.hpp"
#include "core/worker.hpp"
#include "redis/connection.hpp"
#include "server/job_service.hpp"
#include "strategies/strategy.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace jobrouter {

/// Every registered worker, as jobrouter_serve_capabilities read them in one atomic call.
struct worker_roster {
    struct entry {
        worker_capabilities caps;  ///< parsed against this process's mapping; services and job_types as stored
        std::string kind;          ///< "in-process" or "external"
        bool busy = false;         ///< holds a job
    };
    std::string generation;        ///< jobrouter:workers_gen when read
    std::vector<entry> workers;    ///< by worker id (byte order)
};

/// Parses jobrouter_serve_capabilities's reply; a 500 store_error naming the worker whose stored
/// capabilities do not parse.
api_result<worker_roster> parse_worker_roster(const redis::reply& r, const service_mapping& mapping);

/// A job's requirement class from its stored fields (requirements as JSON text, "" for none).
/// A 500 store_error naming `where` when the requirements are not a JSON object.
api_result<job_class> stored_job_class(std::string service_required, std::string customer_id, std::string workflow_id,
                                       const std::string& requirements, const std::string& where);

/// Whether some worker of the roster passes every rule for class `c` (stops at the first).
bool anyone_can_take(const worker_roster& roster, const job_class& c, const strategy& strat);

/// Each worker's answer for class `c`, in roster order (by id); the verdicts point into `roster`.
std::vector<worker_verdict> judge_roster(const worker_roster& roster, const job_class& c, const strategy& strat);

/// The submit path's copy of the roster: submit's reply carries jobrouter:workers_gen, and the
/// roster is read again only when that moved (a worker joined, left or changed its capabilities),
/// so a submission costs no extra round trip while the workers stay as they are. The verdict
/// for a class (or that someone can take it) is remembered per class signature until the
/// roster changes, so a submission costs O(1) matching here once its class has been seen.
class routability_cache {
public:
    /// Whether the copy is of generation `generation`.
    bool current(const std::string& generation) const { return roster_ && roster_->generation == generation; }
    void replace(worker_roster roster);
    /// Forgets the copy (after a reconnection: a Redis that lost its data counts from 0 again).
    void clear();
    const worker_roster* roster() const { return roster_ ? &*roster_ : nullptr; }
    /// The explain verdict of a pending job of the class of this signature when no worker of
    /// the copy can take it; nullptr when one can, or when there is no copy. `make_class`
    /// builds the class when the answer is not remembered. Valid until the next call.
    const std::string* unroutable_verdict(const std::string& signature, const std::function<job_class()>& make_class,
                                          const strategy& strat);

private:
    static constexpr std::size_t kMaxClasses = 10000;  ///< forgotten all at once beyond this
    std::optional<worker_roster> roster_;
    std::unordered_map<std::string, std::optional<std::string>> by_signature_;  ///< verdict, nullopt: routable
};

}  // namespace jobrouter
