// Submission scenarios: submit (job_spec built by the caller, and from JSON through
// parse_job_spec) and memory (bytes per pending job). One op is one submission; specs are
// built outside the timed region in chunks, so the timing covers what the scheduler does.
#include "bench/claim_bench.hpp"
#include "bench/measure.hpp"
#include "bench/scenario.hpp"

#include "strategies/strategy_registry.hpp"

#include <stdexcept>

namespace jobrouter::bench {

namespace {

constexpr std::size_t kChunk = 10'000;
constexpr std::size_t kSampleEvery = 8;  // as in measure.cpp: a clock read costs ~35 ns
constexpr time_ms kStart = 1'700'000'000'000;

struct submit_time {
    bench_clock::duration wall{};
    std::chrono::nanoseconds cpu{};

    double ops_per_s(std::size_t n) const { return static_cast<double>(n) / std::chrono::duration<double>(wall).count(); }
    double ops_per_cpu_s(std::size_t n) const { return static_cast<double>(n) / std::chrono::duration<double>(cpu).count(); }
};

// Submits jobs 0..n-1 to `store`, timing only the submissions (and the parse, with_parse).
submit_time timed_submit(bench_store& store, const workload& w, std::size_t n, bool with_parse,
                         latency_samples& latency) {
    submit_time elapsed;
    time_ms now = kStart;
    store.advance(now);
    std::vector<job_spec> specs;
    std::vector<json::value> docs;
    for (std::size_t base = 0; base < n; base += kChunk) {
        const std::size_t m = std::min(kChunk, n - base);
        specs.clear();
        docs.clear();
        for (std::size_t i = 0; i < m; ++i) {
            if (with_parse) docs.push_back(w.job_json(base + i));
            else specs.push_back(w.job(base + i));
        }
        const auto cpu_start = thread_cpu_time();
        const auto start = bench_clock::now();
        for (std::size_t i = 0; i < m; ++i) {
            const bool sampled = (base + i) % kSampleEvery == 0;
            const auto t0 = sampled ? bench_clock::now() : bench_clock::time_point{};
            if (with_parse) {
                auto spec = parse_job_spec(docs[i]);
                if (!spec) throw std::runtime_error(spec.error().text());
                store.submit(std::move(*spec));
            } else {
                store.submit(std::move(specs[i]));
            }
            if (sampled) latency.add(bench_clock::now() - t0);
            if ((base + i + 1) % 1000 == 0) store.advance(++now);
        }
        elapsed.wall += bench_clock::now() - start;
        elapsed.cpu += thread_cpu_time() - cpu_start;
    }
    return elapsed;
}

std::unique_ptr<strategy> strategy_of(const bench_config& cfg) {
    auto s = make_strategy(cfg.strategy);
    if (!s) throw std::invalid_argument(s.error().text());
    return std::move(*s);
}

class submit final : public scenario {
public:
    std::string_view name() const override { return "submit"; }
    std::string_view description() const override {
        return "--ops submissions per run into a fresh store (submit: job_spec built by the caller; submit/parse: "
               "from the JSON object via parse_job_spec); op = one submission";
    }
    int order() const override { return 50; }

    std::vector<bench_row> run(const bench_context& ctx) const override {
        const bench_config& cfg = ctx.config;
        const workload w(workload_options_of(cfg));
        const auto strat = strategy_of(cfg);
        std::vector<bench_row> rows;
        for (const store_entry* s : ctx.stores) {
            for (bool with_parse : {false, true}) {
                latency_samples latency;
                std::vector<double> run_ops, run_cpu_ops;
                std::size_t rss = 0;
                for (std::size_t run = 0; run < cfg.warmup + cfg.runs; ++run) {
                    release_free_memory();
                    auto store = s->make({ctx.mapping, *strat});
                    latency_samples run_latency;
                    const submit_time t = timed_submit(*store, w, cfg.ops, with_parse, run_latency);
                    if (run < cfg.warmup) continue;
                    run_ops.push_back(t.ops_per_s(cfg.ops));
                    run_cpu_ops.push_back(t.ops_per_cpu_s(cfg.ops));
                    latency.merge(run_latency);
                    rss = resident_bytes();
                }
                bench_row row;
                row.scenario = with_parse ? "submit/parse" : "submit";
                row.strategy = cfg.strategy;
                row.store = s->name;
                row.ops_per_s = median(run_ops);
                row.p50_us = latency.percentile_us(50);
                row.p99_us = latency.percentile_us(99);
                row.rss_bytes = rss;
                row.metrics.push_back({"jobs", static_cast<double>(cfg.ops)});
                row.metrics.push_back({"ops_per_cpu_s", median(run_cpu_ops)});
                ctx.log << "  " << row.scenario << " [" << s->name << "]: " << row.ops_per_s << " submits/s\n";
                rows.push_back(std::move(row));
            }
        }
        return rows;
    }
};

class memory final : public scenario {
public:
    std::string_view name() const override { return "memory"; }
    std::string_view description() const override {
        return "RSS growth / jobs after submitting --jobs jobs with a --payload-bytes payload into a fresh store; "
               "op = one submission (ops/s is the load rate)";
    }
    int order() const override { return 70; }

    std::vector<bench_row> run(const bench_context& ctx) const override {
        const bench_config& cfg = ctx.config;
        const workload w(workload_options_of(cfg));
        const auto strat = strategy_of(cfg);
        std::vector<bench_row> rows;
        for (const store_entry* s : ctx.stores) {
            release_free_memory();  // what earlier scenarios freed must not be reused unseen
            const std::size_t rss0 = resident_bytes(), heap0 = heap_bytes();
            auto store = s->make({ctx.mapping, *strat});
            const auto outside0 = store->external_bytes();
            latency_samples latency;
            const submit_time t = timed_submit(*store, w, cfg.jobs, false, latency);
            release_free_memory();  // the last chunk of specs is free again
            const std::size_t rss1 = resident_bytes(), heap1 = heap_bytes();
            const auto outside1 = store->external_bytes();
            const double jobs = static_cast<double>(cfg.jobs);
            // A store whose data lives elsewhere (Redis) is measured there, not in this process.
            const double per_job = outside0 && outside1
                                       ? (static_cast<double>(*outside1) - static_cast<double>(*outside0)) / jobs
                                       : (static_cast<double>(rss1) - static_cast<double>(rss0)) / jobs;

            bench_row row;
            row.scenario = "memory";
            row.strategy = cfg.strategy;
            row.store = s->name;
            row.ops_per_s = t.ops_per_s(cfg.jobs);
            row.p50_us = latency.percentile_us(50);
            row.p99_us = latency.percentile_us(99);
            row.rss_bytes = rss1;
            row.metrics.push_back({"jobs", jobs});
            row.metrics.push_back({"payload_bytes", static_cast<double>(cfg.payload_bytes)});
            row.metrics.push_back({"bytes_per_job", per_job});
            row.metrics.push_back({"beyond_payload", per_job - static_cast<double>(cfg.payload_bytes)});
            row.metrics.push_back(
                {"heap_per_job", (static_cast<double>(heap1) - static_cast<double>(heap0)) / jobs});
            row.metrics.push_back({"ops_per_cpu_s", t.ops_per_cpu_s(cfg.jobs)});
            ctx.log << "  memory [" << s->name << "]: " << per_job << " bytes/job\n";
            rows.push_back(std::move(row));
        }
        return rows;
    }

    void add_checks(std::span<const bench_row> rows, std::vector<target_check>& out) const override {
        for (const bench_row& r : rows)
            if (r.scenario == "memory")
                out.push_back({"bytes per pending job beyond its payload (" + r.store + ")", r.get("beyond_payload"), 300,
                               false});
    }
};

JOBROUTER_BENCH_SCENARIO(submit);
JOBROUTER_BENCH_SCENARIO(memory);

}  // namespace

}  // namespace jobrouter::bench
