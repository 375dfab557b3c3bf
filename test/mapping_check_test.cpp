// mapping_check: the findings and routing table of check-config (service-mapping.md
// "check-config: errors and warnings", "The seed's bug, as a check"), in the core and through
// `jobrouter check-config` (output, exit codes).
#include "core/mapping_check.hpp"

#define BOOST_TEST_MODULE mapping_check
#include <boost/test/unit_test.hpp>
#include "test/support/run_command.hpp"

#include "connectors/connector_names.hpp"
#include "connectors/connector_registry.hpp"
#include "core/embedded_mapping.hpp"
#include "strategies/strategy_registry.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>
#include <sys/wait.h>

namespace jobrouter {

// For Boost.Test's messages on failed comparisons.
std::ostream& operator<<(std::ostream& os, mapping_diagnostic::severity level) {
    return os << (level == mapping_diagnostic::severity::error ? "error" : "warning");
}

std::ostream& operator<<(std::ostream& os, const summary_row& r) {
    os << r.job << " -> [";
    for (std::size_t i = 0; i < r.worker_types.size(); ++i) os << (i ? ", " : "") << r.worker_types[i];
    return os << "] -> " << r.service << (r.service_defined ? "" : " (undefined)") << " -> " << r.connector
              << (r.connector_built ? "" : " (not built)");
}

}  // namespace jobrouter

using namespace jobrouter;
using severity = finding::severity;
using strings = std::vector<std::string>;

namespace {

const std::string kFixtures = JOBROUTER_FIXTURES_DIR;
const std::string kShared = JOBROUTER_SHARED_DIR;
const std::string kEmpFile = kShared + "/fixtures/emp-service-mapping.json";
const std::string kSeed = kFixtures + "/seed-service-mapping.json";
const std::string kSeedFixed = kFixtures + "/seed-service-mapping-fixed.json";
const std::string kEmpShaped = kFixtures + "/emp-shaped-mapping.json";

// ---- the core ---------------------------------------------------------------------------------

const env_lookup no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

service_mapping load_text(std::string_view text, const std::string& name = "mapping.json") {
    auto loaded = load_mapping(text, name, no_env);
    BOOST_REQUIRE_MESSAGE(loaded.has_value(), "load failed: " << loaded.error().text());
    return std::move(*loaded);
}

service_mapping load_file(const std::string& path) {
    return load_text(read_text(path), std::filesystem::path(path).filename().string());
}

// Owns the strategies a check runs with.
struct checker {
    std::vector<std::unique_ptr<strategy>> owned;
    check_options options;

    explicit checker(const strings& names = strategy_names(), std::string workers = "") {
        for (const auto& name : names) {
            owned.push_back(make_strategy(name).value());
            options.strategies.push_back(owned.back().get());
        }
        const auto& built = built_in_connector_names();
        options.built_connectors.insert(built.begin(), built.end());
        options.workers_spec = std::move(workers);
    }
    check_report run(const service_mapping& m) const { return check_mapping(m, options); }
};

std::string dump(const check_report& r) {
    std::string out;
    for (const auto& f : r.findings)
        out += std::string(f.level == severity::error ? "error: " : "warning: ") + f.path + ": " + f.message +
               "\n  fix: " + f.fix + "\n";
    return out;
}

std::vector<const finding*> at_path(const check_report& r, const std::string& path) {
    std::vector<const finding*> out;
    for (const auto& f : r.findings)
        if (f.path == path) out.push_back(&f);
    return out;
}

// The one finding whose message mentions `part`.
const finding& with_message(const check_report& r, std::string_view part) {
    const finding* found = nullptr;
    std::size_t n = 0;
    for (const auto& f : r.findings) {
        if (f.message.find(part) == std::string::npos) continue;
        found = &f;
        ++n;
    }
    BOOST_REQUIRE_MESSAGE(n == 1, n << " findings mention " << part << "\n" << dump(r));
    return *found;
}

bool has(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

const strategy_summary& summary_of(const check_report& r, std::string_view strategy) {
    const auto it = std::find_if(r.summaries.begin(), r.summaries.end(),
                                 [&](const strategy_summary& s) { return s.strategy == strategy; });
    BOOST_REQUIRE_MESSAGE(it != r.summaries.end(), "no summary for " << strategy);
    return *it;
}

// ---- the binary -------------------------------------------------------------------------------

using jobrouter::test::process_result;

// Runs `jobrouter check-config ARGS` with WORKERS and RENDER_FARM_HOST unset unless `env`
// sets them, so the caller's environment cannot change the result.
process_result check_config(const std::string& args, const std::string& env = "") {
    const std::string command =
        "env -u WORKERS -u RENDER_FARM_HOST " + env + " " + JOBROUTER_BINARY + " check-config " + args + " 2>&1";
    return jobrouter::test::run_command(command);
}

std::string quote(const std::string& s) {
    return "'" + s + "'";
}

}  // namespace

// ---- the seed's bug ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(seed_file_under_job_type) {
    const auto r = checker({"job-type"}).run(load_file(kSeed));
    BOOST_TEST(r.count(severity::error) == 1u, dump(r));
    const auto& e = with_message(r, "under strategy job-type");
    BOOST_TEST(e.level == severity::error);
    BOOST_TEST(e.path == "seed-service-mapping.json: services.simulationx.job_types_accepted");
    BOOST_TEST(has(e.message, "service \"simulationx\" accepts job type \"simulation\""), e.message);
    BOOST_TEST(has(e.message, "no worker type can take a job with service_required: \"simulation\""), e.message);
    BOOST_TEST(has(e.message, "worker type \"simulation\" offers \"simulation123\", \"simulationxyz\""), e.message);
    BOOST_TEST(has(e.fix,
                   "add {\"job_type\": \"simulation\", \"service\": \"simulationx\"} to "
                   "workers.simulation.job_types_accepted"),
               e.fix);
    BOOST_TEST(has(e.fix, "or delete that list"), e.fix);
}

BOOST_AUTO_TEST_CASE(seed_file_under_service_name) {
    const auto r = checker({"service-name"}).run(load_file(kSeed));
    BOOST_TEST(r.count(severity::error) == 1u, dump(r));
    const auto& e = with_message(r, "under strategy service-name");
    BOOST_TEST(e.level == severity::error);
    BOOST_TEST(e.path == "seed-service-mapping.json: services.simulationx.job_types_accepted");
    BOOST_TEST(has(e.message, "service \"simulationx\" accepts job type \"simulation\""), e.message);
    BOOST_TEST(has(e.message, "no worker type can take a job with service_required: \"simulation\""), e.message);
    BOOST_TEST(has(e.message, "worker type \"simulation\" offers \"simulationx\")"), e.message);
    BOOST_TEST(has(e.fix, "rename service \"simulationx\" to \"simulation\""), e.fix);
    BOOST_TEST(has(e.fix, "services.simulationx, workers.simulation.services[0]"), e.fix);
}

BOOST_AUTO_TEST_CASE(seed_file_under_both_strategies) {
    const auto r = checker().run(load_file(kSeed));
    BOOST_TEST(r.count(severity::error) == 2u, dump(r));
    BOOST_TEST(r.count(severity::warning) == 1u, dump(r));
    // Errors first; one per strategy, since each has its own offer and its own fix.
    BOOST_TEST(r.findings[0].level == severity::error);
    BOOST_TEST(r.findings[1].level == severity::error);
    BOOST_TEST(r.findings[0].message != r.findings[1].message);
    // The worker-level routes disagree with the service: once, not per strategy or per route.
    const auto& w = with_message(r, "routes job types");
    BOOST_TEST(w.level == severity::warning);
    BOOST_TEST(w.path == "seed-service-mapping.json: workers.simulation.job_types_accepted[0]");
    BOOST_TEST(has(w.message,
                   "worker type \"simulation\" routes job types \"simulation123\", \"simulationxyz\" to "
                   "service \"simulationx\", but services.simulationx.job_types_accepted accepts only "
                   "\"simulation\""),
               w.message);
    BOOST_TEST(has(w.fix, "add \"simulation123\", \"simulationxyz\" to services.simulationx.job_types_accepted"),
               w.fix);
}

BOOST_AUTO_TEST_CASE(seed_summary_rows) {
    const auto r = checker().run(load_file(kSeed));
    BOOST_REQUIRE_EQUAL(r.summaries.size(), 2u);
    BOOST_TEST(r.summaries[0].strategy == "job-type");  // in strategy_names() order
    const std::vector<summary_row> job_type{
        {"simulation", {}, "simulationx", "SimulationHttpConnector", true, true},
        {"simulation123", {"simulation"}, "simulationx", "SimulationHttpConnector", true, true},
        {"simulationxyz", {"simulation"}, "simulationx", "SimulationHttpConnector", true, true},
    };
    BOOST_TEST(summary_of(r, "job-type").rows == job_type, boost::test_tools::per_element());
    const std::vector<summary_row> service_name{
        {"simulation", {}, "simulationx", "SimulationHttpConnector", true, true},
        {"simulationx", {"simulation"}, "simulationx", "SimulationHttpConnector", true, true},
    };
    BOOST_TEST(summary_of(r, "service-name").rows == service_name, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(shared_seed_matches_the_local_copy) {
    if (!std::filesystem::exists(kShared + "/fixtures/seed-service-mapping.json")) {
        BOOST_TEST_MESSAGE("skipped: " << kShared << "/fixtures is absent");
        return;
    }
    const auto r = checker().run(load_file(kShared + "/fixtures/seed-service-mapping.json"));
    BOOST_TEST(r.count(severity::error) == 2u, dump(r));
    const auto fixed = checker().run(load_file(kShared + "/fixtures/seed-service-mapping-fixed.json"));
    BOOST_TEST(fixed.count(severity::error) == 0u, dump(fixed));
}

// ---- files that pass --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fixed_seed_has_no_error) {
    const auto r = checker().run(load_file(kSeedFixed));
    BOOST_TEST(r.count(severity::error) == 0u, dump(r));
    // Under service-name a job names a service, so "sim" and "test" reach nobody: a warning.
    BOOST_TEST(r.count(severity::warning) == 1u, dump(r));
    const auto& w = with_message(r, "under strategy service-name");
    BOOST_TEST(has(w.message, "service_required: \"sim\" or \"test\""), w.message);
    BOOST_TEST(has(w.fix, "ask for service_required: \"simulation\""), w.fix);
    BOOST_TEST(checker({"job-type"}).run(load_file(kSeedFixed)).findings.empty());

    const std::vector<summary_row> job_type{
        {"sim", {"simulation"}, "simulation", "SimulationHttpConnector", true, true},
        {"simulation", {"simulation"}, "simulation", "SimulationHttpConnector", true, true},
        {"test", {"simulation"}, "simulation", "SimulationHttpConnector", true, true},
    };
    BOOST_TEST(summary_of(r, "job-type").rows == job_type, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(embedded_default_is_clean) {
    const auto r = checker().run(load_text(kEmbeddedMapping, kEmbeddedMappingName));
    BOOST_TEST(r.findings.empty(), dump(r));
    const std::vector<summary_row> job_type{
        {"mock", {"mock"}, "mock_test", "MockConnector", true, true},
        {"simulation", {"simulation"}, "simulation", "SimulationHttpConnector", true, true},
        {"simulation", {"simulation-http"}, "simulation-http", "SimulationHttpConnector", true, true},
        {"simulation", {"simulation-websocket"}, "simulation-websocket", "SimulationWebsocketConnector", true, true},
    };
    BOOST_TEST(summary_of(r, "job-type").rows == job_type, boost::test_tools::per_element());
    BOOST_TEST(summary_of(r, "service-name").rows.size() == 4u);
    BOOST_TEST(summary_of(r, "service-name").rows[0] ==
               (summary_row{"mock_test", {"mock"}, "mock_test", "MockConnector", true, true}));
}

BOOST_AUTO_TEST_CASE(emp_shaped_fixture_only_warns) {
    const auto r = checker().run(load_file(kEmpShaped));
    BOOST_TEST(r.count(severity::error) == 0u, dump(r));
    // The unset RENDER_FARM_HOST, and five connectors this build lacks.
    BOOST_TEST(r.count(severity::warning) == 6u, dump(r));
    const auto& unset = with_message(r, "\"RENDER_FARM_HOST\"");
    BOOST_TEST(unset.path == "emp-shaped-mapping.json: services.blender-farm.api_config.base_url");
    BOOST_TEST(has(unset.fix, "${RENDER_FARM_HOST:-value}"), unset.fix);
    const auto& blender = with_message(r, "connector \"BlenderConnector\"");
    BOOST_TEST(blender.level == severity::warning);
    BOOST_TEST(blender.path == "emp-shaped-mapping.json: services.blender.connector");
    BOOST_TEST(has(blender.message, "is not in this build"), blender.message);
    BOOST_TEST(has(blender.message, "worker type \"render-gpu\""), blender.message);
    BOOST_TEST(has(blender.fix, "MockConnector"), blender.fix);

    const auto& rows = summary_of(r, "job-type").rows;
    BOOST_REQUIRE_EQUAL(rows.size(), 6u);
    BOOST_TEST(rows[1] == (summary_row{"render_scene", {"render-gpu"}, "blender", "BlenderConnector", true, false}));
    BOOST_TEST(rows[2] ==
               (summary_row{"render_scene", {"render-farm"}, "blender-farm", "BlenderFarmConnector", true, false}));
}

BOOST_AUTO_TEST_CASE(emp_own_file_when_present) {
    if (!std::filesystem::exists(kEmpFile)) {
        BOOST_TEST_MESSAGE("skipped: " << kEmpFile << " is absent");
        return;
    }
    const auto r = checker().run(load_file(kEmpFile));
    BOOST_TEST(r.count(severity::error) == 0u, dump(r));
    for (const auto& f : r.findings) BOOST_TEST((f.level == severity::warning), f.path << ": " << f.message);
    const auto& comfy = with_message(r, "connector \"ComfyUIWebSocketConnector\"");
    BOOST_TEST(comfy.path == "emp-service-mapping.json: services.comfyui.connector");
    BOOST_TEST(has(comfy.message, "worker types \"comfyui\", \"emprops-app\""), comfy.message);
    // Services that are in the build give no finding.
    BOOST_TEST(at_path(r, "emp-service-mapping.json: services.mock_test.connector").empty());
    BOOST_TEST(at_path(r, "emp-service-mapping.json: services.simulation-http.connector").empty());
    // Every worker type offers something under both strategies: one row per job type at least.
    BOOST_TEST(summary_of(r, "job-type").rows.size() >= 11u);
}

// ---- one report per problem -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(loader_diagnostics_are_kept_with_a_fix) {
    const auto m = load_text(R"({
      "workers": {"w": {"services": ["s"], "job_types_accepted": [{"job_type": "t", "service": "s"},
                                                                  {"job_type": "t", "service": "s"},
                                                                  {"job_type": "u", "service": "ghost"}]}},
      "services": {"s": {"connector": "MockConnector", "job_types_accepted": ["t", "u"], "x": "${UNSET_X}"},
                   "bare": {}}
    })");
    const auto r = checker().run(m);
    const auto& ghost = with_message(r, "service \"ghost\" is not defined in services");
    BOOST_TEST(ghost.level == severity::error);
    BOOST_TEST(ghost.path == "mapping.json: workers.w.job_types_accepted[2].service");
    BOOST_TEST(has(ghost.fix, "define services.ghost"), ghost.fix);
    BOOST_TEST(has(ghost.fix, "bare, s"), ghost.fix);
    BOOST_TEST(has(with_message(r, "duplicate route").fix, "remove one of the two routes"));
    BOOST_TEST(has(with_message(r, "\"UNSET_X\"").fix, "${UNSET_X:-value}"));
    BOOST_TEST(has(with_message(r, "has no connector").fix, "set services.bare.connector"));
    // "u" is taken (a route to "ghost"): the unknown service is the problem, reported once.
    BOOST_TEST(at_path(r, "mapping.json: services.s.job_types_accepted").size() == 1u, dump(r));
}

BOOST_AUTO_TEST_CASE(connector_missing_from_section_and_build_is_one_finding) {
    const auto m = load_text(R"({
      "workers": {"w": {"services": ["s"]}},
      "services": {"s": {"connector": "Typo", "job_types_accepted": ["s"]}},
      "connectors": {"MockConnector": {}}
    })");
    const auto r = checker().run(m);
    const auto found = at_path(r, "mapping.json: services.s.connector");
    BOOST_REQUIRE_EQUAL(found.size(), 1u);
    BOOST_TEST(found[0]->level == severity::error);
    BOOST_TEST(has(found[0]->fix, "use one listed there: MockConnector"), found[0]->fix);
    BOOST_TEST(has(found[0]->fix, "this build does not have \"Typo\" either"), found[0]->fix);
}

BOOST_AUTO_TEST_CASE(a_connector_used_twice_is_one_finding) {
    const auto m = load_text(R"({
      "workers": {"w": {"services": ["a", "b"]}},
      "services": {"a": {"connector": "Remote", "job_types_accepted": ["a"]},
                   "b": {"connector": "Remote", "job_types_accepted": ["b"]}}
    })");
    const auto r = checker().run(m);
    BOOST_REQUIRE_EQUAL(r.findings.size(), 1u);
    BOOST_TEST(r.findings[0].path == "mapping.json: services.a.connector");
    BOOST_TEST(has(r.findings[0].message, "(services \"a\", \"b\")"), r.findings[0].message);
}

BOOST_AUTO_TEST_CASE(same_finding_under_both_strategies_is_merged) {
    const auto m = load_text(R"({
      "workers": {"w": {"services": ["used"]}},
      "services": {"used": {"connector": "MockConnector", "job_types_accepted": ["used"]},
                   "orphan": {"connector": "MockConnector", "job_types_accepted": ["lonely"]}}
    })");
    const auto r = checker().run(m);
    BOOST_REQUIRE_EQUAL(r.findings.size(), 1u);
    const auto& f = r.findings[0];
    BOOST_TEST(f.level == severity::error);
    BOOST_TEST(f.path == "mapping.json: services.orphan.job_types_accepted");
    BOOST_TEST(has(f.message,
                   "under strategies job-type and service-name no worker type can take a job with "
                   "service_required: \"lonely\""),
               f.message);
    BOOST_TEST(has(f.message, "no worker type lists service \"orphan\""), f.message);
    BOOST_TEST(has(f.fix, "add \"orphan\" to the services of the worker type"), f.fix);
}

BOOST_AUTO_TEST_CASE(some_job_types_untaken_is_a_warning) {
    const auto m = load_text(R"({
      "workers": {"w": {"services": ["s"],
                        "job_service_required_map": [{"job_service_required": "a", "worker_service": "s"}]}},
      "services": {"s": {"connector": "MockConnector", "job_types_accepted": ["a", "b"]}}
    })");
    const auto r = checker({"job-type"}).run(m);
    BOOST_REQUIRE_EQUAL(r.findings.size(), 1u);
    BOOST_TEST(r.findings[0].level == severity::warning);
    BOOST_TEST(has(r.findings[0].message, "service_required: \"b\" (worker type \"w\" offers \"a\")"),
               r.findings[0].message);
    BOOST_TEST(
        r.findings[0].fix ==
        "add {\"job_service_required\": \"b\", \"worker_service\": \"s\"} to workers.w.job_service_required_map, "
        "or delete that list so that worker type \"w\" takes the job types of its services "
        "(services.s.job_types_accepted)");
}

BOOST_AUTO_TEST_CASE(worker_type_offering_nothing_under_a_strategy) {
    const auto m = load_text(R"({
      "workers": {"w": {"job_types_accepted": [{"job_type": "t", "service": "s"}]}},
      "services": {"s": {"connector": "MockConnector"}}
    })");
    BOOST_TEST(checker({"job-type"}).run(m).findings.empty());
    const auto r = checker({"service-name"}).run(m);
    BOOST_REQUIRE_EQUAL(r.findings.size(), 1u);
    BOOST_TEST(r.findings[0].path == "mapping.json: workers.w");
    BOOST_TEST(has(r.findings[0].message, "under strategy service-name worker type \"w\" offers nothing"));
    BOOST_TEST(r.findings[0].fix == "list the services of its routes in workers.w.services: \"s\"");
}

BOOST_AUTO_TEST_CASE(summary_marks_unknown_services_and_missing_connectors) {
    const auto m = load_text(R"({
      "workers": {"w": {"job_types_accepted": [{"job_type": "t", "service": "ghost"},
                                               {"job_type": "u", "service": "s"}]}},
      "services": {"s": {}}
    })");
    const auto r = checker({"job-type"}).run(m);
    const std::vector<summary_row> rows{
        {"t", {"w"}, "ghost", "", false, false},
        {"u", {"w"}, "s", "", true, false},
    };
    BOOST_TEST(summary_of(r, "job-type").rows == rows, boost::test_tools::per_element());
}

// ---- WORKERS ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(workers_with_an_unknown_type_is_an_error) {
    const auto r = checker(strategy_names(), "simulation:2, simulationx").run(load_file(kSeedFixed));
    const auto found = at_path(r, "WORKERS");
    BOOST_REQUIRE_EQUAL(found.size(), 1u);
    BOOST_TEST(found[0]->level == severity::error);
    BOOST_TEST(has(found[0]->message, "worker type \"simulationx\""), found[0]->message);
    BOOST_TEST(has(found[0]->message, "(valid: simulation)"), found[0]->message);
    BOOST_TEST(r.count(severity::error) == 1u, dump(r));
}

BOOST_AUTO_TEST_CASE(workers_in_use_limit_who_serve_would_stop) {
    const auto m = load_file(kEmpShaped);
    const auto r = checker(strategy_names(), "speech:2").run(m);
    BOOST_TEST(r.count(severity::error) == 0u, dump(r));
    BOOST_TEST(has(with_message(r, "\"WhisperConnector\"").message, "worker type \"speech\""));
    BOOST_TEST(!has(with_message(r, "\"BlenderConnector\"").message, "serve would refuse"));
}

// ---- the binary -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(binary_seed_file_fails) {
    const auto r = check_config("--mapping " + quote(kSeed));
    BOOST_TEST(r.exit_code == 1, r.out);
    const std::string prefix = "error: " + kSeed + ": services.simulationx.job_types_accepted: ";
    BOOST_TEST(r.out.rfind(prefix, 0) == 0u, r.out);
    BOOST_TEST(has(r.out, "\n  fix: add {\"job_type\": \"simulation\", \"service\": \"simulationx\"}"), r.out);
    BOOST_TEST(has(r.out, "\n  fix: rename service \"simulationx\" to \"simulation\""), r.out);
    BOOST_TEST(has(r.out, "worker type \"simulation\" offers \"simulationx\""), r.out);
    BOOST_TEST(has(r.out, "routes under strategy job-type:\n"), r.out);
    BOOST_TEST(has(r.out, "routes under strategy service-name:\n"), r.out);
    BOOST_TEST(has(r.out, "  simulation              (no worker type)  simulationx  SimulationHttpConnector\n"), r.out);
    BOOST_TEST(r.out.size() >= 20u);
    BOOST_TEST(r.out.substr(r.out.size() - 20) == "2 errors, 1 warning\n", r.out);

    for (const char* strategy : {"job-type", "service-name"}) {
        const auto one = check_config("--strategy " + std::string(strategy) + " --mapping " + quote(kSeed));
        BOOST_TEST(one.exit_code == 1, one.out);
        BOOST_TEST(has(one.out, "under strategy " + std::string(strategy)), one.out);
        BOOST_TEST(has(one.out, "1 error, 1 warning\n"), one.out);
    }
}

BOOST_AUTO_TEST_CASE(binary_files_that_pass) {
    for (const std::string& args : {"--mapping " + quote(kSeedFixed), std::string("--strategy all"),
                                    "--strategy job-type --mapping " + quote(kSeedFixed),
                                    "--strategy service-name --mapping " + quote(kSeedFixed)}) {
        const auto r = check_config(args);
        BOOST_TEST(r.exit_code == 0, args << "\n" << r.out);
        BOOST_TEST(has(r.out, "0 errors, "), r.out);
    }
    const auto fallback = check_config("");
    BOOST_TEST(fallback.exit_code == 0, fallback.out);
    BOOST_TEST(has(fallback.out, "0 errors, 0 warnings\n"), fallback.out);
}

BOOST_AUTO_TEST_CASE(binary_emp_shaped_fixture_warns_and_passes) {
    const auto r = check_config("--mapping " + quote(kEmpShaped));
    BOOST_TEST(r.exit_code == 0, r.out);
    BOOST_TEST(has(r.out, "warning: " + kEmpShaped + ": services.blender.connector: "), r.out);
    BOOST_TEST(has(r.out, "BlenderConnector (not in this build)"), r.out);
    BOOST_TEST(has(r.out, "0 errors, 6 warnings\n"), r.out);
}

BOOST_AUTO_TEST_CASE(binary_emp_own_file_when_present) {
    if (!std::filesystem::exists(kEmpFile)) {
        BOOST_TEST_MESSAGE("skipped: " << kEmpFile << " is absent");
        return;
    }
    const auto r = check_config("--mapping " + quote(kEmpFile));
    BOOST_TEST(r.exit_code == 0, r.out);
    BOOST_TEST(!has(r.out, "error: "), r.out);
    BOOST_TEST(has(r.out, "warning: " + kEmpFile + ": services.comfyui.connector: "), r.out);
    BOOST_TEST(has(r.out, "0 errors, "), r.out);
}

BOOST_AUTO_TEST_CASE(binary_workers) {
    const auto bad = check_config("--workers 'simulation:1,nope:2' --mapping " + quote(kSeedFixed));
    BOOST_TEST(bad.exit_code == 1, bad.out);
    BOOST_TEST(has(bad.out, "error: --workers: item 2 \"nope:2\""), bad.out);
    BOOST_TEST(has(bad.out, "(valid: simulation)"), bad.out);

    const auto env_bad = check_config("", "WORKERS=nope");
    BOOST_TEST(env_bad.exit_code == 1, env_bad.out);
    BOOST_TEST(has(env_bad.out, "error: WORKERS: item 1 \"nope\""), env_bad.out);
    BOOST_TEST(has(env_bad.out, "(valid: mock, simulation, simulation-http, simulation-websocket)"), env_bad.out);

    // --workers wins over WORKERS; an empty value means the default.
    BOOST_TEST(check_config("--workers simulation-http:2,mock", "WORKERS=nope").exit_code == 0);
    BOOST_TEST(check_config("--workers ''", "WORKERS=nope").exit_code == 0);
    BOOST_TEST(check_config("", "WORKERS=mock:3").exit_code == 0);
    BOOST_TEST(check_config("--workers mock:0").exit_code == 1);
}

BOOST_AUTO_TEST_CASE(binary_bad_usage_exits_2) {
    for (const char* args : {"--strategy nope", "--strategy", "--no-such-option", "stray-argument", "--mapping"}) {
        const auto r = check_config(args);
        BOOST_TEST(r.exit_code == 2, args << "\n" << r.out);
        BOOST_TEST(has(r.out, "jobrouter check-config: "), r.out);
    }
    BOOST_TEST(has(check_config("--strategy nope").out, "(valid: job-type, service-name, all)"));
    const auto help = check_config("--help");
    BOOST_TEST(help.exit_code == 0);
    BOOST_TEST(has(help.out, "Usage: jobrouter check-config"), help.out);
}

BOOST_AUTO_TEST_CASE(binary_unreadable_file_exits_2) {
    const std::string missing = kFixtures + "/no-such-mapping.json";
    const auto r = check_config("--mapping " + quote(missing));
    BOOST_TEST(r.exit_code == 2, r.out);
    BOOST_TEST(has(r.out, missing + ": cannot open the mapping file"), r.out);
    const auto dir = check_config("--mapping " + quote(kFixtures));
    BOOST_TEST(dir.exit_code == 2, dir.out);
    BOOST_TEST(has(dir.out, "is a directory"), dir.out);
}

BOOST_AUTO_TEST_CASE(binary_malformed_file_exits_1) {
    const std::string file = kFixtures + "/bad-mappings/route-missing-field.json";
    const auto r = check_config("--mapping " + quote(file));
    BOOST_TEST(r.exit_code == 1, r.out);
    BOOST_TEST(has(r.out, "error: " + file + ": workers.simulation.job_types_accepted[1].service: missing field"),
               r.out);
    BOOST_TEST(has(r.out, "1 error, 0 warnings\n"), r.out);
    const auto invalid = check_config("--mapping " + quote(kFixtures + "/bad-mappings/invalid-json.json"));
    BOOST_TEST(invalid.exit_code == 1, invalid.out);
}

// ---- settings a connector cannot use -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unusable_connector_settings_are_errors_read_as_the_connector_reads_them) {
    const service_mapping m = load_file(kFixtures + "/bad-mappings/unusable-connector-settings.json");
    checker c;
    // The core knows no connector: without the hook nothing is said about api_config.
    for (const auto& f : c.run(m).findings) BOOST_TEST(!has(f.path, "api_config"), dump(c.run(m)));

    c.options.check_service_config = [](const service_def& s) { return check_connector_config(s.connector, s); };
    const check_report r = c.run(m);
    const auto url = at_path(r, "unusable-connector-settings.json: services.chat.api_config.url");
    BOOST_REQUIRE_EQUAL(url.size(), 1u);
    BOOST_TEST(url[0]->level == severity::error);
    BOOST_TEST(has(url[0]->message, "missing; e.g. \"http://"), url[0]->message);
    BOOST_TEST(has(url[0]->fix, "HttpRestConnector"), url[0]->fix);
    const auto command = at_path(r, "unusable-connector-settings.json: services.tool.api_config.command");
    BOOST_REQUIRE_EQUAL(command.size(), 1u);
    BOOST_TEST(command[0]->level == severity::error);
    BOOST_TEST(r.count(severity::error) == 2u, dump(r));
}

BOOST_AUTO_TEST_CASE(binary_unusable_connector_settings_exit_1_naming_the_key) {
    const std::string file = kFixtures + "/bad-mappings/unusable-connector-settings.json";
    const auto r = check_config("--mapping " + quote(file));
    BOOST_TEST(r.exit_code == 1, r.out);
    BOOST_TEST(has(r.out, "error: " + file + ": services.chat.api_config.url: missing; e.g. "), r.out);
    BOOST_TEST(has(r.out, "error: " + file + ": services.tool.api_config.command: "), r.out);
    BOOST_TEST(has(r.out, "2 errors, 0 warnings\n"), r.out);
    // The worked example's settings are all usable.
    const auto example = check_config("--mapping " + quote(kFixtures + "/../../config/examples/generic-connectors.json"));
    BOOST_TEST(example.exit_code == 0, example.out);
}
