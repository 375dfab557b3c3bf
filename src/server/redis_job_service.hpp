// redis_job_service: serve on the Redis store (--store redis://...). Redis holds the truth:
// jobs, workers, leases and lease tokens, listing order, retention; every operation is one
// call of the jobrouter Functions library (the jobrouter_serve_* functions of jobrouter.lua),
// so it is atomic whichever process makes it, and a restarted serve, or another process,
// accepts a report carrying a token it never handed out itself.
//
// What stays in this process: the workers parked here (in-process workers between jobs and
// external workers in a long-poll claim), the in-process workers' cancel callbacks, and the
// event subscribers. Push assignment: when an event says a job became pending (a submission,
// a retry, a lease expiry, the end of a back-off), the parked workers that offer its key are
// asked to claim, in the order they parked; events come back in the reply of each call (this
// process's own changes) and, from other processes, through Redis pub/sub (`remote_events`).
// A timer calls jobrouter_serve_tick every 200 ms (timed effects, retention, silent external
// workers), and once a second every parked worker tries a claim (a resync that also covers
// events missed while pub/sub was down). In-process workers' leases are renewed every third of
// a lease.
//
// Explain and unroutable jobs: the job's hash and every registered worker's capabilities are
// read from Redis (jobrouter_serve_capabilities, one read-only call) and matched here with the
// core's explain code, so the verdicts are the memory store's. Nothing is kept in Redis for it:
// a job is unroutable when it is pending or retrying and no registered worker can take it,
// decided when asked (GET /api/jobs?unroutable=true, explain) or at submission, where the
// workers' capabilities come from a per-process copy that the submit reply says is current
// (see routability_cache), so a submission stays one round trip.
//
// Commands are synchronous on the io thread (redis_link): each operation is one atomic call
// whose reply the HTTP response needs, on loopback a round trip of tens of microseconds; the
// cost is that a slow Redis stalls the loop up to the command deadline. Redis down: 503
// store_unavailable, nothing acknowledged that was not stored, reconnection with back-off.
#pragma once

#include "server/clock.hpp"
#include "server/dispatcher.hpp"
#include "server/job_service.hpp"
#include "redis/subscriber.hpp"
#include "server/redis_explain.hpp"
#include "server/redis_link.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace jobrouter {

struct redis_service_options {
    dispatcher_options dispatching;                      ///< lease, back-off, retention, limits
    std::chrono::milliseconds command_timeout{2000};     ///< --store-timeout-ms
    std::chrono::milliseconds tick{200};                 ///< jobrouter_serve_tick period
    std::chrono::milliseconds resync{1000};              ///< every parked worker tries a claim
};

/// The pub/sub channel of database `db` (channels are server-wide, databases are not): every
/// serve function publishes {"origin": "<process id>", "events": [event, ...]} on it (README
/// "serve on Redis"); jobrouter:meta's events_channel holds it for the library.
std::string events_channel(int db);

class redis_job_service final : public job_service {
public:
    /// Connects to `url` (the error names it and says why not), loads and checks the function
    /// library and writes the configuration. `origin` names this process in events (unique
    /// per process: machine id, pid and a random part).
    static result<std::unique_ptr<redis_job_service>> create(boost::asio::io_context& io, const service_mapping& mapping,
                                                             const strategy& strat, const redis::redis_url& url,
                                                             redis_service_options options, const clock_source& clock,
                                                             std::string origin);
    ~redis_job_service() override;

    api_result<submit_outcome> submit(boost::json::value body) override;
    api_result<boost::json::object> get_job(std::string_view job_id) override;
    std::optional<std::string> job_status(std::string_view job_id) override;
    api_result<void> cancel(std::string_view job_id) override;
    api_result<job_page> list_jobs(const job_query& q) override;
    api_result<boost::json::object> explain_job(std::string_view job_id) override;
    api_result<boost::json::object> explain_worker(std::string_view worker_id, std::size_t limit) override;

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

    void stop_local_workers() override;
    void release_local_jobs() override;
    std::size_t running_local_jobs() const override;
    api_result<health_info> health() override;
    api_result<job_gauges> gauges() override;

    /// A message from the events channel (pub/sub): events of other processes are applied as
    /// this process's own (subscribers, wake-ups of parked workers, cancels of in-process
    /// jobs); this process's own messages are skipped (it applied them from the reply).
    void remote_events(std::string_view message);
    /// After a gap in the pub/sub subscription: every parked worker tries a claim.
    void resync();

    const std::string& origin() const { return origin_; }
    const redis::redis_url& url() const { return link_.url(); }

private:
    struct local_worker_state {
        cancel_fn on_cancel;
        std::vector<std::string> registration;  ///< serve_register's arguments after now and origin
        std::vector<std::string> keys;          ///< what it offers
    };
    struct parked_worker {
        bool local = false;
        deliver_fn local_deliver;
        std::function<void(api_result<wait_result>)> external_deliver;
        std::unique_ptr<boost::asio::steady_timer> timer;
        std::uint64_t order = 0;          ///< parking order: the longest parked is asked first
        std::vector<std::string> keys;    ///< what it offers
    };

    redis_job_service(boost::asio::io_context& io, const service_mapping& mapping, const strategy& strat,
                      const redis::redis_url& url, redis_service_options options, const clock_source& clock,
                      std::string origin);

    void on_connected(redis::connection& c);
    void on_reconnected();
    /// FCALL `function` 0 now origin args...; the events of the reply are queued and applied
    /// by drain().
    api_result<redis::reply> call(const std::string& function, std::vector<std::string> args);
    void queue_events(std::string_view events_json, bool own);
    void drain();
    void apply_event(const dispatcher_event& e, bool own);
    void offer(const std::map<std::string, int>& pending_by_key);
    enum class claim_outcome { claimed, nothing, failed };
    /// Asks a parked worker's claim; on a job, the worker is served and unparked, and
    /// `service_required` names the job's key.
    claim_outcome try_claim(const std::string& worker_id, std::string* service_required = nullptr);
    void park(const std::string& worker_id, parked_worker p);
    void end_wait_empty(const std::string& worker_id);
    void tick();
    void renew_local_leases();
    std::vector<std::string> offered_keys(const std::string& services_json, const std::string& job_types_json) const;
    api_error job_refusal(const std::string& code, const std::string& detail, std::string_view job_id) const;
    /// Every registered worker (jobrouter_serve_capabilities); the submit path's copy is renewed
    /// with it.
    api_result<worker_roster> read_roster();
    /// The submit warning for a job of `spec` (class `signature`) in `status`: its explain
    /// verdict when it waits (pending or retrying) and no registered worker can take it.
    /// `generation` is the jobrouter:workers_gen of the submit reply; the roster is read again
    /// only when it moved.
    std::vector<std::string> submit_warnings(const job_spec& spec, const std::string& signature, const std::string& status,
                                             const std::string& generation);
    /// ?unroutable=true: the requirement classes of waiting jobs that no registered worker can take.
    api_result<std::vector<std::string>> unroutable_classes();
    std::string new_token();

    boost::asio::io_context& io_;
    redis_service_options options_;
    const clock_source& clock_;
    std::string origin_;
    redis_link link_;
    boost::asio::steady_timer tick_timer_;
    boost::asio::steady_timer lease_timer_;
    std::chrono::steady_clock::time_point last_resync_{};
    std::unique_ptr<redis::subscriber> subscriber_;  ///< other processes' events
    bool subscribed_ = false;
    bool subscription_lost_ = false;

    std::map<std::string, local_worker_state, std::less<>> local_;
    std::map<std::string, std::string, std::less<>> local_jobs_;  ///< job id -> in-process worker running it
    std::map<std::string, parked_worker, std::less<>> parked_;
    std::uint64_t next_park_ = 1;
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> pending_since_;
    std::deque<std::pair<dispatcher_event, bool>> queue_;  ///< events to apply (own?)
    bool draining_ = false;
    bool accepting_local_ = true;
    std::pair<std::string, std::string> last_status_;
    /// Claims sent when Redis went away, whose reply was lost: (worker id, lease token). If
    /// Redis applied one, the job is assigned to a worker that never heard of it (and whose
    /// heartbeats or lease renewals would keep it so): on reconnection it is handed back.
    std::vector<std::pair<std::string, std::string>> uncertain_claims_;  ///< job id -> status after the last report
    std::mt19937_64 rng_;
    std::uint64_t next_generated_id_ = 1;
    routability_cache routability_;           ///< the submit path's copy of the workers
    std::set<std::string> logged_unroutable_;  ///< types whose unroutable job was logged since the workers last changed
};

/// A process id for events: "<machine id>:<pid>:<8 random hex digits>".
std::string make_origin(const std::string& machine_id);

}  // namespace jobrouter
