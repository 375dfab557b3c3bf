// scheduler: the sans-I/O heart of jobrouter. It owns every job and worker record and the
// pending index, and applies events (submit, register, claim, complete, fail, cancel,
// heartbeat, unregister) at a time the caller gives with advance(). It never reads a clock,
// a socket or a file: replay feeds it a trace's virtual time; serve feeds it the wall clock
// from the one executor that owns it (and arms one timer at next_due()).
//
// Lifecycle (trace-format.md "Precise rules"): pending -> assigned -> completed | failed |
// cancelled; a failed attempt with attempts left goes to retrying for the back-off, then back
// to pending with its score (so its place) unchanged. A rejected event changes nothing.
#pragma once

#include "core/error.hpp"
#include "core/explain.hpp"
#include "core/job.hpp"
#include "core/job_index.hpp"
#include "core/job_table.hpp"
#include "core/matcher.hpp"
#include "core/scheduler_event.hpp"
#include "core/service_mapping.hpp"
#include "core/string_hash.hpp"
#include "core/timer_heap.hpp"
#include "core/worker.hpp"
#include "strategies/strategy.hpp"

#include <memory>
#include <optional>
#include <span>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace jobrouter {

struct scheduler_options {
    time_ms lease_ms = 60000;              ///< an assignment's lease; heartbeats renew it
    time_ms retry_backoff_ms = 1000;       ///< wait before retry k is base * 2^(k-1) ...
    time_ms retry_backoff_max_ms = 60000;  ///< ... capped at this
    bool record_events = false;            ///< keep events for take_events() (serve); replay leaves it off
};

/// One pending job and the first rule that keeps a worker from it (explain).
struct explained_job {
    const job* j = nullptr;
    rejection why;
};

/// Why a job is (not) being claimed: every registered worker, sorted by id, and a one-line
/// verdict computed from them (explain.hpp explain_verdict).
struct job_explanation {
    const job* j = nullptr;
    std::vector<worker_verdict> workers;
    std::string verdict;
    bool routable = false;  ///< some registered worker passes every rule
};

/// What an external worker's heartbeat did with the list of jobs it says it works on.
struct heartbeat_outcome {
    std::vector<std::string> handed_back;  ///< held, not listed, assigned before the previous heartbeat: pending again
    std::vector<std::string> unknown;      ///< listed, but not held by this worker (ascending, no duplicates)
};

class scheduler : private class_owner {
public:
    /// `mapping` and `strat` must outlive the scheduler.
    scheduler(const service_mapping& mapping, const strategy& strat, scheduler_options options = {});
    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    /// Moves the clock to `t` (never back) and applies every timed effect due by then, in order
    /// of due time, ties by job id ascending, until nothing is due.
    void advance(time_ms t);
    time_ms now() const { return now_; }
    /// When the next timed effect is due (serve arms its timer for it), if any.
    std::optional<time_ms> next_due() const;

    result<const job*> submit(job_spec spec);
    /// Adds a worker, or replaces the capabilities of a known one (its jobs stay assigned).
    result<void> register_worker(worker_capabilities caps);
    /// Removes a worker; each job it holds counts a failed attempt.
    result<void> unregister_worker(std::string_view worker_id);
    /// The worker's next job (now assigned to it), or nullptr when no pending job matches.
    result<const job*> claim(std::string_view worker_id);
    result<void> complete(std::string_view job_id, json::value job_result = nullptr);
    result<void> fail(std::string_view job_id, bool retryable = true, json::value job_error = nullptr);
    result<void> cancel(std::string_view job_id);
    /// Renews the leases of all the worker's assigned jobs.
    result<void> heartbeat(std::string_view worker_id);
    /// An external worker's heartbeat (serve's POST /api/workers/{id}/heartbeat). Without
    /// `listed` it is heartbeat(worker_id). With `listed` (the jobs the worker says it works
    /// on), each job the worker holds that is not listed and was assigned strictly before the
    /// worker's previous heartbeat of this kind is first handed back as release() does (pending,
    /// the attempt not counted, event `requeued` naming the worker); with no previous
    /// heartbeat nothing is. Listed jobs it does not hold come back in `unknown`. Either way the
    /// leases of the jobs it still holds are renewed and this heartbeat's time is recorded.
    ///
    /// Why "before the previous heartbeat": a worker that takes its list after reading the
    /// reply to heartbeat n-1 and has no claim outstanding that it sent before that reply
    /// came, lists every job whose claim it read. A claim it sent after that reply reached
    /// the scheduler after heartbeat n-1, so its job was assigned at or after that time and
    /// is never handed back by heartbeat n, even while its reply is still on the way.
    result<heartbeat_outcome> heartbeat(std::string_view worker_id, std::optional<std::span<const std::string>> listed);
    /// A running job's worker reports progress (0..100): the job is in progress and its lease
    /// is renewed.
    result<void> progress(std::string_view job_id, std::int64_t percent);
    /// Hands a running job back to pending without counting the attempt (graceful shutdown):
    /// it keeps its score, so its place.
    result<void> release(std::string_view job_id);
    /// Drops a finished (completed, failed or cancelled) job; its id may then be used again.
    result<void> forget(std::string_view job_id);

    /// The events since the last call, in order (only with options.record_events).
    std::vector<scheduler_event> take_events() { return std::exchange(events_, {}); }

    /// For each of the first `n` pending jobs in rank order, the first rule that keeps this
    /// worker from it (jobs it would match are left out).
    result<std::vector<explained_job>> explain_claim(std::string_view worker_id, std::size_t n = 10) const;

    /// For a job (any status): each registered worker, sorted by id, with the first rule that
    /// keeps it from the job (matcher.cpp find_rejection, with details) or "would match", and
    /// the verdict. Costs O(workers); never on the claim path.
    result<job_explanation> explain_job(std::string_view job_id) const;

    /// True when some registered worker passes every rule for this job class: O(workers).
    bool has_capable_worker(const job_class& c) const;
    /// True when this worker passes every rule for this job class.
    bool can_take(const worker& w, const job_class& c) const;

    /// Calls f(const worker&) for every registered worker, in no particular order.
    template <class F>
    void for_each_worker(F&& f) const {
        for (const auto& [id, w] : workers_) f(w);
    }

    const job* find_job(std::string_view id) const;
    const worker* find_worker(std::string_view id) const;
    const strategy& matching_strategy() const { return strategy_; }
    const service_mapping& mapping() const { return mapping_; }
    const scheduler_options& options() const { return options_; }
    std::size_t pending_count() const { return index_.size(); }
    std::size_t job_count() const { return jobs_.size(); }
    std::size_t bucket_count() const { return index_.bucket_count(); }

    /// Calls f(const job&) for every known job, in no particular order.
    template <class F>
    void for_each_job(F&& f) const {
        jobs_.for_each([&f](const job& j) { f(j); });
    }

private:

    /// The live class with these parts, made (and given a slot) when there is none.
    class_ref intern(std::string service_required, std::string customer_id, std::string workflow_id,
                     json::object requirements);
    /// class_owner: the last job of class c went.
    void release(const job_class* c) noexcept override;
    /// Whether worker w passes class c (every rule but R2), through w's verdict cache.
    bool passes_cached(worker& w, const job_class& c);
    result<job*> find_job_for_update(std::string_view id);
    result<worker*> find_worker_for_update(std::string_view id);
    void apply_due();
    void set_timer(job& j, time_ms at);
    void clear_timer(job& j);
    void release_from_worker(job& j);
    /// A running job back to pending, the attempt not counted (release, heartbeat hand-back).
    void requeue_uncounted(job& j, const std::string& worker_id);
    void renew_leases(const worker& w);
    /// A failed attempt at `failure_time`: retrying (back-off) while attempts remain, else failed.
    void record_failure(job& j, time_ms failure_time, bool retryable);
    time_ms backoff(std::int64_t attempts) const;
    void emit(event_kind kind, const std::string& job_id, const std::string& worker_id);

    const service_mapping& mapping_;
    const strategy& strategy_;
    scheduler_options options_;
    time_ms now_ = 0;

    // Declared before jobs_: job classes unregister themselves from it when the last job of a
    // class goes, so it must outlive jobs_.
    std::unordered_map<std::string, const job_class*, string_hash, std::equal_to<>> classes_;
    std::vector<std::uint32_t> free_slots_;  ///< slots of classes that went
    std::uint32_t slot_count_ = 0;
    std::uint32_t next_serial_ = 1;
    job_table jobs_;
    std::unordered_map<std::string, worker, string_hash, std::equal_to<>> workers_;
    /// Registered workers by worker::slot, so that completing a job reaches its worker without
    /// looking its id up (map nodes do not move); freed slots are taken again.
    std::vector<worker*> worker_slots_;
    std::vector<std::uint32_t> free_worker_slots_;
    job_index index_;
    timer_heap timers_;
    std::vector<scheduler_event> events_;
    std::uint64_t next_seq_ = 1;
};

}  // namespace jobrouter
