// server: `jobrouter serve` assembled: the dispatcher (scheduler state), the HTTP/WebSocket
// API, metrics, in-process workers, and the graceful shutdown path. Everything runs on one
// io_context, driven by the caller's thread (serve_command runs it; tests run it on a thread
// of their own and talk to it over loopback HTTP only).
#pragma once

#include "server/api_router.hpp"
#include "server/auth.hpp"
#include "server/connection_stats.hpp"
#include "server/dispatcher.hpp"
#include "server/http_limits.hpp"
#include "server/http_server.hpp"
#include "server/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>

namespace jobrouter {

class local_workers;

struct server_settings {
    boost::asio::ip::tcp::endpoint listen;
    dispatcher_options dispatching;
    http_limits limits;
    auth_settings auth;  ///< bearer tokens; none set: every route is open
    std::chrono::milliseconds shutdown_grace{10000};
};

class server {
public:
    /// With the memory store (a dispatcher built from settings.dispatching).
    server(boost::asio::io_context& io, const service_mapping& mapping, const strategy& strat, server_settings settings,
           const clock_source& clock);
    /// With a given store (the Redis store: redis_job_service); settings.dispatching is unused.
    server(boost::asio::io_context& io, server_settings settings, std::unique_ptr<job_service> service);
    ~server();

    /// Binds the listener and starts the in-process workers, if any were attached. Throws
    /// boost::system::system_error when the address is unusable, error_exception when a worker
    /// cannot start (start-up is the one place this project throws).
    void start();
    /// Attaches in-process workers (built against dispatcher()); started by start().
    void attach_workers(std::unique_ptr<local_workers> workers);

    /// Graceful shutdown: stop accepting, stop in-process workers from taking jobs, let running
    /// in-process jobs finish within the grace period, hand the rest back, then call `done`.
    void shutdown(std::function<void()> done);

    boost::asio::ip::tcp::endpoint local_endpoint() const { return http_.local_endpoint(); }
    job_service& get_dispatcher() { return *dispatcher_; }
    /// Open connections and what the connection limits turned away (io_context thread only).
    const connection_stats& connections() const { return *stats_; }

private:
    void wait_for_running_jobs(std::chrono::steady_clock::time_point deadline, std::function<void()> done);

    boost::asio::io_context& io_;
    server_settings settings_;
    std::shared_ptr<connection_stats> stats_ = std::make_shared<connection_stats>();
    std::unique_ptr<job_service> dispatcher_;
    metrics metrics_;
    api_router router_;
    http_server http_;
    std::unique_ptr<local_workers> workers_;
    boost::asio::steady_timer shutdown_timer_;
    bool shutting_down_ = false;
};

}  // namespace jobrouter
