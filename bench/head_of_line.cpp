// head-of-line: the highest-ranked half of the queue needs a job type no worker offers
// (orphans, priority 100; every other initial job and every refill is a normal job). The
// index skips the orphans' buckets without looking at them; EMP's window of max_scan jobs
// sees only orphans. Both run here, on the same jobs and workers, and both are drained after
// the timed runs to count the matching jobs they never reach.
#include "bench/claim_bench.hpp"
#include "bench/emp_scan.hpp"
#include "bench/scenario.hpp"

#include <limits>

namespace jobrouter::bench {

namespace {

double ratio(double a, double b) {
    if (b > 0) return a / b;
    return a > 0 ? std::numeric_limits<double>::infinity() : NAN;
}

class head_of_line final : public scenario {
public:
    std::string_view name() const override { return "head-of-line"; }
    std::string_view description() const override {
        return "--jobs pending, the top half orphans no worker can take; index vs emp-scan on the same data; "
               "op = claim attempt (+ complete); matched_per_s = jobs handed out per second; unreached = matching "
               "jobs still pending once claims find nothing more";
    }
    int order() const override { return 30; }

    std::vector<bench_row> run(const bench_context& ctx) const override {
        const bench_config& cfg = ctx.config;
        const workload w(workload_options_of(cfg));
        const std::size_t max_scan = cfg.max_scan;
        auto make_emp = [max_scan](const store_context& sc) { return make_emp_scan_store(sc, max_scan); };
        claim_outcome emp = run_claim_workload(ctx, w, cfg.strategy, make_emp,
                                               {std::string(kEmpRow), cfg.jobs, true, true});
        std::vector<bench_row> rows;
        for (const store_entry* s : ctx.stores) {
            claim_outcome index = run_claim_workload(ctx, w, cfg.strategy, s->make, {"head-of-line", cfg.jobs, true, true});
            index.row.metrics.push_back({"unreached", static_cast<double>(index.unreached)});
            index.row.metrics.push_back({"vs_emp", ratio(index.result.matched_per_s, emp.result.matched_per_s)});
            index.row.metrics.push_back({"attempts_vs_emp", ratio(index.result.ops_per_s, emp.result.ops_per_s)});
            rows.push_back(std::move(index.row));
        }
        emp.row.metrics.push_back({"unreached", static_cast<double>(emp.unreached)});
        emp.row.metrics.push_back({"max_scan", static_cast<double>(max_scan)});
        rows.push_back(std::move(emp.row));
        return rows;
    }

    void add_checks(std::span<const bench_row> rows, std::vector<target_check>& out) const override {
        for (const bench_row& r : rows) {
            if (r.scenario != "head-of-line") continue;
            out.push_back({"head-of-line matched claims/s vs emp-scan (" + r.store + ")", r.get("vs_emp"), 100});
            out.push_back({"head-of-line claim attempts/s vs emp-scan (" + r.store + ", info)", r.get("attempts_vs_emp"), NAN});
            out.push_back({"head-of-line matching jobs unreached (" + r.store + ")", r.get("unreached"), 0, false});
        }
        for (const bench_row& r : rows)
            if (r.scenario == kEmpRow)
                out.push_back({"head-of-line matching jobs unreached by emp-scan (info)", r.get("unreached"), NAN});
    }

private:
    static constexpr std::string_view kEmpRow = "head-of-line/emp-scan";
};

JOBROUTER_BENCH_SCENARIO(head_of_line);

}  // namespace

}  // namespace jobrouter::bench
