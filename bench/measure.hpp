// measure: the timing loop shared by the claim scenarios, latency percentiles and memory
// readings.
//
// A claim run is: warm-up runs, then timed runs of `ops` claims each, by workers taken
// round-robin. Each claim that finds a job is followed by its complete (a worker's cycle), and
// both are inside the timed region; refills that keep the backlog steady are not: claims run
// in batches (at most a tenth of the backlog), the batch is timed as a whole, then as many jobs
// as were claimed are submitted untimed and the virtual clock moves on by 1 ms.
#pragma once

#include "bench/scenario.hpp"
#include "bench/store.hpp"
#include "bench/workload.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace jobrouter::bench {

using bench_clock = std::chrono::steady_clock;

/// CPU time this thread has used (CLOCK_THREAD_CPUTIME_ID). On a shared machine a run's wall
/// time includes time the thread waited for a core; ops per CPU-second do not (they still
/// include cache pollution by neighbours). A system call (~0.2 us): read once per batch only.
std::chrono::nanoseconds thread_cpu_time();

/// VmRSS of this process, in bytes (/proc/self/status).
std::size_t resident_bytes();
/// Bytes malloc has handed out and not got back (mallinfo2: arenas + mmapped chunks).
std::size_t heap_bytes();
/// Gives free heap pages back to the OS (malloc_trim), so that RSS growth measures live data.
void release_free_memory();

/// Sampled per-op latencies.
class latency_samples {
public:
    void add(bench_clock::duration d) { ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()); }
    void merge(const latency_samples& other) { ns_.insert(ns_.end(), other.ns_.begin(), other.ns_.end()); }
    std::size_t size() const { return ns_.size(); }
    /// p in [0, 100]; NAN without samples.
    double percentile_us(double p);

private:
    std::vector<std::int64_t> ns_;
};

double median(std::vector<double> v);

/// Which job a feed submits next: job k of the workload, normal or orphan.
using job_maker = std::function<job_spec(std::uint64_t k)>;

/// Submits jobs k = 0, 1, 2, ... to a store on the virtual clock (1000 jobs per ms), untimed.
class job_feed {
public:
    job_feed(bench_store& store, time_ms start);
    void submit(std::size_t n, const job_maker& make);
    /// Moves the virtual clock on by 1 ms.
    void tick();
    time_ms now() const { return now_; }

private:
    bench_store& store_;
    time_ms now_;
    std::uint64_t next_ = 0;
};

struct run_plan {
    std::size_t warmup = 1;
    std::size_t runs = 3;
    std::size_t ops = 200'000;     ///< claims per run
    std::size_t backlog = 0;       ///< for the batch size
    /// Claims in flight at once, each by a different worker (bench_store::claim_each), then
    /// their completes (complete_each); 1: one claim after the other.
    std::size_t in_flight = 1;
};

struct claim_result {
    double ops_per_s = 0;      ///< claims per second, median of the timed runs
    double matched_per_s = 0;  ///< claims that got a job, per second (median run)
    double ops_per_cpu_s = 0;  ///< claims per CPU-second of this thread (median run)
    /// Claims per CPU-second of the store's server (median run; NAN for a store in this
    /// process): the server CPU used while the timed batches ran, INFO calls included.
    double ops_per_server_cpu_s = NAN;
    double p50_us = 0, p99_us = 0;  ///< of a claim; with in_flight > 1, of a group of claims in flight
    std::size_t attempts = 0, matched = 0;  ///< over the timed runs
};

/// Runs the warm-up and timed claim runs.
claim_result run_claims(bench_store& store, job_feed& feed, const job_maker& refill,
                        std::span<const std::string> worker_ids, const run_plan& plan);

/// Claims (and completes) until a whole round of workers gets nothing; returns the jobs claimed.
std::size_t drain(bench_store& store, std::span<const std::string> worker_ids);

/// Pending jobs that at least one of `workers` matches (all rules, R2 by `strat`).
std::size_t count_matchable_pending(const bench_store& store, std::span<const worker_capabilities> workers,
                                    const strategy& strat);

/// "1k", "10k", "1M", or the number.
std::string short_count(std::size_t n);

}  // namespace jobrouter::bench
