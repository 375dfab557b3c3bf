// jobrouter-soak: drives a running `jobrouter serve` (external workers only) with mixed load and
// random faults for a bounded time, then lets the queue drain and checks that nothing was lost
// and every count reconciles. scripts/soak.sh builds it, starts serve and runs it; see
// actors.hpp for the clients and the checks below for what must hold. Exit 0 only when every
// check passes, 1 when one fails, 2 for bad options or a server it cannot reach.
#include "app/http_client.hpp"
#include "bench/soak/actors.hpp"
#include "bench/soak/event_log.hpp"
#include "bench/soak/soak_tally.hpp"

#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace jobrouter;
using namespace jobrouter::soak;
using namespace std::chrono_literals;
namespace po = boost::program_options;

namespace {

// Jobs that serve says its workers hold but that no driver worker received from a claim: jobs
// handed to claims whose client hung up and not (yet) handed back. -1 when /api/workers fails.
long held_unseen(http_client& control, jobrouter::soak::tally& record, std::string& listing) {
    auto r = control.get("/api/workers");
    if (!r || r->status != 200) return -1;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(r->body, ec);
    if (ec || !v.is_object() || !v.get_object().contains("workers") || !v.at("workers").is_array()) return -1;
    long n = 0;
    for (const auto& w : v.at("workers").get_array()) {
        const auto* jobs = w.is_object() ? w.get_object().if_contains("jobs") : nullptr;
        if (!jobs || !jobs->is_array()) continue;
        for (const auto& j : jobs->get_array()) {
            if (!j.is_string() || record.holds(std::string(j.get_string()))) continue;
            ++n;
            if (listing.size() < 400) listing += " " + std::string(j.get_string());
        }
    }
    return n;
}

struct options {
    soak_settings settings;
    int pid = 0;
    int seconds = 60;
    int submitters = 3, workers = 6, cancellers = 1, faults = 1;
    int sample_s = 5;
    int warmup_s = -1;  ///< -1: a quarter of the run, at least 10 s
    double rss_growth_pct = 10;
    double rss_growth_min_mib = 8;
    bool rss_check = true;  ///< false: print the samples, do not judge them
    int drain_s = 60;
};

// Resident set size of `pid` in KiB (VmRSS), 0 when it cannot be read.
long rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

// /metrics, each metric summed over its labels: {"jobrouter_jobs_running": 3, ...}.
std::map<std::string, double> read_metrics(http_client& c, std::string& error) {
    std::map<std::string, double> out;
    auto r = c.get("/metrics");
    if (!r || r->status != 200) {
        error = "GET /metrics: " + (r ? std::to_string(r->status) : r.error().text());
        return out;
    }
    std::istringstream in(r->body);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.rfind(' ');
        std::string name = line.substr(0, std::min(line.find('{'), space));
        out[name] += std::stod(line.substr(space + 1));
    }
    return out;
}

double median(std::vector<long> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2.0;
}

struct checker {
    int failed = 0;
    void check(bool ok, const std::string& what, const std::string& detail = {}) {
        std::printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", what.c_str(), detail.empty() ? "" : ": ", detail.c_str());
        if (!ok) ++failed;
    }
};

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    po::options_description d("jobrouter-soak options");
    d.add_options()("help,h", "show this help")
        ("host", po::value(&o.settings.host)->default_value(o.settings.host), "serve's address")
        ("port", po::value(&o.settings.port)->required(), "serve's port")
        ("pid", po::value(&o.pid)->required(), "serve's process id (its RSS is sampled)")
        ("seconds", po::value(&o.seconds)->default_value(o.seconds), "length of the load phase")
        ("submitters", po::value(&o.submitters)->default_value(o.submitters), "submitting clients")
        ("workers", po::value(&o.workers)->default_value(o.workers), "external workers (long-poll claims)")
        ("cancellers", po::value(&o.cancellers)->default_value(o.cancellers), "clients cancelling random recent jobs")
        ("faults", po::value(&o.faults)->default_value(o.faults), "clients sending malformed, oversized and non-HTTP requests")
        ("lease-ms", po::value(&o.settings.lease_ms)->default_value(o.settings.lease_ms), "serve's --lease-ms")
        ("max-body-bytes", po::value(&o.settings.max_body_bytes)->default_value(o.settings.max_body_bytes), "serve's --max-body-bytes")
        ("window", po::value(&o.settings.window)->default_value(o.settings.window), "accepted but unfinished jobs before submitters pause")
        ("seed", po::value(&o.settings.seed)->default_value(o.settings.seed), "random seed of the clients")
        ("sample-s", po::value(&o.sample_s)->default_value(o.sample_s), "RSS sampling period")
        ("warmup-s", po::value(&o.warmup_s)->default_value(o.warmup_s), "RSS samples before this are warm-up (-1: a quarter of the run, at least 10 s)")
        ("rss-growth-pct", po::value(&o.rss_growth_pct)->default_value(o.rss_growth_pct), "allowed RSS growth after warm-up, percent ...")
        ("rss-growth-min-mib", po::value(&o.rss_growth_min_mib)->default_value(o.rss_growth_min_mib), "... but at least this many MiB")
        ("no-rss-check", "print the RSS samples but do not judge them (for runs shorter than serve's retention, or sanitized builds, where RSS still grows by design)")
        ("drain-s", po::value(&o.drain_s)->default_value(o.drain_s), "how long the queue may take to drain after the load");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, d), vm);
        if (vm.count("help")) {
            std::cout << d;
            return 0;
        }
        po::notify(vm);
        o.rss_check = vm.count("no-rss-check") == 0;
    } catch (const po::error& e) {
        std::cerr << "jobrouter-soak: " << e.what() << "\n";
        return 2;
    }
    if (o.seconds < 1 || o.sample_s < 1 || o.workers < 1 || o.submitters < 1) {
        std::cerr << "jobrouter-soak: --seconds, --sample-s, --workers and --submitters must be at least 1\n";
        return 2;
    }
    if (o.warmup_s < 0) o.warmup_s = std::max(10, o.seconds / 4);

    tally record;
    phase_flags phase;
    event_log events(o.settings.host, o.settings.port);
    if (!events.start()) {
        std::cerr << "jobrouter-soak: " << events.error() << "\n";
        return 2;
    }
    http_client control(o.settings.host, o.settings.port, 10s);
    std::string metrics_error;

    std::printf("soak: %d s of load on %s:%s (serve pid %d): %d submitters, %d workers, %d cancellers, %d fault clients, "
                "lease %lld ms, seed %llu\n",
                o.seconds, o.settings.host.c_str(), o.settings.port.c_str(), o.pid, o.submitters, o.workers, o.cancellers,
                o.faults, static_cast<long long>(o.settings.lease_ms), static_cast<unsigned long long>(o.settings.seed));
    const actor_context ctx{o.settings, record, events, phase};
    std::vector<std::thread> load, workers;
    for (int i = 0; i < o.submitters; ++i) load.emplace_back(run_submitter, ctx, i);
    for (int i = 0; i < o.cancellers; ++i) load.emplace_back(run_canceller, ctx, i);
    for (int i = 0; i < o.faults; ++i) load.emplace_back(run_faults, ctx, i);
    for (int i = 0; i < o.workers; ++i) workers.emplace_back(run_worker, ctx, i);

    // Load phase: sample RSS and progress every sample_s.
    struct sample {
        int t;
        long rss;
    };
    std::vector<sample> samples;
    const auto start = std::chrono::steady_clock::now();
    std::printf("%6s %10s %10s %10s %10s %8s\n", "t_s", "rss_kib", "accepted", "finished", "completed", "waiting");
    for (int t = 0;; t += o.sample_s) {
        std::this_thread::sleep_until(start + std::chrono::seconds(t));
        const long rss = rss_kib(o.pid);
        samples.push_back({t, rss});
        const auto m = read_metrics(control, metrics_error);
        std::printf("%6d %10ld %10zu %10llu %10s %8s\n", t, rss, record.submitted(),
                    static_cast<unsigned long long>(events.finals()), num(m.count("jobrouter_completions_total") ? m.at("jobrouter_completions_total") : -1).c_str(),
                    num(m.count("jobrouter_jobs_waiting") ? m.at("jobrouter_jobs_waiting") : -1).c_str());
        std::fflush(stdout);
        if (t >= o.seconds) break;
    }
    phase.load_over = true;
    for (auto& t : load) t.join();
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto at_load_end = read_metrics(control, metrics_error);

    // Drain: workers go on (no faults) until nothing waits or runs.
    const auto drain_start = std::chrono::steady_clock::now();
    std::map<std::string, double> m;
    for (;;) {
        m = read_metrics(control, metrics_error);
        if (metrics_error.empty() && m["jobrouter_jobs_waiting"] == 0 && m["jobrouter_jobs_running"] == 0) break;
        if (std::chrono::steady_clock::now() - drain_start > std::chrono::seconds(o.drain_s)) break;
        std::this_thread::sleep_for(200ms);
    }
    const double drain_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - drain_start).count();
    const bool drained = m["jobrouter_jobs_waiting"] == 0 && m["jobrouter_jobs_running"] == 0;
    const std::map<std::string, double> after_drain = m;
    std::string unseen_list;
    const long unseen_at_end = held_unseen(control, record, unseen_list);
    phase.all_over = true;
    for (auto& t : workers) t.join();

    // The event stream must catch up with the counters (bounded).
    m = read_metrics(control, metrics_error);
    const double server_finals = m["jobrouter_completions_total"] + m["jobrouter_failures_total"] + m["jobrouter_cancellations_total"];
    const auto catch_up = std::chrono::steady_clock::now() + 10s;
    while (events.finals() < server_finals && std::chrono::steady_clock::now() < catch_up) std::this_thread::sleep_for(50ms);
    const long rss_end = rss_kib(o.pid);
    const std::string stream_error = events.error();
    events.stop();
    auto ev = events.totals();

    // ---- figures ----
    std::printf("\nload phase %.1f s, drain %.1f s\n", load_seconds, drain_seconds);
    std::printf("driver:");
    for (const auto& [k, v] : record.counts) std::printf(" %s=%llu", k.c_str(), static_cast<unsigned long long>(v));
    std::printf("\nevents:");
    for (const auto& [k, v] : ev) std::printf(" %s=%llu", k.c_str(), static_cast<unsigned long long>(v));
    std::printf("\nserver:");
    for (const char* k : {"jobrouter_submitted_total", "jobrouter_claims_total", "jobrouter_completions_total", "jobrouter_failures_total",
                          "jobrouter_retries_total", "jobrouter_cancellations_total", "jobrouter_jobs_waiting", "jobrouter_jobs_running",
                          "jobrouter_connections_open", "jobrouter_connections_refused_total"})
        std::printf(" %s=%s", k + 10, num(m[k]).c_str());
    // Claims the server answered with a job that no driver worker received: those of claims
    // whose client hung up (fault_claim_hung_up) and that serve could not tell were gone.
    std::printf("\njobs handed to hung-up claims: %s of %llu hung-up claims",
                num(m["jobrouter_claims_total"] - static_cast<double>(record.get("claim_200"))).c_str(),
                static_cast<unsigned long long>(record.get("fault_claim_hung_up")));
    // Workers list their jobs in each heartbeat: serve hands back the ones they do not list.
    // The rest went back the old way first: their lease expired while the worker stalled (no
    // heartbeat), or the worker was removed; each of those counted a failed attempt.
    const double handed_out = m["jobrouter_claims_total"] - static_cast<double>(record.get("claim_200"));
    const double by_heartbeat = static_cast<double>(record.get("heartbeat_handed_back"));
    std::printf("\n  handed back by heartbeats: %s (requeued events naming a worker: %llu); freed otherwise (lease expired "
                "during a stall, or the worker removed): %s; still held unseen after the drain: %ld",
                num(by_heartbeat).c_str(), static_cast<unsigned long long>(ev["requeued_by_heartbeat"]),
                num(handed_out - by_heartbeat - static_cast<double>(std::max(unseen_at_end, 0L))).c_str(), unseen_at_end);
    std::printf("\nrates during the load: %.1f jobs accepted/s, %.1f completed/s, %.1f claims/s\n",
                at_load_end.count("jobrouter_submitted_total") ? at_load_end.at("jobrouter_submitted_total") / load_seconds : 0.0,
                at_load_end.count("jobrouter_completions_total") ? at_load_end.at("jobrouter_completions_total") / load_seconds : 0.0,
                at_load_end.count("jobrouter_claims_total") ? at_load_end.at("jobrouter_claims_total") / load_seconds : 0.0);

    // ---- checks ----
    std::printf("\n");
    checker c;
    c.check(metrics_error.empty(), "/metrics answered throughout", metrics_error);
    c.check(stream_error.empty(), "the /ws/events stream stayed up (every event seen)", stream_error);
    {
        std::string list;
        for (const auto& u : record.unexpected) list += "\n      " + u;
        c.check(record.get("unexpected") == 0, "no unexpected answer (5xx, stale report accepted, double completion)",
                std::to_string(record.get("unexpected")) + list);
    }
    c.check(unseen_at_end == 0, "no job held by a worker that never received it after the drain (heartbeats hand them back)",
            unseen_at_end < 0 ? std::string("GET /api/workers failed") : std::to_string(unseen_at_end) + unseen_list);
    c.check(record.get("heartbeat_handed_back") == ev["requeued_by_heartbeat"],
            "jobs handed back in heartbeat replies = requeued events naming a worker",
            std::to_string(record.get("heartbeat_handed_back")) + " vs " + std::to_string(ev["requeued_by_heartbeat"]));
    c.check(drained, "the queue drained within --drain-s",
            "waiting " + num(after_drain.at("jobrouter_jobs_waiting")) + ", running " + num(after_drain.at("jobrouter_jobs_running")));

    // Every accepted job: exactly one submitted event and one final event, or still known to the
    // server in a non-final state (then it is stuck, which the drain check reports).
    std::map<std::string, std::uint64_t> by_state;
    std::uint64_t lost = 0, doubled = 0;
    std::string lost_list;
    for (const auto& id : record.submitted_ids) {
        const job_events j = events.of(id);
        if (j.submitted != 1 || j.finals() > 1) ++doubled;
        if (j.finals() == 1) {
            ++by_state[j.completed ? "completed" : j.failed ? "failed" : "cancelled"];
            continue;
        }
        auto r = control.get("/api/jobs/" + id);
        std::string state = !r ? "unreachable" : r->status == 404 ? "unknown" : "?";
        if (r && r->status == 200) {
            const auto at = r->body.find("\"status\":\"");
            state = at == std::string::npos ? "?" : r->body.substr(at + 10, r->body.find('"', at + 10) - at - 10);
        }
        ++by_state[state];
        if (state == "unknown" || state == "unreachable" || state == "completed" || state == "failed" || state == "cancelled") {
            ++lost;  // gone, or final without its event
            if (lost_list.size() < 400) lost_list += " " + id + "(" + state + ")";
        }
    }
    std::string states;
    for (const auto& [k, v] : by_state) states += " " + k + "=" + std::to_string(v);
    std::printf("jobs by final state:%s (of %zu accepted)\n", states.c_str(), record.submitted_ids.size());
    c.check(lost == 0, "no job lost: every accepted job has its final event, or is still held", std::to_string(lost) + lost_list);
    c.check(doubled == 0, "each accepted job was submitted once and ended at most once (events)", std::to_string(doubled));

    const double submitted = m["jobrouter_submitted_total"];
    const double accounted = m["jobrouter_completions_total"] + m["jobrouter_failures_total"] + m["jobrouter_cancellations_total"] +
                             m["jobrouter_jobs_waiting"] + m["jobrouter_jobs_running"];
    c.check(submitted == accounted, "submitted = completed + failed + cancelled + waiting + running (/metrics)",
            num(submitted) + " vs " + num(accounted));
    c.check(submitted == static_cast<double>(record.submitted_ids.size()), "server's submitted = the driver's accepted",
            num(submitted) + " vs " + std::to_string(record.submitted_ids.size()));
    const std::pair<const char*, const char*> pairs[] = {{"submitted", "jobrouter_submitted_total"},
                                                         {"assigned", "jobrouter_claims_total"},
                                                         {"completed", "jobrouter_completions_total"},
                                                         {"failed", "jobrouter_failures_total"},
                                                         {"retried", "jobrouter_retries_total"},
                                                         {"cancelled", "jobrouter_cancellations_total"}};
    for (const auto& [event, metric] : pairs)
        c.check(static_cast<double>(ev[event]) == m[metric], std::string("events ") + event + " = " + metric,
                std::to_string(ev[event]) + " vs " + num(m[metric]));
    c.check(static_cast<double>(record.get("complete_200")) == m["jobrouter_completions_total"],
            "the driver's accepted completes = completions (each completed exactly once)",
            std::to_string(record.get("complete_200")) + " vs " + num(m["jobrouter_completions_total"]));
    c.check(static_cast<double>(record.get("cancel_200")) == m["jobrouter_cancellations_total"],
            "the driver's accepted cancels = cancellations", std::to_string(record.get("cancel_200")) + " vs " + num(m["jobrouter_cancellations_total"]));

    // RSS: the post-warm-up samples, first half against second half (medians).
    std::vector<long> early, late;
    std::vector<sample> after;
    for (const auto& s : samples)
        if (s.t >= o.warmup_s) after.push_back(s);
    for (std::size_t i = 0; i < after.size(); ++i) (i < after.size() / 2 ? early : late).push_back(after[i].rss);
    std::printf("RSS samples (t_s:KiB):");
    for (const auto& s : samples) std::printf(" %d:%ld", s.t, s.rss);
    std::printf(" end:%ld\n", rss_end);
    if (!o.rss_check) {
        std::printf("SKIP  RSS flat after warm-up: not judged (--no-rss-check)\n");
    } else if (early.empty() || late.empty()) {
        c.check(false, "RSS flat after warm-up", "too few samples after the warm-up of " + std::to_string(o.warmup_s) +
                                                     " s; run longer or lower --sample-s");
    } else {
        const double base = median(early), now = median(late);
        const double bound = std::max(o.rss_growth_min_mib * 1024, base * o.rss_growth_pct / 100);
        c.check(now - base <= bound, "RSS flat after warm-up (median of the later half minus the earlier half <= max(" +
                                         num(o.rss_growth_min_mib) + " MiB, " + num(o.rss_growth_pct) + "%))",
                "earlier " + num(base) + " KiB, later " + num(now) + " KiB, growth " + num(now - base) + " KiB, bound " + num(bound) + " KiB");
    }
    std::printf("\n%s: %d check(s) failed\n", c.failed ? "SOAK FAILED" : "SOAK PASSED", c.failed);
    return c.failed ? 1 : 0;
}
