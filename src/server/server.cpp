#include "server/server.hpp"

#include "server/local_workers.hpp"
#include "server/log.hpp"

namespace jobrouter {

server::server(boost::asio::io_context& io, const service_mapping& mapping, const strategy& strat,
               server_settings settings, const clock_source& clock)
    : server(io, settings, std::make_unique<dispatcher>(io, mapping, strat, settings.dispatching, clock)) {}

server::server(boost::asio::io_context& io, server_settings settings, std::unique_ptr<job_service> service)
    : io_(io),
      settings_(settings),
      dispatcher_(std::move(service)),
      metrics_(*dispatcher_, stats_),
      router_(*dispatcher_, metrics_, settings_.limits),
      http_(io, router_, settings_.limits, settings_.auth, stats_),
      shutdown_timer_(io) {
    // A log line per state change, at debug (the "a line per job state change").
    dispatcher_->subscribe([](const dispatcher_event& e) {
        if (log::enabled(log::level::debug)) log::debug("event", event_json(e));
    });
}

server::~server() = default;

void server::attach_workers(std::unique_ptr<local_workers> workers) { workers_ = std::move(workers); }

void server::start() {
    http_.listen(settings_.listen);
    if (workers_)
        if (auto started = workers_->start_all(); !started) throw error_exception(started.error());
}

void server::shutdown(std::function<void()> done) {
    if (shutting_down_) return;
    shutting_down_ = true;
    http_.stop_accepting();
    dispatcher_->stop_local_workers();
    if (workers_) workers_->stop_all();
    const std::size_t running = dispatcher_->running_local_jobs();
    if (running > 0)
        log::info("shutting down: waiting for running in-process jobs",
                  {{"running", running}, {"grace_ms", settings_.shutdown_grace.count()}});
    wait_for_running_jobs(std::chrono::steady_clock::now() + settings_.shutdown_grace, std::move(done));
}

void server::wait_for_running_jobs(std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
    const std::size_t running = dispatcher_->running_local_jobs();
    if (running == 0 || std::chrono::steady_clock::now() >= deadline) {
        if (running > 0) {
            log::warn("shutdown grace over: handing running in-process jobs back to pending", {{"jobs", running}});
            dispatcher_->release_local_jobs();
        }
        done();
        return;
    }
    shutdown_timer_.expires_after(std::chrono::milliseconds(20));
    shutdown_timer_.async_wait([this, deadline, done = std::move(done)](boost::system::error_code ec) mutable {
        if (ec) return;
        wait_for_running_jobs(deadline, std::move(done));
    });
}

}  // namespace jobrouter
