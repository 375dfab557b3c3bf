#include "server/metrics.hpp"

#include <cstdio>
#include <map>

namespace jobrouter {

namespace {

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

// Label values escape backslash, quote and newline (Prometheus text format).
std::string label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

void header(std::string& out, const std::string& name, const char* type, const std::string& help) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void histogram::observe(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    ++counts_[i];
    sum_ += seconds;
    ++count_;
}

void histogram::render(std::string& out, const std::string& name, const std::string& help) const {
    header(out, name, "histogram", help);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
        cumulative += counts_[i];
        out += name + "_bucket{le=\"" + number(kBounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    cumulative += counts_.back();
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    out += name + "_sum " + number(sum_) + "\n";
    out += name + "_count " + std::to_string(count_) + "\n";
}

metrics::metrics(job_service& d, std::shared_ptr<const connection_stats> connections)
    : dispatcher_(d), connections_(std::move(connections)) {
    d.on_claim_duration = [this](double s) { claim_seconds_.observe(s); };
    d.on_submit_to_assign = [this](double s) { submit_to_assign_seconds_.observe(s); };
}

std::string metrics::render() const {
    std::string out;
    // The store's gauges; when the store cannot be read (Redis down) they are left out and
    // jobrouter_store_up says so.
    auto g = dispatcher_.gauges();
    header(out, "jobrouter_store_up", "gauge", "1 when the job store answered this scrape, else 0.");
    out += std::string("jobrouter_store_up ") + (g ? "1" : "0") + "\n";
    job_service::job_gauges empty;
    const job_service::job_gauges& gauges = g ? *g : empty;
    const auto& pending = gauges.pending;
    const auto& running = gauges.running;
    header(out, "jobrouter_jobs_pending", "gauge", "Pending jobs by service_required.");
    for (const auto& [service, n] : pending)
        out += "jobrouter_jobs_pending{service_required=\"" + label(service) + "\"} " + std::to_string(n) + "\n";
    header(out, "jobrouter_jobs_running", "gauge", "Assigned or in-progress jobs by service_required.");
    for (const auto& [service, n] : running)
        out += "jobrouter_jobs_running{service_required=\"" + label(service) + "\"} " + std::to_string(n) + "\n";

    header(out, "jobrouter_unroutable_jobs", "gauge",
           "Pending or retrying jobs that no registered worker can take, by service_required (see GET /api/jobs?unroutable=true).");
    for (const auto& [service, n] : gauges.unroutable)
        out += "jobrouter_unroutable_jobs{service_required=\"" + label(service) + "\"} " + std::to_string(n) + "\n";

    const auto& t = dispatcher_.totals();
    const std::pair<const char*, std::uint64_t> counters[] = {
        {"submitted", t.submitted}, {"claims", t.claims},   {"completions", t.completed},
        {"failures", t.failed},     {"retries", t.retried}, {"cancellations", t.cancelled}};
    const char* helps[] = {"Jobs accepted.", "Jobs assigned to a worker.", "Jobs completed.",
                           "Jobs failed for good.", "Failed attempts that were retried.", "Jobs cancelled."};
    for (std::size_t i = 0; i < std::size(counters); ++i) {
        const std::string name = std::string("jobrouter_") + counters[i].first + "_total";
        header(out, name, "counter", helps[i]);
        out += name + " " + std::to_string(counters[i].second) + "\n";
    }
    claim_seconds_.render(out, "jobrouter_claim_seconds", "Time to find and assign a worker's next job.");
    submit_to_assign_seconds_.render(out, "jobrouter_submit_to_assign_seconds", "Time from submission to first assignment.");

    std::map<std::pair<std::string, std::string>, std::uint64_t> workers;
    auto listed = dispatcher_.list_workers();
    if (listed)
        for (const auto& w : *listed)
            ++workers[{std::string(w.at("kind").as_string()), std::string(w.at("status").as_string())}];
    header(out, "jobrouter_workers", "gauge", "Registered workers by kind and status.");
    for (const auto& [key, n] : workers)
        out += "jobrouter_workers{kind=\"" + key.first + "\",status=\"" + key.second + "\"} " + std::to_string(n) + "\n";

    header(out, "jobrouter_jobs_waiting", "gauge", "Pending or retrying jobs, what --max-pending-jobs bounds.");
    out += "jobrouter_jobs_waiting " + std::to_string(gauges.waiting) + "\n";
    if (connections_) {
        const std::pair<const char*, const char*> gauges[] = {
            {"jobrouter_connections_open", "Open HTTP and WebSocket connections, what --max-connections bounds."},
            {"jobrouter_websocket_clients", "Open /ws/events connections."}};
        const std::size_t gauge_values[] = {connections_->open, connections_->websockets};
        for (std::size_t i = 0; i < std::size(gauges); ++i) {
            header(out, gauges[i].first, "gauge", gauges[i].second);
            out += std::string(gauges[i].first) + " " + std::to_string(gauge_values[i]) + "\n";
        }
        header(out, "jobrouter_connections_refused_total", "counter", "Connections answered 503 at --max-connections.");
        out += "jobrouter_connections_refused_total " + std::to_string(connections_->refused) + "\n";
        header(out, "jobrouter_websocket_dropped_total", "counter",
               "WebSocket clients dropped for falling more than --max-ws-queue events behind.");
        out += "jobrouter_websocket_dropped_total " + std::to_string(connections_->ws_dropped) + "\n";
    }
    return out;
}

}  // namespace jobrouter
