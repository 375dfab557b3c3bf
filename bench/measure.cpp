#include "bench/measure.hpp"

#include "core/matcher.hpp"

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <unordered_map>
#include <utility>

namespace jobrouter::bench {

namespace {

// One claim in kSampleEvery is timed on its own. A steady_clock read costs ~35 ns here (vDSO),
// so timing every claim would add ~70 ns to a ~1 us op; sampling 1 in 8 keeps the added cost
// near 1% of the batch time (which is what ops/s is computed from) and still gives 25,000
// samples per 200,000-claim run for the percentiles.
constexpr std::size_t kSampleEvery = 8;
constexpr std::size_t kMaxBatch = 10'000;

}  // namespace

std::chrono::nanoseconds thread_cpu_time() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

std::size_t resident_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmRSS:  123 kB"
    return 0;
}

std::size_t heap_bytes() {
    const struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

void release_free_memory() { malloc_trim(0); }

double latency_samples::percentile_us(double p) {
    if (ns_.empty()) return NAN;
    const std::size_t rank = std::min(ns_.size() - 1, static_cast<std::size_t>(std::ceil(p / 100.0 * ns_.size())) - (p > 0 ? 1 : 0));
    std::nth_element(ns_.begin(), ns_.begin() + static_cast<std::ptrdiff_t>(rank), ns_.end());
    return static_cast<double>(ns_[rank]) / 1000.0;
}

double median(std::vector<double> v) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

job_feed::job_feed(bench_store& store, time_ms start) : store_(store), now_(start) { store_.advance(now_); }

void job_feed::submit(std::size_t n, const job_maker& make) {
    for (std::size_t i = 0; i < n; ++i) {
        store_.submit(make(next_++));
        if (next_ % 1000 == 0) tick();
    }
}

void job_feed::tick() { store_.advance(++now_); }

claim_result run_claims(bench_store& store, job_feed& feed, const job_maker& refill,
                        std::span<const std::string> worker_ids, const run_plan& plan) {
    const std::size_t batch_size = std::clamp<std::size_t>(plan.backlog / 10, 1, kMaxBatch);
    claim_result out;
    latency_samples latency;
    std::vector<double> run_ops, run_matched, run_cpu_ops, run_server_ops;
    std::size_t cursor = 0;
    std::vector<std::string> claimed, to_complete;
    // In flight together: up to plan.in_flight consecutive workers (never one twice, never
    // wrapping around the worker list); each group's claims are timed as one sample.
    auto claim_group = [&](std::size_t most) {
        const std::size_t k = std::min({plan.in_flight, most, worker_ids.size() - cursor});
        const auto t0 = bench_clock::now();
        store.claim_each(worker_ids.subspan(cursor, k), claimed);
        latency.add(bench_clock::now() - t0);
        cursor = (cursor + k) % worker_ids.size();
        to_complete.clear();
        for (std::string& id : claimed)
            if (!id.empty()) to_complete.push_back(std::move(id));
        store.complete_each(to_complete);
        return std::pair{k, to_complete.size()};
    };

    for (std::size_t run = 0; run < plan.warmup + plan.runs; ++run) {
        const bool timed = run >= plan.warmup;
        bench_clock::duration elapsed{};
        std::chrono::nanoseconds cpu{};
        double server_cpu = 0;
        bool server_measured = true;
        std::size_t matched = 0;
        for (std::size_t done = 0; done < plan.ops;) {
            const std::size_t n = std::min(batch_size, plan.ops - done);
            std::size_t batch_matched = 0;
            const std::optional<double> server_start = store.server_cpu_seconds();
            const auto cpu_start = thread_cpu_time();
            const auto start = bench_clock::now();
            for (std::size_t i = 0; plan.in_flight > 1 && i < n;) {
                const auto [k, m] = claim_group(n - i);
                i += k;
                batch_matched += m;
            }
            for (std::size_t i = 0; plan.in_flight <= 1 && i < n; ++i) {
                const std::string& w = worker_ids[cursor];
                if (++cursor == worker_ids.size()) cursor = 0;
                std::string_view id;
                if ((done + i) % kSampleEvery == 0) {
                    const auto t0 = bench_clock::now();
                    id = store.claim(w);
                    latency.add(bench_clock::now() - t0);
                } else {
                    id = store.claim(w);
                }
                if (!id.empty()) {
                    store.complete(id);
                    ++batch_matched;
                }
            }
            elapsed += bench_clock::now() - start;
            cpu += thread_cpu_time() - cpu_start;
            const std::optional<double> server_end = store.server_cpu_seconds();
            if (server_start && server_end) server_cpu += *server_end - *server_start;
            else server_measured = false;
            done += n;
            matched += batch_matched;
            feed.submit(batch_matched, refill);
            feed.tick();
        }
        if (!timed) {
            latency = {};  // the warm-up's samples do not count
            continue;
        }
        const double seconds = std::chrono::duration<double>(elapsed).count();
        run_ops.push_back(static_cast<double>(plan.ops) / seconds);
        run_matched.push_back(static_cast<double>(matched) / seconds);
        run_cpu_ops.push_back(static_cast<double>(plan.ops) / std::chrono::duration<double>(cpu).count());
        if (server_measured && server_cpu > 0) run_server_ops.push_back(static_cast<double>(plan.ops) / server_cpu);
        out.attempts += plan.ops;
        out.matched += matched;
    }
    out.ops_per_s = median(run_ops);
    out.matched_per_s = median(run_matched);
    out.ops_per_cpu_s = median(run_cpu_ops);
    if (!run_server_ops.empty()) out.ops_per_server_cpu_s = median(run_server_ops);
    out.p50_us = latency.percentile_us(50);
    out.p99_us = latency.percentile_us(99);
    return out;
}

std::size_t drain(bench_store& store, std::span<const std::string> worker_ids) {
    std::size_t claimed = 0;
    for (bool progress = true; progress;) {
        progress = false;
        for (const std::string& w : worker_ids) {
            std::string_view id = store.claim(w);
            if (id.empty()) continue;
            store.complete(id);
            ++claimed;
            progress = true;
        }
    }
    return claimed;
}

std::size_t count_matchable_pending(const bench_store& store, std::span<const worker_capabilities> workers,
                                    const strategy& strat) {
    // Classes are interned by both stores, so the answer is computed once per class.
    std::unordered_map<const job_class*, bool> matchable;
    std::size_t count = 0;
    store.for_each_pending([&](const job_class& c) {
        auto [it, fresh] = matchable.try_emplace(&c, false);
        if (fresh)
            it->second = std::any_of(workers.begin(), workers.end(), [&](const worker_capabilities& w) {
                return !find_rejection(c, w, strat.offered_keys(w), false);
            });
        if (it->second) ++count;
    });
    return count;
}

std::string short_count(std::size_t n) {
    if (n >= 1'000'000 && n % 1'000'000 == 0) return std::to_string(n / 1'000'000) + "M";
    if (n >= 1'000 && n % 1'000 == 0) return std::to_string(n / 1'000) + "k";
    return std::to_string(n);
}

}  // namespace jobrouter::bench
