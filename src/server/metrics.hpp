// metrics: GET /metrics in Prometheus text format: pending jobs by service, job counters,
// claim and submit-to-assign latency histograms, workers by kind and status. The histograms
// are fed by the dispatcher's hooks; everything else is read from it at scrape time.
#pragma once

#include "server/connection_stats.hpp"
#include "server/job_service.hpp"

#include <array>
#include <string>

namespace jobrouter {

/// A Prometheus histogram with fixed buckets (seconds).
class histogram {
public:
    static constexpr std::array<double, 14> kBounds{0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                    0.005,   0.01,    0.025,  0.05,    0.1,   0.5,    1.0};
    void observe(double seconds);
    void render(std::string& out, const std::string& name, const std::string& help) const;

private:
    std::array<std::uint64_t, kBounds.size() + 1> counts_{};  ///< last slot: +Inf
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

class metrics {
public:
    /// Hooks itself into `d`'s latency callbacks; `d` must outlive it.
    /// `connections`, when given, adds the connection gauges and counters.
    explicit metrics(job_service& d, std::shared_ptr<const connection_stats> connections = nullptr);
    std::string render() const;

private:
    job_service& dispatcher_;
    std::shared_ptr<const connection_stats> connections_;
    histogram claim_seconds_;
    histogram submit_to_assign_seconds_;
};

}  // namespace jobrouter
