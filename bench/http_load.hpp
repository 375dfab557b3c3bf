// http_load: the http scenario's client, a load generator speaking jobrouter's HTTP API over
// Beast on one io_context, run by the calling thread (so its CPU time is that thread's).
//
// - `submitters` keep-alive connections each POST /api/jobs one job after another (closed
//   loop: the next as soon as the reply arrives). Job k has the id "h<k>" and service_required
//   "bench-http"; the time it is sent is recorded.
// - `workers` external workers (POST /api/workers, service and job type "bench-http"), one
//   keep-alive connection each, loop: POST /api/workers/{id}/claim?wait_ms=W (long-poll), then
//   POST /api/jobs/{id}/complete with the lease token, then claim again.
// - submit-to-assign of job k = arrival of the claim reply that carries it - the time job k's
//   submit was sent. Every job is measured (an HTTP round trip costs far more than a clock read).
// - A submitter pauses while `window` submitted jobs are not yet assigned, so that a load the
//   workers cannot keep up with shows as fewer submissions/s, not as an ever longer queue.
//
// Every network step has a deadline (io_timeout; a claim's read: wait + io_timeout) and a run
// has one as a whole; a wrong status, a broken connection or a missed deadline ends the run with
// std::runtime_error naming the connection, the request and what came back.
#pragma once

#include "bench/measure.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace jobrouter::bench {

struct http_load_options {
    boost::asio::ip::tcp::endpoint server;
    std::size_t submitters = 4;
    std::size_t workers = 16;
    std::size_t window = 256;          ///< submitted, not yet assigned jobs at most
    std::size_t payload_bytes = 100;   ///< size of each job's payload string
    std::chrono::milliseconds wait{1000};         ///< claim wait_ms
    std::chrono::milliseconds io_timeout{10000};  ///< bound of each connect, write and read
};

struct http_run_stats {
    std::size_t jobs = 0;
    double submit_seconds = 0;  ///< first submit sent -> last submit reply
    double total_seconds = 0;   ///< first submit sent -> last complete reply
    latency_samples submit_to_assign;
    latency_samples submit_rtt;     ///< POST /api/jobs round trip
    std::size_t window_waits = 0;   ///< times a submitter paused on the window
    std::size_t empty_claims = 0;   ///< claims answered 204 (wait over, nothing came)
};

class http_load {
public:
    /// Connects every connection and registers the workers, which start claiming at once.
    explicit http_load(const http_load_options& options);
    ~http_load();
    http_load(const http_load&) = delete;
    http_load& operator=(const http_load&) = delete;

    /// Submits `jobs` jobs and returns once every one is completed, or throws when `deadline`
    /// passes first.
    http_run_stats run(std::size_t jobs, std::chrono::milliseconds deadline);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace jobrouter::bench
