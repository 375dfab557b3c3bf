#include "server/local_worker.hpp"

#include "connectors/connector_registry.hpp"
#include "core/json_util.hpp"
#include "strategies/strategy.hpp"

#include <boost/asio/post.hpp>

namespace jobrouter {

namespace asio = boost::asio;

local_worker::local_worker(asio::io_context& io, job_service& d, std::string id, const worker_type& type, log_fn log)
    : io_(io), dispatcher_(d), id_(std::move(id)), type_(type), log_(std::move(log)) {}

local_worker::~local_worker() {
    // First: any callback still queued somewhere (dispatcher, connector) must find us gone.
    alive_.reset();
    if (connector_) connector_->cancel();
    connector_.reset();
    if (registered_) (void)dispatcher_.unregister(id_);
}

api_result<void> local_worker::start(const json::value& capabilities) {
    if (registered_) return api_error{409, "conflict", "worker_id: " + quoted(id_) + " is already started"};
    std::weak_ptr<int> alive = alive_;
    auto registered = dispatcher_.register_local(capabilities, [this, alive](const std::string& job_id) {
        if (alive.lock()) on_cancel(job_id);
    });
    if (!registered) return registered.error();
    registered_ = true;
    stopped_ = false;
    ask();
    return {};
}

void local_worker::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (!current_) leave();
}

void local_worker::ask() {
    if (stopped_ || waiting_ || !registered_) return;
    waiting_ = true;
    std::weak_ptr<int> alive = alive_;
    dispatcher_.ready_for_job(id_, [this, alive](assignment a) {
        if (alive.lock()) on_assignment(std::move(a));
    });
}

void local_worker::on_assignment(assignment a) {
    waiting_ = false;
    if (current_) {
        // Cannot happen while we ask only when idle; if it ever does, the job must not sit
        // assigned to a worker that will never run it, and another worker may well succeed.
        debug("local worker: got a job while busy; handing it back as a failed attempt", {{"job_id", a.job_id}});
        json::object error;
        error["message"] = "in-process worker " + quoted(id_) + " was handed a job while running another";
        (void)dispatcher_.fail(a.job_id, a.lease_token, std::move(error), true);
        return;
    }
    ++jobs_taken_;
    ++attempt_;
    current_ = running{a.job_id, a.lease_token};

    const json::value* sr = a.job.if_contains("service_required");
    const std::string service_required = sr && sr->is_string() ? std::string(sr->get_string()) : std::string();
    const service_mapping& mapping = dispatcher_.mapping();
    const auto route = dispatcher_.matching_strategy().resolve_route(type_, mapping, service_required);
    if (!route) {
        fail_unrunnable("", "", "it has no route for job type " + quoted(service_required));
        return;
    }
    const service_def* service = mapping.find_service(route->service);
    if (!service) {
        fail_unrunnable(route->service, route->connector,
                        "the service is not in the services of " + mapping.source_name);
        return;
    }
    if (route->connector.empty()) {
        fail_unrunnable(route->service, route->connector, "the service names no connector");
        return;
    }
    auto made = make_connector(route->connector, io_);
    if (!made) {
        fail_unrunnable(route->service, route->connector, made.error().message);
        return;
    }
    connector_ = std::move(*made);

    connector_job job;
    job.job_id = a.job_id;
    job.job_type = service_required;
    job.service = route->service;
    if (const json::value* p = a.job.if_contains("payload")) job.payload = *p;
    job.service_config = service->raw;
    job.job = std::move(a.job);
    debug("local worker: job started",
          {{"job_id", job.job_id}, {"service", job.service}, {"connector", std::string(connector_->name())}});
    connector_->start(std::move(job), callbacks_for(attempt_));
}

void local_worker::fail_unrunnable(const std::string& service, const std::string& connector, std::string why) {
    std::string message = "worker type " + quoted(type_.name);
    if (!service.empty()) message += ", service " + quoted(service);
    if (!service.empty() || !connector.empty())
        message += ", connector " + (connector.empty() ? std::string("(none)") : quoted(connector));
    message += ": " + why;
    json::object error;
    error["message"] = message;
    error["worker_type"] = type_.name;
    error["service"] = service;
    error["connector"] = connector;
    debug("local worker: job cannot run here", {{"job_id", current_->job_id}, {"error", message}});
    // Not retryable: another attempt on the same worker type would meet the same mapping.
    if (auto r = dispatcher_.fail(current_->job_id, current_->lease_token, std::move(error), false); !r)
        debug("local worker: fail refused", {{"job_id", current_->job_id}, {"error", r.error().message}});
    finish();
}

connector_callbacks local_worker::callbacks_for(std::uint64_t attempt) {
    // Each callback checks the guard and the attempt: a connector must stay silent after its
    // end or cancel(), but a job's fate should not rest on every connector getting that right.
    std::weak_ptr<int> alive = alive_;
    connector_callbacks cb;
    cb.on_progress = [this, alive, attempt](std::int64_t percent, std::string message) {
        if (!alive.lock() || !current_attempt(attempt)) return;
        auto r = dispatcher_.progress(current_->job_id, current_->lease_token, percent, message);
        // The lease is gone (cancelled, requeued, forgotten): whatever the connector still does
        // would be refused too, so stop it now.
        if (!r) abandon("progress refused", r.error());
    };
    cb.on_complete = [this, alive, attempt](json::value result) {
        if (!alive.lock() || !current_attempt(attempt)) return;
        if (auto r = dispatcher_.complete(current_->job_id, current_->lease_token, std::move(result)); !r)
            debug("local worker: complete refused", {{"job_id", current_->job_id}, {"error", r.error().message}});
        finish();
    };
    cb.on_fail = [this, alive, attempt](json::value error, bool retryable) {
        if (!alive.lock() || !current_attempt(attempt)) return;
        if (auto r = dispatcher_.fail(current_->job_id, current_->lease_token, std::move(error), retryable); !r)
            debug("local worker: fail refused", {{"job_id", current_->job_id}, {"error", r.error().message}});
        finish();
    };
    return cb;
}

void local_worker::on_cancel(const std::string& job_id) {
    // A notice about a job that already ended here (we abandoned it, or it finished first).
    if (!current_ || current_->job_id != job_id) return;
    debug("local worker: job cancelled; stopping its connector", {{"job_id", job_id}});
    if (connector_) connector_->cancel();
    finish();
}

void local_worker::abandon(std::string_view why, const api_error& e) {
    debug("local worker: lease lost; abandoning the job",
          {{"job_id", current_->job_id}, {"why", std::string(why)}, {"error", e.message}});
    if (connector_) connector_->cancel();
    finish();
}

void local_worker::finish() {
    current_.reset();
    ++attempt_;
    // We are usually inside one of the connector's own callbacks: destroy it only once that
    // has returned (a connector may well touch its members after calling back).
    if (connector_) asio::post(io_, [c = std::move(connector_)] {});
    if (stopped_)
        leave();
    else
        ask();
}

void local_worker::leave() {
    if (!registered_) return;
    // A job claimed for us may be on its way (the dispatcher posts deliveries): unregistering
    // now would count it a failed attempt. Run it first; finish() comes back here.
    if (dispatcher_.holds_jobs(id_)) return;
    (void)dispatcher_.unregister(id_);
    registered_ = false;
    waiting_ = false;
}

void local_worker::debug(std::string_view message, boost::json::object fields) const {
    if (!log_) return;
    fields["worker_id"] = id_;
    log_(message, fields);
}

}  // namespace jobrouter
