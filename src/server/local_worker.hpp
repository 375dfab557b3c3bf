// local_worker: one in-process worker of `jobrouter serve` (WORKERS=type:count). It runs one
// job at a time through the connector of its worker type's route for the job, reporting to the
// dispatcher like an external worker would, but without HTTP:
//
//   dispatcher.ready_for_job(id) -> assignment -> route (strategy.resolve_route on the job's
//   service_required) -> make_connector(route.connector) -> start -> progress / complete / fail
//   with the lease token -> ready_for_job again.
//
// A job whose route or connector is missing fails, not retryable, with a message naming the
// worker type, the service and the connector (local_workers refuses such worker types at start,
// so this only guards against a job type the check could not foresee). A report the dispatcher
// refuses (404/409: the job was cancelled, requeued or forgotten meanwhile) is logged at debug
// and the job abandoned: its connector is cancelled and the worker asks for the next job. When
// the dispatcher cancels the running job (the cancel_fn given to register_local), the connector
// is cancelled and the worker becomes ready again.
//
// Executor: everything runs on the dispatcher's io_context thread; nothing is locked. The
// dispatcher always posts deliveries and cancellations, so no call re-enters the worker.
// Ownership: the worker owns its running connector; it references the dispatcher, the mapping,
// the strategy and the worker type (the dispatcher's), which must all outlive it. Callbacks it
// hands out hold only a weak guard, so they are harmless after the worker is destroyed.
#pragma once

#include "connectors/connector.hpp"
#include "core/service_mapping.hpp"
#include "server/job_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace jobrouter {

class local_worker {
public:
    /// A debug log line (message, structured fields); serve wires it to log::debug. May be empty.
    using log_fn = std::function<void(std::string_view message, const boost::json::object& fields)>;

    /// `type` must be a worker type of d.mapping().
    local_worker(boost::asio::io_context& io, job_service& d, std::string id, const worker_type& type, log_fn log = {});
    /// Cancels a running connector and unregisters from the dispatcher if still registered (a
    /// job it still held then counts a failed attempt: shut down with stop() first).
    ~local_worker();
    local_worker(const local_worker&) = delete;
    local_worker& operator=(const local_worker&) = delete;

    const std::string& id() const { return id_; }
    const std::string& worker_type_name() const { return type_.name; }

    /// Registers with the dispatcher (`capabilities` must carry id() as worker_id) and asks for
    /// the first job. An error is the dispatcher's (400: bad capabilities, 409: id taken).
    api_result<void> start(const boost::json::value& capabilities);

    /// Shutdown: asks for no more jobs. An idle worker unregisters at once; a busy one (or one
    /// whose next job is already on its way) finishes that job, then unregisters. A job handed
    /// back meanwhile (dispatcher.release_local_jobs) cancels its connector as any cancel does.
    void stop();

    bool busy() const { return current_.has_value(); }
    bool stopped() const { return stopped_; }
    bool registered() const { return registered_; }
    /// The running job's id, "" when idle.
    std::string current_job_id() const { return current_ ? current_->job_id : std::string(); }
    /// Jobs handed to this worker so far (tests, introspection).
    std::uint64_t jobs_taken() const { return jobs_taken_; }

private:
    struct running {
        std::string job_id;
        std::string lease_token;
    };

    void ask();
    void on_assignment(assignment a);
    void on_cancel(const std::string& job_id);
    void fail_unrunnable(const std::string& service, const std::string& connector, std::string why);
    connector_callbacks callbacks_for(std::uint64_t attempt);
    bool current_attempt(std::uint64_t attempt) const { return current_ && attempt == attempt_; }
    void abandon(std::string_view why, const api_error& e);
    void finish();
    void leave();
    void debug(std::string_view message, boost::json::object fields) const;

    boost::asio::io_context& io_;
    job_service& dispatcher_;
    std::string id_;
    const worker_type& type_;
    log_fn log_;

    std::optional<running> current_;
    std::unique_ptr<connector> connector_;  ///< the running job's, while busy
    std::uint64_t attempt_ = 0;             ///< bumped per job and at its end: late callbacks are ignored
    std::uint64_t jobs_taken_ = 0;
    bool registered_ = false;
    bool waiting_ = false;  ///< a ready_for_job is outstanding
    bool stopped_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  ///< weakly held by every callback
};

}  // namespace jobrouter
