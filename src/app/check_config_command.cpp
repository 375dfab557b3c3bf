// check-config: loads a service-mapping.json, runs the checks of core/mapping_check for each
// strategy asked for and prints every finding, the routing table per strategy and a count.
#include "app/command.hpp"
#include "app/mapping_source.hpp"
#include "connectors/connector_names.hpp"
#include "connectors/connector_registry.hpp"
#include "core/embedded_mapping.hpp"
#include "core/json_util.hpp"
#include "core/mapping_check.hpp"
#include "strategies/strategy_registry.hpp"

#include <boost/program_options.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace po = boost::program_options;

namespace jobrouter {

namespace {

const char* kCheckConfigUsage =
    "Usage: jobrouter check-config [--mapping FILE] [--strategy NAME|all] [--workers SPEC]\n"
    "\n"
    "Checks a service-mapping.json before any job is submitted and prints every problem (file,\n"
    "JSON path, what is wrong, the likely fix), then the routing table of each strategy: job\n"
    "(service_required) -> worker types -> service -> connector. Without --workers the WORKERS\n"
    "variable is checked, when set. Exit status: 0 when there is no error (warnings alone do not\n"
    "fail), 1 when there are errors (a malformed mapping included), 2 for bad options or a mapping\n"
    "file that cannot be read.\n";

constexpr std::string_view kAllStrategies = "all";

std::string strategy_help() {
    std::string names;
    for (const auto& n : strategy_names()) names += n + "|";
    return "strategy to check: " + names + std::string(kAllStrategies);
}

// Unreadable is a usage problem (exit 2), unlike a file that reads but does not load (exit 1),
// so the file is read here rather than through load_mapping_source, which makes both an error.
result<std::string> read_mapping_text(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return make_error(path, "is a directory, not a mapping file");
    std::ifstream file(path, std::ios::binary);
    if (!file) return make_error(path, std::string("cannot open the mapping file: ") + std::strerror(errno));
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) return make_error(path, "cannot read the mapping file");
    return {boost::system::in_place_value, text.str()};
}

void print_finding(std::ostream& out, const finding& f) {
    out << (f.level == finding::severity::error ? "error: " : "warning: ") << f.path << ": " << f.message << "\n";
    if (!f.fix.empty()) out << "  fix: " << f.fix << "\n";
    out << "\n";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// Column-aligned, so that the table reads like the seed's "Architectural Layers" diagram.
void print_summary(std::ostream& out, const strategy_summary& summary) {
    std::vector<std::vector<std::string>> cells{{"job (service_required)", "worker types", "service", "connector"}};
    for (const auto& row : summary.rows) {
        std::string connector = row.connector.empty() ? "(none)" : row.connector;
        if (!row.connector.empty() && !row.connector_built) connector += " (not in this build)";
        std::string service = row.service.empty() ? "(none)" : row.service;
        if (!row.service.empty() && !row.service_defined) service += " (not in services)";
        cells.push_back({row.job, row.worker_types.empty() ? "(no worker type)" : join(row.worker_types), service,
                         connector});
    }
    std::vector<std::size_t> widths(4, 0);
    for (const auto& line : cells)
        for (std::size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
    out << "routes under strategy " << summary.strategy << ":\n";
    for (const auto& line : cells) {
        std::string text = " ";
        for (std::size_t i = 0; i < line.size(); ++i)
            text += " " + line[i] + (i + 1 < line.size() ? std::string(widths[i] - line[i].size() + 1, ' ') : "");
        out << text << "\n";
    }
    if (summary.rows.empty()) out << "  (no routes)\n";
    out << "\n";
}

std::string counted(std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

void print_counts(std::ostream& out, std::size_t errors, std::size_t warnings) {
    out << counted(errors, "error") << ", " << counted(warnings, "warning") << "\n";
}

}  // namespace

int run_check_config_command(const std::vector<std::string>& args) {
    std::string mapping_path, strategy_name, workers;
    po::options_description opts("Options");
    opts.add_options()
        ("help,h", "show this help and exit")
        ("mapping", po::value(&mapping_path)->value_name("FILE"),
         "service-mapping.json to check (default: the one compiled into the binary)")
        ("strategy", po::value(&strategy_name)->default_value(std::string(kAllStrategies))->value_name("NAME"),
         strategy_help().c_str())
        ("workers", po::value(&workers)->value_name("SPEC"),
         "worker types to run, type:count,... (default: $WORKERS); each must be a worker type of the mapping");
    po::variables_map vm;
    try {
        // No positional description: any argument that is not an option is refused.
        po::store(po::command_line_parser(args).options(opts).positional({}).run(), vm);
        if (vm.count("help")) {
            std::cout << kCheckConfigUsage << "\n" << opts;
            return kExitOk;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "jobrouter check-config: " << e.what() << "\nTry 'jobrouter check-config --help'.\n";
        return kExitUsage;
    }

    std::vector<std::unique_ptr<strategy>> strategies;
    for (const auto& name : strategy_name == kAllStrategies ? strategy_names() : std::vector{strategy_name}) {
        auto made = make_strategy(name);
        if (!made) {
            std::string valid;
            for (const auto& n : strategy_names()) valid += n + ", ";
            std::cerr << "jobrouter check-config: --strategy: unknown strategy " << quoted(name) << " (valid: " << valid
                      << kAllStrategies << ")\n";
            return kExitUsage;
        }
        strategies.push_back(std::move(*made));
    }

    std::string text(kEmbeddedMapping), source_name(kEmbeddedMappingName);
    if (!mapping_path.empty()) {
        auto read = read_mapping_text(mapping_path);
        if (!read) {
            std::cerr << "jobrouter check-config: " << read.error().text() << "\n";
            return kExitUsage;
        }
        text = std::move(*read);
        source_name = mapping_path;
    }
    const env_lookup env = process_environment();
    const auto mapping = load_mapping(text, source_name, env);
    if (!mapping) {
        // A malformed file is a finding like any other, the one that stops all the others.
        std::cout << "error: " << mapping.error().text() << "\n\n";
        print_counts(std::cout, 1, 0);
        return kExitFailure;
    }

    check_options options;
    for (const auto& s : strategies) options.strategies.push_back(s.get());
    const auto& built = built_in_connector_names();
    options.built_connectors.insert(built.begin(), built.end());
    options.check_service_config = [](const service_def& s) { return check_connector_config(s.connector, s); };
    if (vm.count("workers")) {
        options.workers_spec = workers;
        options.workers_origin = "--workers";
    } else if (auto value = env("WORKERS")) {
        options.workers_spec = *value;
        options.workers_origin = "WORKERS";
    }

    const check_report report = check_mapping(*mapping, options);
    for (const auto& f : report.findings) print_finding(std::cout, f);
    for (const auto& summary : report.summaries) print_summary(std::cout, summary);
    const std::size_t errors = report.count(finding::severity::error);
    print_counts(std::cout, errors, report.count(finding::severity::warning));
    std::cout.flush();
    if (!std::cout) return kExitFailure;
    return errors > 0 ? kExitFailure : kExitOk;
}

}  // namespace jobrouter
