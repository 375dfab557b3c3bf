// job_service: what serve's HTTP API (api_router), in-process workers (local_worker), metrics
// and WebSocket sessions ask of the owner of the scheduler state. Two implementations:
// `dispatcher` (the memory store: the sans-I/O scheduler in this process) and
// `redis_job_service` (the Redis store: the state in Redis, every operation one call of the
// jobrouter Functions library). Both run on one io_context thread; nothing here is locked.
//
// The base class keeps what both share: the event subscribers (WebSocket sessions, logs), the
// counters and the metrics hooks.
#pragma once

#include "core/error.hpp"
#include "core/scheduler_event.hpp"
#include "core/service_mapping.hpp"
#include "strategies/strategy.hpp"

#include <boost/json.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter {

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
    std::string code;        ///< e.g. "invalid_request", "not_found", "conflict", "store_unavailable"
    std::string message;     ///< what is wrong and where
    int retry_after_s = 0;   ///< > 0: sent as Retry-After (429, 503)
};

template <class T>
using api_result = boost::system::result<T, api_error>;

[[noreturn]] void throw_exception_from_error(const api_error& e, const boost::source_location&);

/// The refusals both stores word alike: 400 invalid_request with the error's text (what is
/// wrong and where), 404 not_found, 409 conflict.
api_error bad_request(const error& e);
api_error not_found(std::string what);
api_error conflict(std::string what);

/// A state change, as sent to subscribers (see event_json for the JSON form).
struct dispatcher_event {
    scheduler_event event;
    std::string service_required;  ///< of the job, "" for worker events
    std::int64_t progress = 0;
    std::string message;           ///< progress message or error text, if any
};

boost::json::object event_json(const dispatcher_event& e);

/// The message of a `requeued` event whose job a worker's heartbeat handed back (both stores).
inline constexpr const char* kHandedBackMessage = "handed back: not listed by its worker's heartbeat";

class job_service {
public:
    using deliver_fn = std::function<void(assignment)>;
    using cancel_fn = std::function<void(const std::string& job_id)>;
    using subscriber_fn = std::function<void(const dispatcher_event&)>;

    virtual ~job_service();
    job_service(const job_service&) = delete;
    job_service& operator=(const job_service&) = delete;

    // ---- jobs ------------------------------------------------------------------------------
    enum class submit_kind { created, existing };
    struct submit_outcome {
        submit_kind kind;
        std::string job_id;
        std::vector<std::string> warnings;  ///< e.g. the explain verdict of a job nobody can take
    };
    /// POST /api/jobs. A body `id` makes it idempotent: same id and same body -> existing;
    /// same id, different body -> 409. Without `id` one is generated.
    virtual api_result<submit_outcome> submit(boost::json::value body) = 0;
    virtual api_result<boost::json::object> get_job(std::string_view job_id) = 0;
    /// The job's status after a report (progress, complete, fail), nullopt when it is gone.
    virtual std::optional<std::string> job_status(std::string_view job_id) = 0;
    virtual api_result<void> cancel(std::string_view job_id) = 0;

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
    virtual api_result<job_page> list_jobs(const job_query& q) = 0;

    /// GET /api/jobs/{id}/explain and GET /api/workers/{id}/explain (see dispatcher.hpp).
    virtual api_result<boost::json::object> explain_job(std::string_view job_id) = 0;
    virtual api_result<boost::json::object> explain_worker(std::string_view worker_id, std::size_t limit) = 0;

    // ---- workers ---------------------------------------------------------------------------
    /// POST /api/workers: capabilities (trace-format.md), or {"worker_id", "worker_type"}.
    virtual api_result<void> register_external(const boost::json::value& body) = 0;
    /// An in-process worker; `on_cancel` is called when a job it runs is cancelled.
    virtual api_result<void> register_local(const boost::json::value& capabilities, cancel_fn on_cancel) = 0;
    /// Removes a worker; its jobs count a failed attempt.
    virtual api_result<void> unregister(std::string_view worker_id) = 0;
    /// DELETE /api/workers/{id}: as unregister, but in-process workers are not the API's (409).
    virtual api_result<void> unregister_external(std::string_view worker_id) = 0;
    virtual api_result<boost::json::array> list_workers() = 0;
    /// Whether the worker holds a job (an in-process worker leaving waits for it).
    virtual bool holds_jobs(std::string_view worker_id) = 0;

    /// The worker is idle and wants a job: `deliver` is called (posted, never inline) with one
    /// as soon as one matches, or with nothing once `wait` has passed (a zero wait answers at
    /// once). A second wait by the same worker replaces the first (which gets nothing).
    /// Returns the wait's serial, for withdraw_wait (0 when the wait was refused at once).
    using wait_result = std::optional<assignment>;
    virtual std::uint64_t wait_for_job(std::string_view worker_id, std::chrono::milliseconds wait,
                                       std::function<void(api_result<wait_result>)> deliver) = 0;
    /// The client of wait `serial` hung up: if that wait still waits, it ends with nothing
    /// (the answer goes nowhere) and the worker is no longer idle, so that no job is handed
    /// out on a dead connection, to be held unseen while the worker's heartbeats renew it.
    virtual void withdraw_wait(std::string_view worker_id, std::uint64_t serial) = 0;
    /// For in-process workers: wait with no time limit.
    virtual void ready_for_job(std::string_view worker_id, deliver_fn deliver) = 0;

    struct heartbeat_reply {
        std::vector<std::string> cancelled_jobs;  ///< its jobs cancelled since the last heartbeat
        std::vector<std::string> unknown_jobs;    ///< listed in `jobs` but not held by the worker
        std::vector<std::string> handed_back;     ///< held, not listed: back to pending (scheduler::heartbeat)
    };
    /// An external worker's heartbeat: renews its leases. With `jobs` (the jobs it says it works
    /// on) it first hands back the jobs it holds but does not list that were assigned before
    /// its previous heartbeat (the rule: scheduler::heartbeat), each `requeued`, its lease
    /// token stale; listed jobs it does not hold come back in unknown_jobs.
    virtual api_result<heartbeat_reply> heartbeat(std::string_view worker_id,
                                                  const std::optional<std::vector<std::string>>& jobs) = 0;
    virtual api_result<void> progress(std::string_view job_id, std::string_view token, std::int64_t percent,
                                      const std::string& message = {}) = 0;
    virtual api_result<void> complete(std::string_view job_id, std::string_view token, boost::json::value result) = 0;
    virtual api_result<void> fail(std::string_view job_id, std::string_view token, boost::json::value error,
                                  bool retryable) = 0;

    // ---- shutdown --------------------------------------------------------------------------
    /// Shutdown, step 1: in-process workers get no more jobs.
    virtual void stop_local_workers() = 0;
    /// Shutdown, step 2: hands every job held by in-process workers back to pending (no attempt
    /// counted) and tells their connectors to stop.
    virtual void release_local_jobs() = 0;
    virtual std::size_t running_local_jobs() const = 0;

    // ---- health and metrics ----------------------------------------------------------------
    struct health_info {
        std::size_t pending = 0;
        std::size_t jobs = 0;
    };
    virtual api_result<health_info> health() = 0;
    /// What /metrics shows of the jobs, read at scrape time.
    struct job_gauges {
        std::map<std::string, std::uint64_t> pending;     ///< by service_required
        std::map<std::string, std::uint64_t> running;     ///< by service_required
        std::map<std::string, std::size_t> unroutable;    ///< by service_required
        std::size_t waiting = 0;                          ///< pending or retrying
    };
    virtual api_result<job_gauges> gauges() = 0;

    const service_mapping& mapping() const { return mapping_; }
    const strategy& matching_strategy() const { return strategy_; }

    // ---- events ----------------------------------------------------------------------------
    /// Subscribers are called on the service's thread after each change; they must not call
    /// back into the service synchronously.
    std::size_t subscribe(subscriber_fn f);
    void unsubscribe(std::size_t id);
    /// Expires when the service is destroyed: objects that may outlive it (sessions whose
    /// handlers are destroyed with the io_context) check it before unsubscribing.
    std::weak_ptr<const void> lifetime() const { return alive_; }

    struct counters {
        std::uint64_t submitted = 0, claims = 0, completed = 0, failed = 0, retried = 0, cancelled = 0;
    };
    const counters& totals() const { return totals_; }
    /// Called with (submit-to-assign seconds) for each assignment, and (claim seconds) for each
    /// claim call: metrics hang histograms here.
    std::function<void(double)> on_submit_to_assign;
    std::function<void(double)> on_claim_duration;

protected:
    job_service(const service_mapping& mapping, const strategy& strat) : mapping_(mapping), strategy_(strat) {}
    void notify(const dispatcher_event& e);
    /// Counts an event in totals().
    void count(event_kind kind);

    const service_mapping& mapping_;
    const strategy& strategy_;
    counters totals_;

private:
    std::map<std::size_t, subscriber_fn> subscribers_;
    std::size_t next_subscriber_ = 1;
    bool notifying_ = false;
    std::shared_ptr<const int> alive_ = std::make_shared<const int>(0);
};

}  // namespace jobrouter
