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
#include "server/job_service.hpp"

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

class dispatcher final : public job_service {
public:
    dispatcher(boost::asio::io_context& io, const service_mapping& mapping, const strategy& strat,
               dispatcher_options options, const clock_source& clock);
    ~dispatcher() override;

    // ---- jobs ------------------------------------------------------------------------------
    api_result<submit_outcome> submit(boost::json::value body) override;
    api_result<boost::json::object> get_job(std::string_view job_id) override;
    std::optional<std::string> job_status(std::string_view job_id) override;
    api_result<void> cancel(std::string_view job_id) override;

    /// GET /api/jobs: newest first.
    api_result<job_page> list_jobs(const job_query& q) override;

    /// GET /api/jobs/{id}/explain: {job_id, status, verdict, workers: [{worker_id, kind, state,
    /// matches, rule, detail}]}, every registered worker sorted by id.
    api_result<boost::json::object> explain_job(std::string_view job_id) override;
    /// GET /api/workers/{id}/explain: {worker_id, jobs: [{job_id, rule, detail}]}: among the
    /// first `limit` pending jobs in rank order, those this worker cannot take, and why.
    api_result<boost::json::object> explain_worker(std::string_view worker_id, std::size_t limit) override;

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
    api_result<void> register_external(const boost::json::value& body) override;
    api_result<void> register_local(const boost::json::value& capabilities, cancel_fn on_cancel) override;
    api_result<void> unregister(std::string_view worker_id) override;
    api_result<void> unregister_external(std::string_view worker_id) override;
    api_result<boost::json::array> list_workers() override;
    bool holds_jobs(std::string_view worker_id) override;

    std::uint64_t wait_for_job(std::string_view worker_id, std::chrono::milliseconds wait,
                               std::function<void(api_result<wait_result>)> deliver) override;
    void withdraw_wait(std::string_view worker_id, std::uint64_t serial) override;
    void ready_for_job(std::string_view worker_id, deliver_fn deliver) override;

    api_result<heartbeat_reply> heartbeat(std::string_view worker_id,
                                          const std::optional<std::vector<std::string>>& jobs) override;
    api_result<void> progress(std::string_view job_id, std::string_view token, std::int64_t percent,
                              const std::string& message = {}) override;
    api_result<void> complete(std::string_view job_id, std::string_view token, boost::json::value result) override;
    api_result<void> fail(std::string_view job_id, std::string_view token, boost::json::value error, bool retryable) override;

    // ---- shutdown, events, introspection ---------------------------------------------------
    void stop_local_workers() override;
    void release_local_jobs() override;
    std::size_t running_local_jobs() const override;
    api_result<health_info> health() override;
    api_result<job_gauges> gauges() override;

    const scheduler& core() const { return sched_; }
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
    std::string progress_message_;  ///< of the progress call being applied, for its event
    bool accepting_local_ = true;  ///< false once shutdown has begun
    std::mt19937_64 rng_;
    std::uint64_t next_generated_id_ = 1;
};

}  // namespace jobrouter
