// jobrouter-bench: runs the registered scenarios (scenario.hpp) on the registered stores
// (store.hpp) and prints one row per scenario x strategy x store, as an aligned table, CSV or
// JSON, followed by the targets checked against this run's rows. Timings are reported,
// never asserted: the exit status is 0 when every selected scenario ran, 1 when one failed,
// 2 for bad options.
#include "bench/scenario.hpp"
#include "bench/store.hpp"
#include "bench/workload.hpp"

#include "strategies/strategy_registry.hpp"

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <boost/regex.hpp>  // header-only; GCC 12's <regex> warns under the sanitizer build

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;
using namespace jobrouter;
using namespace jobrouter::bench;

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2;

const char* kUsage =
    "Usage: jobrouter-bench [options]\n"
    "\n"
    "Runs named scenarios against the core (the memory store) with a warm-up and several timed runs each,\n"
    "and prints one row per scenario x strategy x store: ops/s (median run), p50/p99 latency of a sampled\n"
    "op in microseconds, resident memory after the runs, and scenario metrics. Time is virtual, except in\n"
    "the http scenario, which runs serve in process and drives it over loopback HTTP. Sizes default to the\n"
    "issue's (1M pending jobs, 10k workers); --quick runs a tiny version of every scenario for CI.\n"
    "ops/s is wall-clock time; the ops_per_cpu_s metric divides by this thread's CPU time instead, which\n"
    "discounts time spent waiting for a core on a busy machine. Progress goes to stderr; in csv format\n"
    "the target checks do too, so stdout stays pure CSV.\n";

// --quick: small enough for a CTest smoke test that finishes in a few seconds.
bench_config quick_config() {
    bench_config c;
    c.jobs = 20'000;
    c.workers = 200;
    c.ops = 5'000;
    c.runs = 2;
    c.warmup = 1;
    c.backlogs = {1'000, 10'000};
    c.http_clients = 2;
    c.http_workers = 4;
    c.http_jobs = 500;
    return c;
}

std::string format_value(double v) {
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (std::isnan(v)) return "-";
    char buf[64];
    if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (std::fabs(v) >= 100) std::snprintf(buf, sizeof buf, "%.1f", v);
    else std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

std::string thousands(double v) {
    if (!std::isfinite(v)) return format_value(v);
    std::string digits = std::to_string(static_cast<long long>(std::llround(v)));
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
        out += digits[i];
    }
    return out;
}

std::string fixed2(double v) {
    if (!std::isfinite(v)) return format_value(v);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

std::string metrics_text(const bench_row& r, const char* sep) {
    std::string out;
    for (const metric& m : r.metrics) out += (out.empty() ? "" : sep) + m.name + "=" + format_value(m.value);
    return out;
}

std::string rss_mb(std::size_t bytes) { return format_value(std::round(static_cast<double>(bytes) / (1 << 20))); }

void print_table(std::ostream& os, const std::vector<bench_row>& rows) {
    const std::vector<std::string> header{"scenario", "strategy", "store", "ops/s", "p50 us", "p99 us", "rss MB", "metrics"};
    std::vector<std::vector<std::string>> cells;
    for (const bench_row& r : rows)
        cells.push_back({r.scenario, r.strategy, r.store, thousands(r.ops_per_s), fixed2(r.p50_us), fixed2(r.p99_us),
                         rss_mb(r.rss_bytes), metrics_text(r, " ")});
    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
        width[c] = header[c].size();
        for (const auto& row : cells) width[c] = std::max(width[c], row[c].size());
    }
    // Text columns left-aligned, numbers right-aligned; the last column is not padded.
    auto line = [&](const std::vector<std::string>& row) {
        for (std::size_t c = 0; c < row.size(); ++c) {
            const bool number = c >= 3 && c <= 6;
            const std::string pad(c + 1 == row.size() ? 0 : width[c] - row[c].size(), ' ');
            os << (c ? "  " : "") << (number ? pad + row[c] : row[c] + pad);
        }
        os << '\n';
    };
    line(header);
    std::vector<std::string> rule;
    for (std::size_t c = 0; c < header.size(); ++c) rule.push_back(std::string(width[c], '-'));
    line(rule);
    for (const auto& row : cells) line(row);
}

std::string csv_number(double v) {
    if (std::isnan(v)) return "";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    std::ostringstream os;
    os.precision(10);
    os << v;
    return os.str();
}

void print_csv(std::ostream& os, const std::vector<bench_row>& rows) {
    os << "scenario,strategy,store,ops_per_s,p50_us,p99_us,rss_bytes,metrics\n";
    for (const bench_row& r : rows)
        os << r.scenario << ',' << r.strategy << ',' << r.store << ',' << csv_number(r.ops_per_s) << ','
           << csv_number(r.p50_us) << ',' << csv_number(r.p99_us) << ',' << r.rss_bytes << ',' << metrics_text(r, ";")
           << '\n';
}

// JSON has no NaN or infinity: NaN (not measured) is null, an infinite ratio the string "inf".
json::value json_number(double v) {
    if (std::isnan(v)) return nullptr;
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}

std::string check_status(const target_check& t) {
    if (t.info()) return "info";
    if (std::isnan(t.value)) return "n/a";
    return t.passed() ? "PASS" : "MISS";
}

void print_json(std::ostream& os, const bench_config& cfg, const std::vector<bench_row>& rows,
                const std::vector<target_check>& checks) {
    json::object config{{"jobs", cfg.jobs},       {"workers", cfg.workers},   {"ops", cfg.ops},
                        {"runs", cfg.runs},       {"warmup", cfg.warmup},     {"types", cfg.types},
                        {"signatures", cfg.signatures}, {"types_per_worker", cfg.types_per_worker},
                        {"payload_bytes", cfg.payload_bytes}, {"max_scan", cfg.max_scan}, {"seed", cfg.seed},
                        {"strategy", cfg.strategy}, {"http_clients", cfg.http_clients},
                        {"http_workers", cfg.http_workers}, {"http_jobs", cfg.http_jobs}, {"in_flight", cfg.in_flight}};
    json::array out_rows;
    for (const bench_row& r : rows) {
        json::object metrics;
        for (const metric& m : r.metrics) metrics[m.name] = json_number(m.value);
        out_rows.push_back(json::object{{"scenario", r.scenario}, {"strategy", r.strategy}, {"store", r.store},
                                        {"ops_per_s", json_number(r.ops_per_s)}, {"p50_us", json_number(r.p50_us)},
                                        {"p99_us", json_number(r.p99_us)}, {"rss_bytes", r.rss_bytes},
                                        {"metrics", std::move(metrics)}});
    }
    json::array targets;
    for (const target_check& t : checks)
        targets.push_back(json::object{{"what", t.what}, {"value", json_number(t.value)}, {"goal", json_number(t.goal)},
                                       {"at_least", t.at_least}, {"status", check_status(t)}});
    os << json::serialize(json::object{{"config", std::move(config)}, {"rows", std::move(out_rows)},
                                       {"targets", std::move(targets)}})
       << '\n';
}

void print_checks(std::ostream& os, const std::vector<target_check>& checks) {
    if (checks.empty()) return;
    os << "\ntargets:\n";
    for (const target_check& t : checks) {
        os << "  " << check_status(t) << "  " << t.what << ": " << format_value(t.value);
        if (!t.info()) os << " (goal " << (t.at_least ? ">= " : "<= ") << format_value(t.goal) << ")";
        os << '\n';
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string format = "table", scenario_pattern = ".*", store_pattern = ".*", csv_file;
    po::options_description opts("Options");
    // Size options have no po default: --quick sets its own sizes first, explicit options win.
    opts.add_options()
        ("help,h", "show this help and exit")
        ("list", "list the scenarios and stores, and exit")
        ("scenarios", po::value(&scenario_pattern)->value_name("REGEX"), "run the scenarios whose name matches (default: all)")
        ("stores", po::value(&store_pattern)->value_name("REGEX"), "run on the stores whose name matches (default: all)")
        ("format", po::value(&format)->value_name("FMT"), "table (default), csv or json")
        ("csv", po::value(&csv_file)->value_name("FILE"), "also write the rows as CSV to FILE, whatever --format is")
        ("quick", "tiny sizes for CI: 20k jobs, 200 workers, 5k ops, 2 runs, backlogs 1k 10k; http: 2 clients, 4 workers, 500 jobs")
        ("jobs", po::value<std::size_t>()->value_name("N"), "pending jobs of the claim and memory scenarios (1000000)")
        ("workers", po::value<std::size_t>()->value_name("N"), "workers (10000)")
        ("ops", po::value<std::size_t>()->value_name("N"), "timed operations per run (200000)")
        ("runs", po::value<std::size_t>()->value_name("N"), "timed runs per row; ops/s is their median (3)")
        ("warmup", po::value<std::size_t>()->value_name("N"), "untimed warm-up runs (1)")
        ("backlogs", po::value<std::vector<std::size_t>>()->multitoken()->value_name("N..."),
         "claim-backlog-scaling sizes (1000 10000 100000 1000000)")
        ("types", po::value<std::size_t>()->value_name("N"), "job types (100)")
        ("signatures", po::value<std::size_t>()->value_name("N"), "requirement signatures per type, 1..8 (8)")
        ("types-per-worker", po::value<std::size_t>()->value_name("N"), "job types each worker offers (4)")
        ("payload-bytes", po::value<std::size_t>()->value_name("N"), "payload size per job (100)")
        ("max-scan", po::value<std::size_t>()->value_name("N"), "emp-scan window (100)")
        ("seed", po::value<std::uint64_t>()->value_name("N"), "workload seed (1)")
        ("strategy", po::value<std::string>()->value_name("NAME"),
         "strategy of every scenario but `strategies` and `claim-backlog-scaling`, which run each (job-type)")
        ("http-clients", po::value<std::size_t>()->value_name("N"), "http: keep-alive connections submitting (4)")
        ("http-workers", po::value<std::size_t>()->value_name("N"), "http: external workers long-polling claims (16)")
        ("http-jobs", po::value<std::size_t>()->value_name("N"), "http: submissions per run (50000)")
        ("in-flight", po::value<std::size_t>()->value_name("N"),
         "claim scenarios: claims in flight at once, each by a different worker, then their completes; the "
         "redis store pipelines them on its connection, memory makes them one after the other (1)");

    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "jobrouter-bench: " << e.what() << "\nTry 'jobrouter-bench --help'.\n";
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << kUsage << "\n" << opts;
        return kExitOk;
    }

    const auto scenarios = registered_scenarios();
    const auto stores = registered_stores();
    if (vm.count("list")) {
        std::size_t w = 0;
        for (const scenario* s : scenarios) w = std::max(w, s->name().size());
        std::cout << "scenarios:\n";
        for (const scenario* s : scenarios)
            std::cout << "  " << s->name() << std::string(w - s->name().size() + 2, ' ') << s->description() << '\n';
        std::cout << "stores:\n";
        for (const store_entry* s : stores) std::cout << "  " << s->name << '\n';
        return kExitOk;
    }

    bench_config cfg = vm.count("quick") ? quick_config() : bench_config{};
    auto size = [&](const char* name, std::size_t& field) {
        if (vm.count(name)) field = vm[name].as<std::size_t>();
    };
    size("jobs", cfg.jobs);
    size("workers", cfg.workers);
    size("ops", cfg.ops);
    size("runs", cfg.runs);
    size("warmup", cfg.warmup);
    size("types", cfg.types);
    size("signatures", cfg.signatures);
    size("types-per-worker", cfg.types_per_worker);
    size("payload-bytes", cfg.payload_bytes);
    size("max-scan", cfg.max_scan);
    size("http-clients", cfg.http_clients);
    size("http-workers", cfg.http_workers);
    size("http-jobs", cfg.http_jobs);
    size("in-flight", cfg.in_flight);
    if (vm.count("backlogs")) cfg.backlogs = vm["backlogs"].as<std::vector<std::size_t>>();
    if (vm.count("seed")) cfg.seed = vm["seed"].as<std::uint64_t>();
    if (vm.count("strategy")) cfg.strategy = vm["strategy"].as<std::string>();

    std::string bad;
    if (format != "table" && format != "csv" && format != "json") bad = "--format: must be table, csv or json";
    else if (!make_strategy(cfg.strategy)) bad = make_strategy(cfg.strategy).error().text();
    else if (cfg.jobs == 0 || cfg.workers == 0 || cfg.ops == 0 || cfg.runs == 0 || cfg.in_flight == 0)
        bad = "--jobs, --workers, --ops, --runs and --in-flight must be at least 1";
    else if (cfg.http_clients == 0 || cfg.http_workers == 0 || cfg.http_jobs == 0)
        bad = "--http-clients, --http-workers and --http-jobs must be at least 1";
    else if (std::count(cfg.backlogs.begin(), cfg.backlogs.end(), 0)) bad = "--backlogs: sizes must be at least 1";

    std::vector<const scenario*> selected;
    std::vector<const store_entry*> selected_stores;
    if (bad.empty()) {
        try {
            const boost::regex scenario_re(scenario_pattern), store_re(store_pattern);
            for (const scenario* s : scenarios)
                if (boost::regex_search(std::string(s->name()), scenario_re)) selected.push_back(s);
            for (const store_entry* s : stores)
                if (boost::regex_search(s->name, store_re)) selected_stores.push_back(s);
        } catch (const boost::regex_error& e) {
            bad = std::string("--scenarios/--stores: bad regular expression: ") + e.what();
        }
    }
    if (bad.empty() && selected.empty()) bad = "--scenarios: no scenario matches \"" + scenario_pattern + "\" (see --list)";
    if (bad.empty() && selected_stores.empty()) bad = "--stores: no store matches \"" + store_pattern + "\" (see --list)";
    if (!bad.empty()) {
        std::cerr << "jobrouter-bench: " << bad << "\n";
        return kExitUsage;
    }

    std::vector<bench_row> rows;
    try {
        const service_mapping mapping = default_mapping();
        const bench_context ctx{cfg, mapping, selected_stores, std::cerr};
        for (const scenario* s : selected) {
            if (std::none_of(selected_stores.begin(), selected_stores.end(),
                             [s](const store_entry* st) { return s->runs_on(st->name); })) {
                std::cerr << "[bench] " << s->name() << ": skipped (runs on none of the selected stores)\n";
                continue;
            }
            std::cerr << "[bench] " << s->name() << '\n';
            std::vector<bench_row> mine = s->run(ctx);
            if (mine.empty()) throw std::runtime_error(std::string(s->name()) + " produced no rows");
            rows.insert(rows.end(), mine.begin(), mine.end());
        }
    } catch (const std::exception& e) {
        std::cerr << "jobrouter-bench: " << e.what() << "\n";
        return kExitFailed;
    }

    std::vector<target_check> checks;
    for (const scenario* s : selected) s->add_checks(rows, checks);

    if (!csv_file.empty()) {
        std::ofstream csv(csv_file);
        print_csv(csv, rows);
        csv.close();
        if (!csv) {
            std::cerr << "jobrouter-bench: --csv: cannot write " << csv_file << "\n";
            return kExitFailed;
        }
    }
    if (format == "json") {
        print_json(std::cout, cfg, rows, checks);
    } else if (format == "csv") {
        print_csv(std::cout, rows);
        print_checks(std::cerr, checks);  // stdout stays pure CSV
    } else {
        print_table(std::cout, rows);
        print_checks(std::cout, checks);
    }
    return kExitOk;
}
