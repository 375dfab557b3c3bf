// event_log: the soak driver's subscription to serve's /ws/events. It records each job's
// events (the number of submitted, assigned, retried, final events) so that the end of a soak
// can account for every accepted job and count what the server did independently of its own
// counters. Runs on a thread of its own; a dropped or broken stream is reported, never hidden.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace jobrouter::soak {

struct job_events {
    std::uint16_t submitted = 0, assigned = 0, retried = 0, completed = 0, failed = 0, cancelled = 0;
    std::string last;  ///< the last event's name
    int finals() const { return completed + failed + cancelled; }
};

class event_log {
public:
    event_log(std::string host, std::string port);
    ~event_log();
    event_log(const event_log&) = delete;
    event_log& operator=(const event_log&) = delete;

    /// Connects and subscribes (bounded); false with `error()` set when it cannot.
    bool start();
    /// Closes the stream and joins the thread.
    void stop();

    /// Events of every kind seen so far, by name ("completed", ...).
    std::map<std::string, std::uint64_t> totals();
    /// Jobs that have had a final event (completed, failed or cancelled).
    std::uint64_t finals() const { return finals_.load(); }
    /// A copy of one job's events (all zero when none was seen).
    job_events of(const std::string& job_id);
    /// Non-empty once the stream failed or was closed by the server (before stop()).
    std::string error();

private:
    void run();

    std::string host_, port_;
    std::thread thread_;
    std::mutex mutex_;
    std::unordered_map<std::string, job_events> jobs_;
    std::map<std::string, std::uint64_t> totals_;
    std::atomic<std::uint64_t> finals_{0};
    std::string error_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> state_{0};  ///< 0 connecting, 1 subscribed, -1 failed
    struct impl;
    impl* impl_ = nullptr;
};

}  // namespace jobrouter::soak
