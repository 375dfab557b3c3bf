// dispatcher: the scheduler's home in serve. It owns the sans-I/O scheduler and is the only
// code that touches it; everything runs on one io_context thread (HTTP sessions, WebSocket
// sessions, in-process workers and timers all post to it), so no locks are needed.
//
// What it adds around the core:
// - the wall clock: every operation first advances the scheduler to clock.now_ms(), and one
//   steady_timer fires at the scheduler's next_due() (leases, back-offs);
// - push assignment: a worker that is idle (an in-process worker between jobs, or an external
//   worker waiting in a long-poll claim) gets a job the moment one it matches is pending: the
//   job its claim would return at that instant; among several idle workers that offer the
//   job's key, the one idle longest (ties by worker id);
// - lease tokens: each assignment gets a random token; progress, complete and fail must carry
//   it, so a stale or foreign report (409) never changes a job;
// - liveness: an external worker that sends nothing for worker_timeout_ms is unregistered
//   (its jobs count a failed attempt); in-process workers' leases are renewed by the dispatcher;
// - retention: finished jobs are dropped after retention_ms or beyond retention_count;
// - idempotent submission: a client id with the same body returns the existing job;
// - events to subscribers (WebSocket, metrics, logs);
// - explain (why a job is not taken, by whom it could be) and the unroutable set: pending or
//   retrying jobs that no registered worker can take (see mark_unroutable in dispatcher.cpp
//   for what it costs and when it is computed: never on the claim path).
#pragma once

#include "core/scheduler.hpp"
#include "server/clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace jobrouter {

struct dispatcher_options {
    scheduler_options scheduling;              ///< lease, back-off (record_events is forced on)
    time_ms retention_ms = 3600000;            ///< finished jobs are kept this long ...
    std::size_t retention_count = 100000;      ///< ... and at most this many
    time_ms worker_timeout_ms = 60000;         ///< an external worker silent this long is removed
    time_ms local_heartbeat_ms = 0;            ///< in-process leases renewed this often (0: lease / 3)
    /// A submission that would make more than this many jobs wait (pending or retrying), in
    /// all or of its service_required, is refused with 429 (--max-pending-jobs,
    /// --max-pending-per-type).
    std::size_t max_pending_jobs = 100000;
    std::size_t max_pending_per_type = 50000;
};

/// A job handed to a worker.
struct assignment {
    std::string job_id;
    std::string worker_id;
    std::string lease_token;
    boost::json::object job;  ///< job_to_json at assignment time
};

/// Why an API call was refused: maps to an HTTP status and an error code.
struct api_error {
    int status = 400;        ///< HTTP status
    std::string code;        ///< e.g. "invalid_request", "not_found", "conflict"
    std::string message;     ///< what is wrong and where
    int retry_after_s = 0;   ///< > 0: sent as Retry-After (429)
};

template <class T>
using api_result = boost::system::result<T, api_error>;

[[noreturn]] void throw_exception_from_error(const api_error& e, const boost::source_location&);

/// A state change, as sent to subscribers (see event_json for the JSON form).
struct dispatcher_event {
    scheduler_event event;
    std::string service_required;  ///< of the job, "" for worker events
    std::int64_t progress = 0;
    std::string message;           ///< progress message or error text, if any
};

boost::json::object event_json(const dispatcher_event& e);

class dispatcher {
public:
    using deliver_fn = std::function<void(assignment)>;
    using cancel_fn = std::function<void(const std::string& job_id)>;
    using subscriber_fn = std::function<void(const dispatcher_event&)>;

    dispatcher(boost::asio::io_context& io, const service_mapping& mapping, const strategy& strat,
               dispatcher_options options, const clock_source& clock);
    ~dispatcher();
    dispatcher(const dispatcher&) = delete;
    dispatcher& operator=(const dispatcher&) = delete;

    // ---- jobs ------------------------------------------------------------------------------
    enum class submit_kind { created, existing };
    struct submit_outcome {
        submit_kind kind;
        std::string job_id;
        std::vector<std::string> warnings;  ///< e.g. the explain verdict of a job nobody can take
    };
    /// POST /api/jobs. A body `id` makes it idempotent: same id and same body -> existing;
    /// same id, different body -> 409. Without `id` one is generated.
    api_result<submit_outcome> submit(const boost::json::value& body);
    api_result<boost::json::object> get_job(std::string_view job_id);
    api_result<void> cancel(std::string_view job_id);

    struct job_query {
        std::string status;            ///< "" = any
        std::string service_required;  ///< "" = any
        std::size_t limit = 50;
        std::uint64_t cursor = 0;      ///< continue after this seq (0 = from the start)
        std::size_t offset = 0;        ///< EMP's paging, when no cursor is given
        bool unroutable = false;       ///< only jobs that no registered worker can take
    };
    struct job_page {
        std::vector<boost::json::object> jobs;
        std::size_t total = 0;              ///< all jobs matching the filter
        std::optional<std::uint64_t> next;  ///< cursor for the next page, if any
    };
    /// GET /api/jobs: newest first.
    job_page list_jobs(const job_query& q);

    /// GET /api/jobs/{id}/explain: {job_id, status, verdict, workers: [{worker_id, kind, state,
    /// matches, rule, detail}]}, every registered worker sorted by id.
    api_result<boost::json::object> explain_job(std::string_view job_id);
    /// GET /api/workers/{id}/explain: {worker_id, jobs: [{job_id, rule, detail}]}: among the
    /// first `limit` pending jobs in rank order, those this worker cannot take, and why.
    api_result<boost::json::object> explain_worker(std::string_view worker_id, std::size_t limit);

    /// Jobs waiting for a worker (pending or retrying), in all and of one service_required:
    /// what --max-pending-jobs and --max-pending-per-type bound.
    std::size_t waiting_count() const { return waiting_.size(); }
    std::size_t waiting_count(const std::string& service_required) const {
        auto it = waiting_by_type_.find(service_required);
        return it == waiting_by_type_.end() ? 0 : it->second;
    }

    /// Pending or retrying jobs that no registered worker can take.
    bool is_unroutable(const std::string& job_id) const { return unroutable_.count(job_id) != 0; }
    /// How many such jobs per service_required (a type keeps its entry, at 0, once cleared).
    const std::map<std::string, std::size_t>& unroutable_by_type() const { return unroutable_by_type_; }

    // ---- workers ---------------------------------------------------------------------------
    /// POST /api/workers: capabilities (trace-format.md), or {"worker_id", "worker_type"}.
    api_result<void> register_external(const boost::json::value& body);
    /// An in-process worker; `on_cancel` is called when a job it runs is cancelled.
    api_result<void> register_local(const boost::json::value& capabilities, cancel_fn on_cancel);
    /// Removes a worker; its jobs count a failed attempt.
    api_result<void> unregister(std::string_view worker_id);
    /// DELETE /api/workers/{id}: as unregister, but in-process workers are not the API's (409).
    api_result<void> unregister_external(std::string_view worker_id);
    boost::json::array list_workers();

    /// The worker is idle and wants a job: `deliver` is called (posted, never inline) with one
    /// as soon as one matches, or with nothing once `wait` has passed (a zero wait answers at
    /// once). A second wait by the same worker replaces the first (which gets nothing).
    /// Returns the wait's serial, for withdraw_wait (0 when the worker is unknown).
    using wait_result = std::optional<assignment>;
    std::uint64_t wait_for_job(std::string_view worker_id, std::chrono::milliseconds wait,
                               std::function<void(api_result<wait_result>)> deliver);
    /// The client of wait `serial` hung up: if that wait still waits, it ends with nothing
    /// (the answer goes nowhere) and the worker is no longer idle, so that no job is handed
    /// out on a dead connection, to be held unseen while the worker's heartbeats renew it.
    void withdraw_wait(std::string_view worker_id, std::uint64_t serial);
    /// For in-process workers: wait with no time limit.
    void ready_for_job(std::string_view worker_id, deliver_fn deliver);

    struct heartbeat_reply {
        std::vector<std::string> cancelled_jobs;  ///< its jobs cancelled since the last heartbeat
    };
    api_result<heartbeat_reply> heartbeat(std::string_view worker_id);
    api_result<void> progress(std::string_view job_id, std::string_view token, std::int64_t percent,
                              const std::string& message = {});
    api_result<void> complete(std::string_view job_id, std::string_view token, boost::json::value result);
    api_result<void> fail(std::string_view job_id, std::string_view token, boost::json::value error, bool retryable);

    // ---- shutdown, events, introspection ---------------------------------------------------
    /// Shutdown, step 1: in-process workers get no more jobs.
    void stop_local_workers();
    /// Shutdown, step 2: hands every job held by in-process workers back to pending (no attempt
    /// counted) and tells their connectors to stop.
    void release_local_jobs();
    std::size_t running_local_jobs() const;

    /// Subscribers are called on the dispatcher's thread after each change; they must not call
    /// back into the dispatcher synchronously.
    std::size_t subscribe(subscriber_fn f);
    void unsubscribe(std::size_t id);
    /// Expires when the dispatcher is destroyed: objects that may outlive it (sessions whose
    /// handlers are destroyed with the io_context) check it before unsubscribing.
    std::weak_ptr<const void> lifetime() const { return alive_; }

    const scheduler& core() const { return sched_; }
    const service_mapping& mapping() const { return mapping_; }
    const strategy& matching_strategy() const { return strategy_; }

    struct counters {
        std::uint64_t submitted = 0, claims = 0, completed = 0, failed = 0, retried = 0, cancelled = 0;
    };
    const counters& totals() const { return totals_; }
    /// Called with (submit-to-assign seconds) for each assignment, and (claim seconds) for each
    /// claim call: metrics hang histograms here.
    std::function<void(double)> on_submit_to_assign;
    std::function<void(double)> on_claim_duration;

private:
    struct worker_state {
        bool local = false;
        cancel_fn on_cancel;                    ///< local workers
        std::vector<std::string> cancelled;     ///< external: cancelled jobs not yet told
        time_ms last_seen = 0;
        time_ms idle_since = 0;
        // The parked wait, if idle: exactly one of these is set.
        deliver_fn local_deliver;
        std::function<void(api_result<wait_result>)> external_deliver;
        std::unique_ptr<boost::asio::steady_timer> wait_timer;
        std::uint64_t wait_serial = 0;          ///< of the latest external wait (withdraw_wait)
        bool waiting() const { return local_deliver || external_deliver; }
    };

    void advance();
    void after_change();
    void notify(const dispatcher_event& e);
    void arm_timer();
    void on_timer();
    void sweep();
    void renew_local_leases();
    api_result<worker_state*> external_worker(std::string_view worker_id);
    void offer_job(const std::string& job_id);
    bool try_serve(const std::string& worker_id);
    void deliver(const std::string& worker_id, const job& j);
    void park(const std::string& worker_id, worker_state& w);
    void unpark(const std::string& worker_id, worker_state& w);
    void end_wait_empty(worker_state& w);
    api_result<job*> running_job(std::string_view job_id, std::string_view token);
    void retain(const job& j);
    std::string new_token();
    void mark_unroutable(const job& j);
    void clear_unroutable(const std::string& job_id);
    void recheck_gained(const std::string& worker_id);
    void recheck_lost(const std::vector<std::string>& keys);
    void sync_waiting(const std::string& job_id);

    boost::asio::io_context& io_;
    const service_mapping& mapping_;
    const strategy& strategy_;
    dispatcher_options options_;
    const clock_source& clock_;
    scheduler sched_;
    boost::asio::steady_timer due_timer_;
    boost::asio::steady_timer sweep_timer_;
    boost::asio::steady_timer local_lease_timer_;
    std::optional<time_ms> armed_for_;

    std::map<std::string, worker_state, std::less<>> workers_;
    std::set<std::pair<time_ms, std::string>> idle_;  ///< parked workers: (idle since, id)
    std::unordered_map<std::string, std::string> tokens_;  ///< running job id -> lease token
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> pending_since_;
    std::unordered_map<std::string, boost::json::value> bodies_;  ///< job id -> submitted body
    std::map<std::uint64_t, std::string> by_seq_;                 ///< listing order
    std::deque<std::pair<time_ms, std::string>> finished_;        ///< retention queue
    std::set<std::string> unroutable_;                            ///< job ids nobody registered can take
    std::map<std::string, std::size_t> unroutable_by_type_;       ///< their count by service_required
    std::unordered_map<std::string, std::string> waiting_;         ///< pending or retrying job id -> service_required
    std::unordered_map<std::string, std::size_t> waiting_by_type_;  ///< their count by service_required
    std::map<std::size_t, subscriber_fn> subscribers_;
    std::size_t next_subscriber_ = 1;
    bool notifying_ = false;
    std::shared_ptr<const int> alive_ = std::make_shared<const int>(0);
    std::string progress_message_;  ///< of the progress call being applied, for its event
    bool accepting_local_ = true;  ///< false once shutdown has begun
    std::mt19937_64 rng_;
    std::uint64_t next_generated_id_ = 1;
    counters totals_;
};

}  // namespace jobrouter
