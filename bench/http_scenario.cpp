// The http scenario: submissions/s and submit-to-assign latency through serve's HTTP API on
// loopback. An in-process server (inprocess_server.hpp, no in-process workers) runs on a
// thread of its own; the bench thread runs the client (http_load.hpp): --http-clients
// keep-alive connections submitting, --http-workers external workers long-polling the claim
// route and completing what they get. One op is one submission (POST /api/jobs, 201); p50/p99
// are submit-to-assign: from the moment a job's submit is sent to the arrival of the claim
// reply that carries it at a worker. Both threads share the machine's cores, so the
// per-CPU-second metrics say what each side costs.
#include "bench/http_load.hpp"
#include "bench/inprocess_server.hpp"
#include "bench/measure.hpp"
#include "bench/scenario.hpp"

#include "redis/local_server.hpp"
#include "strategies/strategy_registry.hpp"

#include <stdexcept>

namespace jobrouter::bench {

namespace {

// The stores serve runs on: memory, and redis (serve --store redis://..., on a private
// redis-server started for the row).
bool serve_store(std::string_view store) { return store == "memory" || store == "redis"; }

double per_job_us(std::chrono::nanoseconds cpu, std::size_t jobs) {
    return std::chrono::duration<double, std::micro>(cpu).count() / static_cast<double>(jobs);
}

class http_api final : public scenario {
public:
    std::string_view name() const override { return "http"; }
    std::string_view description() const override {
        return "serve in process on loopback, --http-clients connections submitting, --http-workers long-polling "
               "workers completing; op = one submission (POST /api/jobs); p50/p99 = submit-to-assign (submit sent "
               "-> claim reply at a worker); memory and redis stores";
    }
    int order() const override { return 60; }
    bool runs_on(std::string_view store) const override { return serve_store(store); }

    std::vector<bench_row> run(const bench_context& ctx) const override {
        std::vector<bench_row> rows;
        for (const store_entry* s : ctx.stores)
            if (runs_on(s->name)) rows.push_back(run_one(ctx, std::string(s->name)));
        return rows;
    }

    void add_checks(std::span<const bench_row> rows, std::vector<target_check>& out) const override {
        for (const bench_row& r : rows) {
            if (r.scenario != "http") continue;
            out.push_back({"http submissions/s (" + r.store + ")", r.ops_per_s, 20'000});
            out.push_back({"http p99 submit-to-assign us (" + r.store + ")", r.p99_us, 2'000, false});
            out.push_back({"http submissions per server CPU-second (" + r.store + ", info)",
                           r.get("submits_per_server_cpu_s"), NAN});
        }
    }

private:
    bench_row run_one(const bench_context& ctx, const std::string& store) const {
        const bench_config& cfg = ctx.config;
        auto strat = make_strategy(cfg.strategy);
        if (!strat) throw std::invalid_argument(strat.error().text());
        release_free_memory();

        std::unique_ptr<redis::local_server> redis_server;
        if (store == "redis") {
            auto started = redis::local_server::start();
            if (!started) throw std::runtime_error("http [redis]: " + started.error().text());
            redis_server = std::move(*started);
        }
        inprocess_server srv(ctx.mapping, **strat, redis_server ? redis_server->url(0) : std::string());
        http_load_options o;
        o.server = srv.endpoint();
        o.submitters = cfg.http_clients;
        o.workers = cfg.http_workers;
        o.payload_bytes = cfg.payload_bytes;
        o.window = std::max<std::size_t>(256, 4 * cfg.http_workers);
        http_load load(o);
        ctx.log << "  http [" << cfg.strategy << ", " << store << "]: server on " << o.server << ", "
                << o.submitters << " submitting connections, " << o.workers << " workers\n";

        // A run may take its time on a busy machine, but not forever: 60 s plus 2 ms a job.
        const auto deadline = std::chrono::milliseconds(60'000 + 2 * cfg.http_jobs);
        std::vector<double> submits_per_s, completed_per_s;
        latency_samples to_assign, rtt;
        std::size_t window_waits = 0, empty_claims = 0;
        std::chrono::nanoseconds server_cpu{}, client_cpu{};
        for (std::size_t run = 0; run < cfg.warmup + cfg.runs; ++run) {
            const auto server0 = srv.cpu_time();
            const auto client0 = thread_cpu_time();
            http_run_stats st = load.run(cfg.http_jobs, deadline);
            const auto server1 = srv.cpu_time();
            const auto client1 = thread_cpu_time();
            const double jobs = static_cast<double>(st.jobs);
            ctx.log << "    run " << run + 1 << (run < cfg.warmup ? " (warm-up)" : "") << ": " << jobs / st.submit_seconds
                    << " submits/s, p99 submit-to-assign " << st.submit_to_assign.percentile_us(99) << " us\n";
            if (run < cfg.warmup) continue;
            submits_per_s.push_back(jobs / st.submit_seconds);
            completed_per_s.push_back(jobs / st.total_seconds);
            to_assign.merge(st.submit_to_assign);
            rtt.merge(st.submit_rtt);
            window_waits += st.window_waits;
            empty_claims += st.empty_claims;
            server_cpu += server1 - server0;
            client_cpu += client1 - client0;
        }

        const std::size_t timed_jobs = cfg.runs * cfg.http_jobs;
        bench_row row;
        row.scenario = "http";
        row.strategy = cfg.strategy;
        row.store = store;
        row.ops_per_s = median(submits_per_s);
        row.p50_us = to_assign.percentile_us(50);
        row.p99_us = to_assign.percentile_us(99);
        row.rss_bytes = resident_bytes();
        const double server_us = per_job_us(server_cpu, timed_jobs);
        row.metrics = {{"jobs", static_cast<double>(cfg.http_jobs)},
                       {"clients", static_cast<double>(cfg.http_clients)},
                       {"workers", static_cast<double>(cfg.http_workers)},
                       {"completed_per_s", median(completed_per_s)},
                       {"submit_rtt_p50_us", rtt.percentile_us(50)},
                       {"submit_rtt_p99_us", rtt.percentile_us(99)},
                       {"server_cpu_us_per_job", server_us},
                       {"submits_per_server_cpu_s", 1e6 / server_us},
                       {"client_cpu_us_per_job", per_job_us(client_cpu, timed_jobs)},
                       {"window_waits", static_cast<double>(window_waits)},
                       {"empty_claims", static_cast<double>(empty_claims)}};
        return row;
    }
};

JOBROUTER_BENCH_SCENARIO(http_api);

}  // namespace

}  // namespace jobrouter::bench
