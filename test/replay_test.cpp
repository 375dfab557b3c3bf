// replay: every shared matching case through the real `jobrouter replay` binary, plus the
// trace-format.md rules on lines, output bytes, options and exit codes.
#define BOOST_TEST_MODULE replay
#include "test/support/run_command.hpp"
#include "app/replay.hpp"

#include "app/mapping_source.hpp"
#include "strategies/strategy_registry.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace jobrouter;

namespace {

using jobrouter::test::process_result;

// Runs a shell command line, capturing standard output; standard error is discarded, or
// captured too with `with_stderr`.
process_result run(const std::string& command, bool with_stderr = false) {
    return jobrouter::test::run_command(command + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

process_result run_with_stderr(const std::string& command) { return run(command, true); }

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::string shell_quote(const std::string& s) { return "'" + s + "'"; }

// The options a case runs with (matching-cases/README.md): job-type unless the name says
// service-name, --retry-backoff-ms 0, then NAME.args overriding the same options.
std::string case_options(const fs::path& dir, const std::string& name) {
    std::map<std::string, std::string> opts{
        {"--strategy", name.find("service-name") != std::string::npos ? "service-name" : "job-type"},
        {"--retry-backoff-ms", "0"}};
    if (fs::exists(dir / (name + ".args"))) {
        std::istringstream args(read_file(dir / (name + ".args")));
        std::string key, value;
        while (args >> key >> value) opts[key] = value;
    }
    std::string out;
    for (const auto& [k, v] : opts) out += " " + k + " " + v;
    return out;
}

// Compares replay output with an expected file: answer lines byte for byte; error lines by
// their line number, with a message that is not empty.
void check_case(const fs::path& dir, const std::string& name) {
    BOOST_TEST_CONTEXT("case " << name) {
        const fs::path trace = dir / (name + ".trace.jsonl");
        auto r = run(std::string(JOBROUTER_BINARY) + " replay" + case_options(dir, name) + " " + shell_quote(trace.string()));
        BOOST_TEST(r.exit_code == 0);
        auto got = lines_of(r.out);
        auto want = lines_of(read_file(dir / (name + ".expected.jsonl")));
        BOOST_REQUIRE_EQUAL(got.size(), want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
            json::object w = json::parse(want[i]).as_object();
            if (w["op"] == "error") {
                json::object g = json::parse(got[i]).as_object();
                BOOST_TEST(g["op"] == "error");
                BOOST_TEST(g["line"] == w["line"], "line " << i + 1 << ": " << got[i]);
                BOOST_TEST((g["error"].is_string() && !g["error"].get_string().empty()));
            } else {
                BOOST_TEST(got[i] == want[i]);
            }
        }
    }
}

std::vector<std::string> case_names(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string f = e.path().filename().string();
        const std::string suffix = ".trace.jsonl";
        if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
            names.push_back(f.substr(0, f.size() - suffix.size()));
    }
    std::sort(names.begin(), names.end());
    return names;
}

const fs::path kCases = fs::path(JOBROUTER_FIXTURES_DIR) / "matching-cases";

// In-process replay, for the line-level rules.
std::string replay_text(const std::string& trace, replay_options options = {}, const std::string& strategy_name = "job-type") {
    auto mapping = load_mapping_source("").value();
    auto strat = make_strategy(strategy_name).value();
    std::istringstream in(trace);
    std::ostringstream out;
    run_replay(in, out, mapping, *strat, options);
    return out.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_matching_case_in_the_repository) {
    auto names = case_names(kCases);
    BOOST_TEST(names.size() >= 40u);
    for (const auto& name : names) check_case(kCases, name);
}

BOOST_AUTO_TEST_CASE(shared_matching_cases_when_present) {
    const fs::path shared = fs::path(JOBROUTER_SHARED_DIR) / "fixtures" / "matching-cases";
    if (!fs::exists(shared)) {
        BOOST_TEST_MESSAGE("../shared is absent: only the repository's copy of the cases ran");
        return;
    }
    for (const auto& name : case_names(shared)) check_case(shared, name);
}

BOOST_AUTO_TEST_CASE(output_is_byte_identical_across_runs_and_inputs) {
    const std::string trace = shell_quote((kCases / "13-no-scan-window.trace.jsonl").string());
    const std::string bin = JOBROUTER_BINARY;
    auto a = run(bin + " replay --explain " + trace);
    auto b = run(bin + " replay --explain " + trace);
    auto c = run(bin + " replay --explain - < " + trace);
    auto d = run("cat " + trace + " | " + bin + " replay --explain");
    BOOST_TEST(!a.out.empty());
    BOOST_TEST(a.out == b.out);
    BOOST_TEST(a.out == c.out);
    BOOST_TEST(a.out == d.out);
}

BOOST_AUTO_TEST_CASE(explain_lists_first_failing_rule_for_top_ten_pending_jobs) {
    std::string trace =
        R"({"op":"register","worker":{"worker_id":"w","job_service_required_map":["comfyui"],"hardware":{"gpu_memory_gb":16}}})" "\n"
        R"({"op":"claim","worker_id":"w"})" "\n";
    for (int i = 0; i < 12; ++i)
        trace += R"({"op":"submit","t":)" + std::to_string(1700000000000 + i) + R"(,"job":{"id":"big)" + std::to_string(i) +
                 R"(","service_required":"comfyui","requirements":{"hardware":{"gpu_memory_gb":24}}}})" "\n";
    trace += R"({"op":"submit","job":{"id":"other","service_required":"a1111","priority":99}})" "\n";
    trace += R"({"op":"claim","worker_id":"w"})" "\n";
    replay_options with_explain;
    with_explain.explain = true;
    auto out = lines_of(replay_text(trace, with_explain));
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    BOOST_TEST(out[0] == R"({"op":"claim","worker_id":"w","job_id":null,"why":[]})");
    json::object second = json::parse(out[1]).as_object();
    const json::array& why = second["why"].as_array();
    BOOST_REQUIRE_EQUAL(why.size(), 10u);
    BOOST_TEST(why[0].at("job_id") == "other");  // priority 99 ranks first
    BOOST_TEST(why[0].at("rule") == "R2");
    BOOST_TEST(why[1].at("job_id") == "big0");  // then FIFO
    BOOST_TEST(why[1].at("rule") == "R3a");
    BOOST_TEST(why[1].at("detail") == "gpu_memory_gb needs 24, worker has 16");
    BOOST_TEST(why[9].at("job_id") == "big8");
    // Without --explain, no "why".
    BOOST_TEST(lines_of(replay_text(trace))[1] == R"({"op":"claim","worker_id":"w","job_id":null})");
}

BOOST_AUTO_TEST_CASE(lines_blank_crlf_and_numbering) {
    const std::string trace = "\n   \n"
                              R"({"op":"register","worker":{"worker_id":"w","job_types":["x"]}})" "\r\n"
                              R"({"op":"submit","job":{"id":"j","service_required":"x"}})" "\r\n"
                              "not json\n"
                              "[1,2]\n"
                              R"({"op":"claim","worker_id":"w","extra":"ignored"})" "\n";
    auto out = lines_of(replay_text(trace));
    BOOST_REQUIRE_EQUAL(out.size(), 3u);
    BOOST_TEST(out[0].rfind(R"({"op":"error","line":5,"error":"event: invalid JSON)", 0) == 0);
    BOOST_TEST(out[1].rfind(R"({"op":"error","line":6,"error":"event: must be a JSON object)", 0) == 0);
    BOOST_TEST(out[2] == R"({"op":"claim","worker_id":"w","job_id":"j"})");
}

BOOST_AUTO_TEST_CASE(strict_json_rules) {
    std::string deep = R"({"op":"advance","x":)";
    for (int i = 0; i < 64; ++i) deep += "[";
    for (int i = 0; i < 64; ++i) deep += "]";
    deep += "}";
    const std::string trace = R"({"op":"advance","t":NaN})" "\n"
                              R"({"op":"advance","x":1e400})" "\n"
                              R"({"op":"advance","x":"\ud800"})" "\n"
                              + deep + "\n"
                              R"({"op":"advance","op":"claim","worker_id":"nobody"})" "\n";
    auto out = lines_of(replay_text(trace));
    BOOST_REQUIRE_EQUAL(out.size(), 5u);
    for (int i = 0; i < 4; ++i) BOOST_TEST(out[i].find("\"line\":" + std::to_string(i + 1) + ",") != std::string::npos);
    BOOST_TEST(out[3].find("deeper than 64") != std::string::npos);
    // Duplicate keys: the last one wins, so this is a claim by an unknown worker.
    BOOST_TEST(out[4] == R"({"op":"error","line":5,"error":"worker_id: unknown worker \"nobody\""})");
}

BOOST_AUTO_TEST_CASE(time_never_goes_back_and_bad_time_changes_nothing) {
    const std::string trace =
        R"({"op":"register","worker":{"worker_id":"w","job_types":["x"]}})" "\n"
        R"({"op":"submit","t":1700000000000,"job":{"id":"j","service_required":"x"}})" "\n"
        R"({"op":"claim","worker_id":"w"})" "\n"
        R"({"op":"advance","t":9007199254740993})" "\n"   // beyond 2^53: rejected, clock unchanged
        R"({"op":"advance","t":-1})" "\n"
        R"({"op":"advance","t":1699999999999})" "\n"      // earlier: the clock stays
        R"({"op":"complete","job_id":"j"})" "\n";          // so the lease has not run out
    auto out = lines_of(replay_text(trace));
    BOOST_REQUIRE_EQUAL(out.size(), 3u);
    BOOST_TEST(out[1].find("\"line\":4") != std::string::npos);
    BOOST_TEST(out[2].find("\"line\":5") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(options_and_exit_codes) {
    const std::string bin = JOBROUTER_BINARY;
    const std::string trace = shell_quote((kCases / "01-compatible-service.trace.jsonl").string());
    auto unknown = run_with_stderr(bin + " replay --strategy fastest " + trace);
    BOOST_TEST(unknown.exit_code == 2);
    BOOST_TEST(unknown.out.find("unknown strategy \"fastest\" (valid: job-type, service-name)") != std::string::npos);
    BOOST_TEST(run(bin + " replay --lease-ms -1 " + trace).exit_code == 2);
    BOOST_TEST(run(bin + " replay --retry-backoff-ms 1.5 " + trace).exit_code == 2);
    BOOST_TEST(run(bin + " replay --no-such-option " + trace).exit_code == 2);
    BOOST_TEST(run(bin + " replay --store mysql://db " + trace).exit_code == 2);
    // A Redis store that cannot be reached: the replay cannot run, and says where it looked.
    auto no_redis = run_with_stderr(bin + " replay --store redis://127.0.0.1:1/0 " + trace);
    BOOST_TEST(no_redis.exit_code == 1);
    BOOST_TEST(no_redis.out.find("127.0.0.1:1/0") != std::string::npos, no_redis.out);
    BOOST_TEST(run(bin + " replay /nonexistent/trace.jsonl").exit_code == 1);
    auto bad_mapping = run_with_stderr(bin + " replay --mapping " +
                                       shell_quote(std::string(JOBROUTER_FIXTURES_DIR) + "/bad-mappings/route-missing-field.json") + " " + trace);
    BOOST_TEST(bad_mapping.exit_code == 1);
    BOOST_TEST(bad_mapping.out.find("route-missing-field.json") != std::string::npos);
    BOOST_TEST(run(bin + " replay --mapping " + shell_quote(std::string(JOBROUTER_FIXTURES_DIR) + "/seed-service-mapping.json") + " " + trace)
                   .exit_code == 0);
    BOOST_TEST(run(bin + " frobnicate").exit_code == 2);
}

BOOST_AUTO_TEST_CASE(help_tells_every_option) {
    const std::string bin = JOBROUTER_BINARY;
    auto top = run(bin + " --help");
    BOOST_TEST(top.exit_code == 0);
    BOOST_TEST(top.out.find("replay") != std::string::npos);
    auto help = run(bin + " replay --help");
    BOOST_TEST(help.exit_code == 0);
    for (const char* option : {"--mapping", "--strategy", "--store", "--lease-ms", "--retry-backoff-ms", "--retry-backoff-max-ms", "--explain"})
        BOOST_TEST(help.out.find(option) != std::string::npos, option);
}

BOOST_AUTO_TEST_CASE(worker_type_from_the_mapping_fills_keys) {
    // The embedded mapping's `mock` worker routes job type "mock" to service "mock_test".
    const std::string trace =
        R"({"op":"register","worker":{"worker_id":"m","worker_type":"mock"}})" "\n"
        R"({"op":"submit","job":{"id":"j","service_required":"mock"}})" "\n"
        R"({"op":"claim","worker_id":"m"})" "\n"
        R"({"op":"register","worker":{"worker_id":"x","worker_type":"no-such-type"}})" "\n";
    auto job_type = lines_of(replay_text(trace));
    BOOST_REQUIRE_EQUAL(job_type.size(), 2u);
    BOOST_TEST(job_type[0] == R"({"op":"claim","worker_id":"m","job_id":"j"})");
    BOOST_TEST(job_type[1].find("unknown worker type \\\"no-such-type\\\"") != std::string::npos);
    BOOST_TEST(job_type[1].find("simulation") != std::string::npos);  // lists the valid types
    auto service_name = lines_of(replay_text(trace, {}, "service-name"));
    BOOST_TEST(service_name[0] == R"({"op":"claim","worker_id":"m","job_id":null})");
}
