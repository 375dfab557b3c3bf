// head-of-line/redis-emp-scan: the head-of-line workload (head_of_line.cpp: the top half of the
// queue orphans nobody can take) run in Redis with EMP's algorithm in Lua (jobrouter_emp_claim)
// over the same keys. The head-of-line scenario's `redis` row is the index in Redis on the same
// data; the check below divides the two, so the comparison is Lua against Lua, one round trip
// per claim each. Runs only when the `redis` store is selected (runs_on).
#include "bench/claim_bench.hpp"
#include "bench/redis_bench_store.hpp"
#include "bench/scenario.hpp"

#include <algorithm>
#include <limits>

namespace jobrouter::bench {

namespace {

class redis_head_of_line final : public scenario {
public:
    std::string_view name() const override { return "head-of-line-redis-emp-scan"; }
    std::string_view description() const override {
        return "head-of-line's workload in Redis with EMP's scan in Lua (top max_scan of jobs:pending, first fit); "
               "compare with head-of-line's redis row; op = claim attempt (+ complete)";
    }
    int order() const override { return 31; }
    bool runs_on(std::string_view store) const override { return store == "redis"; }

    std::vector<bench_row> run(const bench_context& ctx) const override {
        const bench_config& cfg = ctx.config;
        const workload w(workload_options_of(cfg));
        const std::size_t max_scan = cfg.max_scan;
        auto make = [max_scan](const store_context& sc) { return make_redis_emp_scan_store(sc, max_scan); };
        claim_outcome emp = run_claim_workload(ctx, w, cfg.strategy, make, {std::string(kRow), cfg.jobs, true, true});
        emp.row.metrics.push_back({"unreached", static_cast<double>(emp.unreached)});
        emp.row.metrics.push_back({"max_scan", static_cast<double>(max_scan)});
        return {emp.row};
    }

    void add_checks(std::span<const bench_row> rows, std::vector<target_check>& out) const override {
        const bench_row *emp = nullptr, *index = nullptr;
        for (const bench_row& r : rows) {
            if (r.scenario == kRow) emp = &r;
            if (r.scenario == "head-of-line" && r.store == "redis") index = &r;
        }
        if (!emp) return;
        out.push_back({"head-of-line matching jobs unreached by emp-scan in Redis (info)", emp->get("unreached"), NAN});
        if (!index) return;
        // EMP's scan usually hands out nothing here: the ratio is then infinite, as in head-of-line.
        const double idx = index->get("matched_per_s"), emp_rate = emp->get("matched_per_s");
        const double ratio = emp_rate > 0 ? idx / emp_rate : (idx > 0 ? std::numeric_limits<double>::infinity() : NAN);
        out.push_back({"head-of-line matched claims/s, index vs emp-scan, both in Redis", ratio, 100});
    }

private:
    static constexpr std::string_view kRow = "head-of-line/redis-emp-scan";
};

JOBROUTER_BENCH_SCENARIO(redis_head_of_line);

}  // namespace

}  // namespace jobrouter::bench
