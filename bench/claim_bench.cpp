#include "bench/claim_bench.hpp"

#include "strategies/strategy_registry.hpp"

#include <cmath>
#include <stdexcept>

namespace jobrouter::bench {

namespace {

constexpr time_ms kStart = 1'700'000'000'000;  // 2023-11-14: any time after 2020 works

double seconds_since(bench_clock::time_point t) {
    return std::chrono::duration<double>(bench_clock::now() - t).count();
}

}  // namespace

workload_options workload_options_of(const bench_config& c) {
    return {c.types, c.signatures, c.types_per_worker, c.payload_bytes, c.seed};
}

claim_outcome run_claim_workload(const bench_context& ctx, const workload& w, std::string_view strategy_name,
                                 const store_factory& make_store, const claim_workload& cw) {
    const bench_config& cfg = ctx.config;
    auto strat = make_strategy(strategy_name);
    if (!strat) throw std::invalid_argument(strat.error().text());
    // Earlier rows' freed memory goes back to the OS, so this row's rss is its own data.
    release_free_memory();
    std::unique_ptr<bench_store> store = make_store({ctx.mapping, **strat});

    const auto setup = bench_clock::now();
    const std::vector<worker_capabilities> workers = w.workers(cfg.workers, ctx.mapping);
    std::vector<std::string> worker_ids;
    for (const worker_capabilities& caps : workers) {
        worker_ids.push_back(caps.worker_id);
        store->register_worker(caps);
    }
    job_feed feed(*store, kStart);
    const job_maker normal = [&w](std::uint64_t k) { return w.job(k); };
    const job_maker initial = [&w, &cw](std::uint64_t k) {
        return w.job(k, cw.half_orphans && k % 2 == 0 ? job_kind::orphan : job_kind::normal);
    };
    feed.submit(cw.backlog, initial);
    ctx.log << "  " << cw.row_name << " [" << strategy_name << ", " << store->name() << "]: " << cw.backlog
            << " jobs, " << workers.size() << " workers loaded in " << seconds_since(setup) << " s\n";

    claim_outcome out;
    const auto timed = bench_clock::now();
    out.result = run_claims(*store, feed, normal, worker_ids, {cfg.warmup, cfg.runs, cfg.ops, cw.backlog, cfg.in_flight});
    ctx.log << "    claims: " << seconds_since(timed) << " s\n";

    bench_row& row = out.row;
    row.scenario = cw.row_name;
    row.strategy = std::string(strategy_name);
    row.store = std::string(store->name());
    row.ops_per_s = out.result.ops_per_s;
    row.p50_us = out.result.p50_us;
    row.p99_us = out.result.p99_us;
    row.rss_bytes = resident_bytes();
    row.metrics.push_back({"backlog", static_cast<double>(cw.backlog)});
    row.metrics.push_back({"matched_pct", out.result.attempts ? 100.0 * static_cast<double>(out.result.matched) /
                                                                     static_cast<double>(out.result.attempts)
                                                               : 0.0});
    row.metrics.push_back({"matched_per_s", out.result.matched_per_s});
    row.metrics.push_back({"ops_per_cpu_s", out.result.ops_per_cpu_s});
    if (!std::isnan(out.result.ops_per_server_cpu_s)) {
        row.metrics.push_back({"ops_per_server_cpu_s", out.result.ops_per_server_cpu_s});
        row.metrics.push_back({"server_cpu_us_per_op", 1e6 / out.result.ops_per_server_cpu_s});
    }
    if (cfg.in_flight > 1) row.metrics.push_back({"in_flight", static_cast<double>(cfg.in_flight)});
    if (cw.count_unreached) {
        const auto t = bench_clock::now();
        out.drained = drain(*store, worker_ids);
        out.unreached = count_matchable_pending(*store, workers, **strat);
        ctx.log << "    drain: " << out.drained << " claimed, " << out.unreached << " matching left, "
                << seconds_since(t) << " s\n";
    }
    return out;
}

}  // namespace jobrouter::bench
