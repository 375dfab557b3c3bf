#include "app/command.hpp"
#include "app/mapping_source.hpp"
#include "app/replay.hpp"
#include "redis/function_library.hpp"
#include "redis/redis_store.hpp"
#include "strategies/strategy_registry.hpp"

#include <boost/program_options.hpp>

#include <fstream>
#include <iostream>

namespace po = boost::program_options;

namespace jobrouter {

namespace {

const char* kReplayUsage =
    "Usage: jobrouter replay [options] [TRACE|-]\n"
    "\n"
    "Applies a trace (one JSON event per line; see trace-format.md) to a scheduler and writes one\n"
    "JSON answer line per claim or rejected event to standard output. No wall clock, no randomness:\n"
    "the same trace and options always give the same bytes. Without TRACE (or with -) the trace is\n"
    "read from standard input. Exit status: 0 once the whole trace is read (whatever its answers),\n"
    "1 when the trace or mapping cannot be read or Redis cannot be used, 2 for bad options.\n"
    "\n"
    "With --store redis://HOST:PORT/DB the jobs, workers, leases and the pending index live in that\n"
    "Redis database (Redis 7 or newer; the jobrouter Functions library is loaded on start). The\n"
    "database must be empty, or --flush given to empty it first.\n";

std::string strategy_help() {
    std::string names;
    for (const auto& n : strategy_names()) names += (names.empty() ? "" : "|") + n;
    return "matching strategy: " + names + " (matching.md section 2)";
}

result<void> non_negative(std::int64_t v, const char* option) {
    if (v < 0) return make_error(option, "must be an integer >= 0, got " + std::to_string(v));
    return {};
}

// Connects, checks that the database is empty (or empties it with --flush) and loads the
// function library. Errors are worded for the --store option.
result<redis::connection> open_redis_for_replay(const std::string& store, bool flush) {
    auto url = redis::parse_redis_url(store, "--store");
    if (!url) return url.error();
    auto conn = redis::connection::open(*url);
    if (!conn) return make_error("--store " + store, conn.error().text());
    try {
        const std::int64_t keys = redis::key_count(*conn);
        if (keys > 0 && !flush)
            return make_error("--store " + store,
                              "database " + std::to_string(url->db) + " of Redis " + url->host + ":" + std::to_string(url->port) +
                                  " is not empty (" + std::to_string(keys) + (keys == 1 ? " key" : " keys") +
                                  "); replay starts from an empty database: pass --flush to empty it first, or choose another database");
        if (flush) redis::flush_database(*conn);
    } catch (const redis::redis_error& e) {
        return make_error("--store " + store, e.what());
    }
    if (auto loaded = redis::load_function_library(*conn); !loaded) return loaded.error();
    return std::move(*conn);
}

// Runs the trace from TRACE or standard input; returns the exit status.
template <class Run>
int run_trace(const std::string& trace, Run&& run) {
    std::ios::sync_with_stdio(false);
    if (trace == "-") {
        run(std::cin);
    } else {
        std::ifstream file(trace, std::ios::binary);
        if (!file) {
            std::cerr << "jobrouter replay: " << trace << ": cannot open the trace file\n";
            return kExitFailure;
        }
        run(file);
        if (file.bad()) {
            std::cerr << "jobrouter replay: " << trace << ": read error\n";
            return kExitFailure;
        }
    }
    return std::cout.good() ? kExitOk : kExitFailure;
}

}  // namespace

int run_replay_command(const std::vector<std::string>& args) {
    std::string mapping_path, strategy_name, store, trace;
    bool flush = false;
    replay_options options;
    po::options_description opts("Options");
    opts.add_options()
        ("help,h", "show this help and exit")
        ("mapping", po::value(&mapping_path)->value_name("FILE"),
         "service-mapping.json to use (default: the one compiled into the binary)")
        ("strategy", po::value(&strategy_name)->default_value(std::string(kDefaultStrategy))->value_name("NAME"),
         strategy_help().c_str())
        ("store", po::value(&store)->default_value("memory")->value_name("STORE"),
         "where jobs live: memory, or redis://HOST:PORT/DB (Redis 7+)")
        ("flush", po::bool_switch(&flush), "with --store redis://...: empty the database first (FLUSHDB)")
        ("lease-ms", po::value(&options.scheduling.lease_ms)->default_value(options.scheduling.lease_ms)->value_name("N"),
         "lease of an assignment in ms; an event later than claim time + N finds it expired")
        ("retry-backoff-ms", po::value(&options.scheduling.retry_backoff_ms)->default_value(options.scheduling.retry_backoff_ms)->value_name("N"),
         "wait before a retry: N * 2^(attempts-1) ms")
        ("retry-backoff-max-ms", po::value(&options.scheduling.retry_backoff_max_ms)->default_value(options.scheduling.retry_backoff_max_ms)->value_name("N"),
         "cap on the retry wait, in ms")
        ("explain", po::bool_switch(&options.explain), "add \"why\" (the first failing rule per pending job) to null claims");
    po::options_description hidden;
    hidden.add_options()("trace", po::value(&trace)->default_value("-"), "trace file");
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description positional;
    positional.add("trace", 1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        if (vm.count("help")) {
            std::cout << kReplayUsage << "\n" << opts;
            return kExitOk;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "jobrouter replay: " << e.what() << "\nTry 'jobrouter replay --help'.\n";
        return kExitUsage;
    }

    for (auto check : {non_negative(options.scheduling.lease_ms, "--lease-ms"),
                       non_negative(options.scheduling.retry_backoff_ms, "--retry-backoff-ms"),
                       non_negative(options.scheduling.retry_backoff_max_ms, "--retry-backoff-max-ms")}) {
        if (!check) {
            std::cerr << "jobrouter replay: " << check.error().text() << "\n";
            return kExitUsage;
        }
    }
    const bool use_redis = redis::is_redis_url(store);
    if (store != "memory" && !use_redis) {
        std::cerr << "jobrouter replay: --store: " << quoted(store)
                  << " is not a store (use memory, or redis://HOST:PORT/DB)\n";
        return kExitUsage;
    }
    if (flush && !use_redis) {
        std::cerr << "jobrouter replay: --flush: only with --store redis://HOST:PORT/DB\n";
        return kExitUsage;
    }
    if (use_redis) {
        if (auto url = redis::parse_redis_url(store, "--store"); !url) {
            std::cerr << "jobrouter replay: " << url.error().text() << "\n";
            return kExitUsage;
        }
    }
    auto strat = make_strategy(strategy_name);
    if (!strat) {
        std::cerr << "jobrouter replay: " << strat.error().text() << "\n";
        return kExitUsage;
    }
    auto mapping = load_mapping_source(mapping_path);
    if (!mapping) {
        std::cerr << "jobrouter replay: " << mapping.error().text() << "\n";
        return kExitFailure;
    }

    if (!use_redis)
        return run_trace(trace, [&](std::istream& in) { run_replay(in, std::cout, *mapping, **strat, options); });

    auto conn = open_redis_for_replay(store, flush);
    if (!conn) {
        std::cerr << "jobrouter replay: " << conn.error().text() << "\n";
        return kExitFailure;
    }
    try {
        redis::redis_store redis_store(std::move(*conn), *mapping, **strat, options.scheduling);
        auto replay = make_redis_replay_store(redis_store);
        return run_trace(trace, [&](std::istream& in) { run_replay(in, std::cout, *replay, *mapping, options); });
    } catch (const redis::redis_error& e) {
        std::cout.flush();
        std::cerr << "jobrouter replay: " << e.what() << "\n";
        return kExitFailure;
    }
}

}  // namespace jobrouter
