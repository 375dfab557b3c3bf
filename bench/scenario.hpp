// scenario: what jobrouter-bench runs. A scenario is a small object with a name, registered
// once (JOBROUTER_BENCH_SCENARIO below) from its own .cpp; the runner (main.cpp) lists them,
// filters them with --scenarios REGEX and prints the rows they return.
//
// A row is one scenario x strategy x store: throughput (`ops_per_s`, what one "op" is is
// said by the scenario's description), latency percentiles of a sampled op, resident memory
// after the timed runs, and named metrics (ratios, counts) specific to the scenario. A
// scenario may also add target checks (the goals) once every row of the run is known,
// so that cross-scenario comparisons (index vs emp-scan) use numbers of the same run.
#pragma once

#include "bench/store.hpp"

#include "core/service_mapping.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter::bench {

/// Sizes and knobs of one bench run (main.cpp fills it from the command line).
struct bench_config {
    std::size_t jobs = 1'000'000;            ///< pending backlog of the claim scenarios, jobs of `memory`
    std::size_t workers = 10'000;            ///< registered workers
    std::size_t ops = 200'000;               ///< timed operations per run
    std::size_t runs = 3;                    ///< timed runs per row
    std::size_t warmup = 1;                  ///< untimed runs before them
    std::size_t types = 100;                 ///< job types (service_required values)
    std::size_t signatures = 8;              ///< requirement signatures per job type (1..8)
    std::size_t types_per_worker = 4;        ///< job types each worker offers
    std::size_t payload_bytes = 100;         ///< size of each job's payload string
    std::size_t max_scan = 100;              ///< emp-scan's window (EMP's max_scan)
    std::vector<std::size_t> backlogs{1'000, 10'000, 100'000, 1'000'000};  ///< claim-backlog-scaling
    std::uint64_t seed = 1;
    std::string strategy = "job-type";       ///< strategy of every scenario but `strategies` and `claim-backlog-scaling` (each)
    std::size_t http_clients = 4;            ///< http: keep-alive connections submitting
    std::size_t http_workers = 16;           ///< http: external workers long-polling
    std::size_t http_jobs = 50'000;          ///< http: submissions per run
    std::size_t in_flight = 1;               ///< claims in flight at once (run_plan::in_flight)
};

/// A number a scenario reports beside the fixed columns (table: "name=value").
struct metric {
    std::string name;
    double value = 0;
};

struct bench_row {
    std::string scenario;
    std::string strategy;
    std::string store;
    double ops_per_s = NAN;  ///< NAN: not measured
    double p50_us = NAN;
    double p99_us = NAN;
    std::size_t rss_bytes = 0;
    std::vector<metric> metrics;

    /// The metric called `name`, or NAN.
    double get(std::string_view name) const {
        for (const metric& m : metrics)
            if (m.name == name) return m.value;
        return NAN;
    }
};

/// One of the goals, checked against the rows of this run.
struct target_check {
    std::string what;   ///< e.g. "claim-steady ops/s (memory)"
    double value = NAN; ///< NAN: could not be computed in this run (row filtered out)
    double goal = 0;       ///< NAN: information only, no goal
    bool at_least = true;  ///< value >= goal passes; else value <= goal passes

    bool info() const { return std::isnan(goal); }
    bool passed() const { return !std::isnan(value) && (at_least ? value >= goal : value <= goal); }
};

/// What a scenario gets to run with.
struct bench_context {
    const bench_config& config;
    const service_mapping& mapping;
    std::span<const store_entry* const> stores;  ///< the stores selected with --stores
    std::ostream& log;                           ///< progress (stderr)
};

class scenario {
public:
    virtual ~scenario() = default;
    virtual std::string_view name() const = 0;
    /// One line for --list: what is measured and what one op is.
    virtual std::string_view description() const = 0;
    /// Position in --list and in the standard run (lower first).
    virtual int order() const = 0;
    /// Whether the scenario has rows for store `store` (http runs serve, which has one store).
    /// A scenario that runs on none of the selected stores is skipped, not failed.
    virtual bool runs_on(std::string_view /*store*/) const { return true; }
    virtual std::vector<bench_row> run(const bench_context& ctx) const = 0;
    /// Called after every selected scenario ran, with all their rows.
    virtual void add_checks(std::span<const bench_row> /*all_rows*/, std::vector<target_check>& /*out*/) const {}
};

/// Adds a scenario to the registry (see JOBROUTER_BENCH_SCENARIO).
void register_scenario(std::unique_ptr<scenario> s);
/// Every registered scenario, by order().
std::vector<const scenario*> registered_scenarios();

template <class S>
struct scenario_registrar {
    scenario_registrar() { register_scenario(std::make_unique<S>()); }
};

// Registers scenario class `S` at start-up. The bench's sources are compiled straight into the
// executable (not a static library), so the linker keeps these registrars.
#define JOBROUTER_BENCH_SCENARIO(S) \
    static const ::jobrouter::bench::scenario_registrar<S> jobrouter_bench_registrar_##S {}

}  // namespace jobrouter::bench
