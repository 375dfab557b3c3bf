// The index's claim scenarios: claim-steady, claim-backlog-scaling, strategies. One op is a
// claim followed, when it found a job, by that job's complete (measure.hpp); p50/p99 time the
// claim call alone.
#include "bench/claim_bench.hpp"
#include "bench/scenario.hpp"

#include "strategies/strategy_registry.hpp"

#include <cmath>
#include <string>

namespace jobrouter::bench {

namespace {

// The goal for the Redis store: claims (+ completes) per second through the library.
constexpr double kRedisClaimsGoal = 10'000;

// ", 16 in flight" when the row's claims were pipelined (bench --in-flight).
std::string in_flight_note(const bench_row& r) {
    const double n = r.get("in_flight");
    return std::isnan(n) ? std::string() : ", " + std::to_string(static_cast<long long>(n)) + " in flight";
}

class claim_steady final : public scenario {
public:
    std::string_view name() const override { return "claim-steady"; }
    std::string_view description() const override {
        return "--jobs pending (100 types x 8 requirement signatures), --workers workers claiming and completing, "
               "backlog refilled; op = claim + complete";
    }
    int order() const override { return 10; }

    std::vector<bench_row> run(const bench_context& ctx) const override {
        const workload w(workload_options_of(ctx.config));
        std::vector<bench_row> rows;
        for (const store_entry* s : ctx.stores)
            rows.push_back(run_claim_workload(ctx, w, ctx.config.strategy, s->make,
                                              {"claim-steady", ctx.config.jobs, false, false})
                               .row);
        return rows;
    }

    void add_checks(std::span<const bench_row> rows, std::vector<target_check>& out) const override {
        for (const bench_row& r : rows)
            if (r.scenario == "claim-steady") {
                if (r.store == "memory") out.push_back({"claim-steady claims/s (memory, one core)", r.ops_per_s, 1'000'000});
                else out.push_back({"claim-steady claims/s (" + r.store + in_flight_note(r) + ")", r.ops_per_s, kRedisClaimsGoal});
                out.push_back({"claim-steady claims per CPU-second (" + r.store + ", info)", r.get("ops_per_cpu_s"), NAN});
            }
    }
};

class claim_backlog_scaling final : public scenario {
public:
    std::string_view name() const override { return "claim-backlog-scaling"; }
    std::string_view description() const override {
        return "claim-steady at each backlog of --backlogs (default 1k 10k 100k 1M), under each strategy (the "
               "plot's lines); the last row of each gives the ratio largest/smallest; op = claim + complete";
    }
    int order() const override { return 20; }

    std::vector<bench_row> run(const bench_context& ctx) const override {
        const workload w(workload_options_of(ctx.config));
        std::vector<bench_row> rows;
        for (const store_entry* s : ctx.stores)
            for (const std::string& strategy_name : strategy_names()) {
                std::vector<bench_row> mine;
                for (std::size_t backlog : ctx.config.backlogs)
                    mine.push_back(run_claim_workload(ctx, w, strategy_name, s->make,
                                                      {prefix + short_count(backlog), backlog, false, false})
                                       .row);
                if (mine.size() >= 2) {
                    mine.back().metrics.push_back({"ratio", mine.back().ops_per_s / mine.front().ops_per_s});
                    // Per CPU-second of the store's server when it has one (Redis), else of the bench thread.
                    const char* cpu = std::isnan(mine.front().get("ops_per_server_cpu_s")) ? "ops_per_cpu_s"
                                                                                          : "ops_per_server_cpu_s";
                    mine.back().metrics.push_back({"cpu_ratio", mine.back().get(cpu) / mine.front().get(cpu)});
                }
                rows.insert(rows.end(), mine.begin(), mine.end());
            }
        return rows;
    }

    void add_checks(std::span<const bench_row> rows, std::vector<target_check>& out) const override {
        std::string first;
        for (const bench_row& r : rows) {
            if (r.scenario.rfind(prefix, 0) != 0) continue;
            if (first.empty()) first = r.scenario.substr(prefix.size());
            if (double ratio = r.get("ratio"); !std::isnan(ratio)) {
                const std::string what = "claim-backlog-scaling " + r.scenario.substr(prefix.size()) + "/" + first;
                out.push_back({what + " (" + r.strategy + ", " + r.store + ")", ratio, 0.5});
                out.push_back({what + " per CPU-second (" + r.strategy + ", " + r.store + ", info)", r.get("cpu_ratio"), NAN});
            }
            // The Redis store's goal, at each backlog it ran (the claim-steady row may be skipped).
            if (r.store != "memory") {
                const std::string row = r.scenario + " ", what = " (" + r.strategy + ", " + r.store + in_flight_note(r);
                out.push_back({row + "claims/s" + what + ")", r.ops_per_s, kRedisClaimsGoal});
                out.push_back({row + "claims per server CPU-second" + what + ", info)", r.get("ops_per_server_cpu_s"), NAN});
            }
        }
    }

private:
    inline static const std::string prefix = "claim-backlog-scaling/";
};

class strategies final : public scenario {
public:
    std::string_view name() const override { return "strategies"; }
    std::string_view description() const override {
        return "the claim-steady workload under each strategy (workers send services = job types, as EMP's do, "
               "so both see the same keys); op = claim + complete";
    }
    int order() const override { return 40; }

    std::vector<bench_row> run(const bench_context& ctx) const override {
        const workload w(workload_options_of(ctx.config));
        std::vector<bench_row> rows;
        for (const store_entry* s : ctx.stores)
            for (const std::string& strategy_name : strategy_names())
                rows.push_back(run_claim_workload(ctx, w, strategy_name, s->make,
                                                  {"strategies", ctx.config.jobs, false, false})
                                   .row);
        return rows;
    }
};

JOBROUTER_BENCH_SCENARIO(claim_steady);
JOBROUTER_BENCH_SCENARIO(claim_backlog_scaling);
JOBROUTER_BENCH_SCENARIO(strategies);

}  // namespace

}  // namespace jobrouter::bench
