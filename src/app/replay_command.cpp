#include "app/command.hpp"
#include "app/mapping_source.hpp"
#include "app/replay.hpp"
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
    "1 when the trace or mapping cannot be read, 2 for bad options.\n";

std::string strategy_help() {
    std::string names;
    for (const auto& n : strategy_names()) names += (names.empty() ? "" : "|") + n;
    return "matching strategy: " + names + " (matching.md section 2)";
}

result<void> non_negative(std::int64_t v, const char* option) {
    if (v < 0) return make_error(option, "must be an integer >= 0, got " + std::to_string(v));
    return {};
}

}  // namespace

int run_replay_command(const std::vector<std::string>& args) {
    std::string mapping_path, strategy_name, store, trace;
    replay_options options;
    po::options_description opts("Options");
    opts.add_options()
        ("help,h", "show this help and exit")
        ("mapping", po::value(&mapping_path)->value_name("FILE"),
         "service-mapping.json to use (default: the one compiled into the binary)")
        ("strategy", po::value(&strategy_name)->default_value(std::string(kDefaultStrategy))->value_name("NAME"),
         strategy_help().c_str())
        ("store", po::value(&store)->default_value("memory")->value_name("STORE"),
         "where jobs live: memory (the Redis store is not in this build yet)")
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
    if (store != "memory") {
        std::cerr << "jobrouter replay: --store: " << quoted(store)
                  << " is not available; this build has only the memory store (use --store memory)\n";
        return kExitUsage;
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

    std::ios::sync_with_stdio(false);
    if (trace == "-") {
        run_replay(std::cin, std::cout, *mapping, **strat, options);
    } else {
        std::ifstream file(trace, std::ios::binary);
        if (!file) {
            std::cerr << "jobrouter replay: " << trace << ": cannot open the trace file\n";
            return kExitFailure;
        }
        run_replay(file, std::cout, *mapping, **strat, options);
        if (file.bad()) {
            std::cerr << "jobrouter replay: " << trace << ": read error\n";
            return kExitFailure;
        }
    }
    return std::cout.good() ? kExitOk : kExitFailure;
}

}  // namespace jobrouter
