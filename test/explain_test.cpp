// explain: scheduler::explain_job (each registered worker and the first rule that keeps it from
// a job, with the values involved, or "would match"; and the verdict), and replay --explain on
// every shared matching case: each null claim names a rule for every job it lists.
#define BOOST_TEST_MODULE explain
#include "core/scheduler.hpp"

#include "app/mapping_source.hpp"
#include "app/replay.hpp"
#include "strategies/strategy_registry.hpp"
#include "test/support/one_service_mapping.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace jobrouter;

namespace {

constexpr time_ms kT0 = 1700000000000;

const service_mapping& test_mapping() { return test::one_service_mapping(); }

struct fixture {
    explicit fixture(std::string strategy_name = "job-type")
        : strat(make_strategy(strategy_name).value()), s(test_mapping(), *strat, scheduler_options{1000, 100, 1000}) {
        s.advance(kT0);
    }
    void add_worker(const std::string& json_text) {
        BOOST_REQUIRE(s.register_worker(parse_worker(json::parse(json_text), test_mapping()).value()));
    }
    void submit(const std::string& json_text) { BOOST_REQUIRE(s.submit(parse_job_spec(json::parse(json_text)).value())); }
    job_explanation explain(const std::string& id) {
        auto r = s.explain_job(id);
        BOOST_REQUIRE_MESSAGE(r, "explain_job(" << id << ") failed");
        return std::move(*r);
    }
    // The single worker's rejection of the job: "RULE: detail", or "match".
    std::string why(const std::string& job_id) {
        auto e = explain(job_id);
        BOOST_REQUIRE_EQUAL(e.workers.size(), 1u);
        const auto& v = e.workers.front();
        return v.why ? std::string(v.why->rule) + ": " + v.why->detail : std::string("match");
    }

    std::unique_ptr<strategy> strat;
    scheduler s;
};

}  // namespace

// ---- each rule, with its values ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(r1_workflow_restriction_names_both_workflows) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"workflow_id":"wf-a"})");
    f.submit(R"({"id":"j","service_required":"x","workflow_id":"wf-b"})");
    f.submit(R"({"id":"none","service_required":"x"})");
    BOOST_TEST(f.why("j") == R"(R1: worker takes only workflow "wf-a"; job's workflow is "wf-b")");
    BOOST_TEST(f.why("none") == R"(R1: worker takes only workflow "wf-a"; job's workflow is none)");
}

BOOST_AUTO_TEST_CASE(r2_service_names_the_key_and_the_offer) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_service_required_map":["simulationx"]})");
    f.submit(R"({"id":"j","service_required":"simulation"})");
    BOOST_TEST(f.why("j") == R"(R2: job needs "simulation"; worker offers ["simulationx"])");
}

BOOST_AUTO_TEST_CASE(r3a_hardware_names_the_key_and_both_numbers) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"hardware":{"gpu_memory_gb":16}})");
    f.submit(R"({"id":"j","service_required":"x","requirements":{"hardware":{"gpu_memory_gb":24}}})");
    f.submit(R"({"id":"ram","service_required":"x","requirements":{"hardware":{"ram_gb":8}}})");
    BOOST_TEST(f.why("j") == "R3a: gpu_memory_gb needs 24, worker has 16");
    BOOST_TEST(f.why("ram") == "R3a: ram_gb needs 8, worker has none");
}

BOOST_AUTO_TEST_CASE(r3b_isolation_shows_the_worker_setting) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"customer_access":{"isolation":"loose"}})");
    f.submit(R"({"id":"j","service_required":"x","requirements":{"customer_isolation":"strict"}})");
    BOOST_TEST(f.why("j") == R"(R3b: job needs strict customer isolation; worker isolation is "loose")");
}

BOOST_AUTO_TEST_CASE(r3c_customer_lists_name_the_customer_and_the_list) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"customer_access":{"allowed_customers":["acme"]}})");
    f.submit(R"({"id":"j","service_required":"x","customer_id":"globex"})");
    BOOST_TEST(f.why("j") == R"(R3c: customer "globex" is not in the worker's allowed_customers ["acme"])");

    fixture g;
    g.add_worker(R"({"worker_id":"w1","job_types":["x"],"customer_access":{"denied_customers":["globex"]}})");
    g.submit(R"({"id":"j","service_required":"x","customer_id":"globex"})");
    BOOST_TEST(g.why("j") == R"(R3c: customer "globex" is in the worker's denied_customers)");
}

BOOST_AUTO_TEST_CASE(r3d_models_name_the_model_and_what_the_worker_has) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"models":{"x":["sd15"]}})");
    f.submit(R"({"id":"j","service_required":"x","requirements":{"models":["sdxl"]}})");
    BOOST_TEST(f.why("j") == R"(R3d: model "sdxl" is not in the worker's models["x"] (["sd15"]))");
}

BOOST_AUTO_TEST_CASE(r3e_custom_capability_names_the_path_and_both_values) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"location":{"region":"eu"}})");
    f.submit(R"({"id":"j","service_required":"x","requirements":{"location.region":"us"}})");
    f.submit(R"({"id":"missing","service_required":"x","requirements":{"tier":"gold"}})");
    BOOST_TEST(f.why("j") == R"(R3e: "location.region" needs "us", worker has "eu")");
    BOOST_TEST(f.why("missing") == R"(R3e: "tier" needs "gold", worker has nothing)");
}

BOOST_AUTO_TEST_CASE(r4_negative_requirement_names_the_key_and_the_worker_value) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"hardware":{"gpu_memory_gb":80},"cloud":"aws"})");
    f.submit(R"({"id":"hw","service_required":"x","requirements":{"negative_requirements":{"hardware":{"gpu_memory_gb":40}}}})");
    f.submit(R"({"id":"key","service_required":"x","requirements":{"negative_requirements":{"cloud":"aws"}}})");
    BOOST_TEST(f.why("hw") == "R4: negative requirement hardware.gpu_memory_gb 40 excludes the worker, which has 80");
    BOOST_TEST(f.why("key") == R"(R4: negative requirement "cloud" "aws" excludes the worker, which has "aws")");
}

BOOST_AUTO_TEST_CASE(rule_titles) {
    BOOST_TEST(rule_title("R1") == "workflow");
    BOOST_TEST(rule_title("R2") == "service");
    BOOST_TEST(rule_title("R3a") == "hardware");
    BOOST_TEST(rule_title("R3b") == "isolation");
    BOOST_TEST(rule_title("R3c") == "customer");
    BOOST_TEST(rule_title("R3d") == "models");
    BOOST_TEST(rule_title("R3e") == "capability");
    BOOST_TEST(rule_title("R4") == "negative");
}

// ---- workers listed, verdicts ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_worker_sorted_by_id_first_failing_rule_or_match) {
    fixture f;
    f.add_worker(R"({"worker_id":"w3","job_types":["x"],"hardware":{"gpu_memory_gb":48}})");
    f.add_worker(R"({"worker_id":"w1","job_types":["y"]})");
    f.add_worker(R"({"worker_id":"w2","job_types":["x"],"hardware":{"gpu_memory_gb":16}})");
    f.submit(R"({"id":"j","service_required":"x","requirements":{"hardware":{"gpu_memory_gb":24}}})");
    auto e = f.explain("j");
    BOOST_REQUIRE_EQUAL(e.workers.size(), 3u);
    BOOST_TEST(e.workers[0].caps->worker_id == "w1");
    BOOST_TEST(e.workers[0].why->rule == "R2");
    BOOST_TEST(e.workers[1].caps->worker_id == "w2");
    BOOST_TEST(e.workers[1].why->rule == "R3a");
    BOOST_TEST(e.workers[2].caps->worker_id == "w3");
    BOOST_TEST(e.workers[2].matches());
    BOOST_TEST(!e.workers[2].busy);
    BOOST_TEST(e.routable);
    BOOST_TEST(e.verdict == "1 worker could run it; 1 not busy (each takes the best-ranked job it matches at its next claim)");
    BOOST_TEST(f.s.has_capable_worker(*e.j->cls));
}

BOOST_AUTO_TEST_CASE(verdict_no_worker_registered) {
    fixture f;
    f.submit(R"({"id":"j","service_required":"x"})");
    auto e = f.explain("j");
    BOOST_TEST(e.workers.empty());
    BOOST_TEST(!e.routable);
    BOOST_TEST(e.verdict == "no worker is registered");
}

BOOST_AUTO_TEST_CASE(verdict_no_worker_offers_the_job_type) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["simulationx","b"]})");
    f.add_worker(R"({"worker_id":"w2","job_types":["a"]})");
    f.submit(R"({"id":"j","service_required":"simulation"})");
    auto e = f.explain("j");
    BOOST_TEST(!e.routable);
    BOOST_TEST(e.verdict == R"(no registered worker offers job type "simulation" (they offer "a", "b", "simulationx"))");
    BOOST_TEST(!f.s.has_capable_worker(*e.j->cls));

    fixture g("service-name");
    g.add_worker(R"({"worker_id":"w1","services":["svc"]})");
    g.submit(R"({"id":"j","service_required":"other"})");
    BOOST_TEST(g.explain("j").verdict == R"(no registered worker offers service "other" (they offer "svc"))");
}

BOOST_AUTO_TEST_CASE(verdict_no_worker_meets_the_requirements_groups_by_rule) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"hardware":{"gpu_memory_gb":16}})");
    f.add_worker(R"({"worker_id":"w2","job_types":["x"],"hardware":{"gpu_memory_gb":8}})");
    f.add_worker(R"({"worker_id":"w3","job_types":["x"],"hardware":{"gpu_memory_gb":80},"customer_access":{"allowed_customers":[]}})");
    f.add_worker(R"({"worker_id":"w4","job_types":["y"]})");
    f.submit(R"({"id":"j","service_required":"x","customer_id":"c","requirements":{"hardware":{"gpu_memory_gb":24}}})");
    auto e = f.explain("j");
    BOOST_TEST(!e.routable);
    BOOST_TEST(e.verdict ==
               R"(no registered worker meets the job's requirements: 3 workers offer job type "x" but fail R3a hardware (w1, w2); R3c customer (w3))");
}

BOOST_AUTO_TEST_CASE(verdict_all_busy_then_job_status) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"]})");
    f.add_worker(R"({"worker_id":"w2","job_types":["x"]})");
    f.submit(R"({"id":"a","service_required":"x","priority":90})");
    f.submit(R"({"id":"b","service_required":"x","priority":80})");
    f.submit(R"({"id":"c","service_required":"x"})");
    BOOST_TEST(f.s.claim("w1").value()->id == "a");
    BOOST_TEST(f.explain("c").verdict == "2 workers could run it; 1 not busy (each takes the best-ranked job it matches at its next claim)");
    BOOST_TEST(f.s.claim("w2").value()->id == "b");
    auto e = f.explain("c");
    BOOST_TEST(e.verdict == "2 workers could run it; all busy");
    BOOST_TEST(e.workers[0].busy);
    BOOST_TEST(e.workers[1].busy);
    BOOST_TEST(f.explain("a").verdict == R"(job is assigned to worker "w1")");
    BOOST_REQUIRE(f.s.progress("a", 10));
    BOOST_TEST(f.explain("a").verdict == R"(job is in_progress on worker "w1")");
    BOOST_REQUIRE(f.s.complete("a"));
    BOOST_TEST(f.explain("a").verdict == "job is completed; nothing to route");
    BOOST_REQUIRE(f.s.fail("b", true));
    BOOST_TEST(f.explain("b").verdict.rfind("job is retrying (waiting out its back-off); then: 2 workers could run it", 0) == 0);
}

BOOST_AUTO_TEST_CASE(one_busy_worker_and_unknown_job) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"]})");
    f.submit(R"({"id":"a","service_required":"x"})");
    f.submit(R"({"id":"b","service_required":"x"})");
    BOOST_REQUIRE(f.s.claim("w1").value());
    BOOST_TEST(f.explain("a").verdict == "1 worker could run it; it is busy");
    BOOST_TEST(!f.s.explain_job("nope"));
}

BOOST_AUTO_TEST_CASE(can_take_agrees_with_claim) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"hardware":{"gpu_memory_gb":16}})");
    f.submit(R"({"id":"big","service_required":"x","requirements":{"hardware":{"gpu_memory_gb":24}}})");
    f.submit(R"({"id":"small","service_required":"x","requirements":{"hardware":{"gpu_memory_gb":8}}})");
    const worker* w = f.s.find_worker("w1");
    BOOST_TEST(!f.s.can_take(*w, *f.s.find_job("big")->cls));
    BOOST_TEST(f.s.can_take(*w, *f.s.find_job("small")->cls));
    BOOST_TEST(f.s.claim("w1").value()->id == "small");
    BOOST_TEST(!f.s.claim("w1").value());
}

// ---- replay --explain on every shared matching case ------------------------------------------

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The options of a case (matching-cases/README.md): job-type unless the name says service-name,
// --retry-backoff-ms 0, then NAME.args.
struct case_setup {
    std::string strategy_name;
    replay_options options;
};

case_setup setup_for(const fs::path& dir, const std::string& name) {
    case_setup c;
    c.strategy_name = name.find("service-name") != std::string::npos ? "service-name" : "job-type";
    c.options.explain = true;
    c.options.scheduling.retry_backoff_ms = 0;
    if (fs::exists(dir / (name + ".args"))) {
        std::istringstream args(read_file(dir / (name + ".args")));
        std::string key, value;
        while (args >> key >> value) {
            if (key == "--strategy") c.strategy_name = value;
            else if (key == "--lease-ms") c.options.scheduling.lease_ms = std::stoll(value);
            else if (key == "--retry-backoff-ms") c.options.scheduling.retry_backoff_ms = std::stoll(value);
            else if (key == "--retry-backoff-max-ms") c.options.scheduling.retry_backoff_max_ms = std::stoll(value);
            else BOOST_FAIL("case " << name << ": unknown option " << key);
        }
    }
    return c;
}

struct case_counts {
    std::size_t cases = 0, null_claims = 0, why_entries = 0;
};

void check_cases(const fs::path& dir, case_counts& counts) {
    static const std::set<std::string> rules{"R1", "R2", "R3a", "R3b", "R3c", "R3d", "R3e", "R4"};
    auto mapping = load_mapping_source("").value();
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string file = entry.path().filename().string();
        const std::string suffix = ".trace.jsonl";
        if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
        const std::string name = file.substr(0, file.size() - suffix.size());
        BOOST_TEST_CONTEXT("case " << name) {
            ++counts.cases;
            const case_setup c = setup_for(dir, name);
            auto strat = make_strategy(c.strategy_name).value();
            std::istringstream in(read_file(entry.path()));
            std::ostringstream out;
            run_replay(in, out, mapping, *strat, c.options);
            std::istringstream lines(out.str());
            for (std::string line; std::getline(lines, line);) {
                const json::object o = json::parse(line).as_object();
                if (o.at("op") != "claim") continue;
                if (!o.at("job_id").is_null()) {
                    BOOST_TEST(!o.contains("why"), "a claim that returns a job has no why: " << line);
                    continue;
                }
                ++counts.null_claims;
                BOOST_REQUIRE_MESSAGE(o.contains("why") && o.at("why").is_array(), "null claim without why: " << line);
                for (const auto& w : o.at("why").as_array()) {
                    ++counts.why_entries;
                    const json::object& e = w.as_object();
                    BOOST_TEST(e.at("job_id").is_string());
                    BOOST_TEST(rules.count(std::string(e.at("rule").as_string())) == 1u, "rule named: " << line);
                    BOOST_TEST(!e.at("detail").as_string().empty(), "detail given: " << line);
                }
            }
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(replay_explain_names_a_rule_for_every_job_of_every_null_claim) {
    case_counts counts;
    check_cases(fs::path(JOBROUTER_FIXTURES_DIR) / "matching-cases", counts);
    BOOST_TEST(counts.cases >= 40u);
    BOOST_TEST(counts.null_claims > 0u);
    BOOST_TEST(counts.why_entries > 0u);
    const fs::path shared = fs::path(JOBROUTER_SHARED_DIR) / "fixtures" / "matching-cases";
    if (fs::exists(shared)) {
        case_counts shared_counts;
        check_cases(shared, shared_counts);
        BOOST_TEST(shared_counts.cases >= 40u);
    }
}

// A null claim lists every one of the first 10 pending jobs (the worker matches none of them),
// and explain_job agrees with it on the rule, worker by worker.
BOOST_AUTO_TEST_CASE(explain_claim_and_explain_job_agree) {
    fixture f;
    f.add_worker(R"({"worker_id":"w1","job_types":["x"],"hardware":{"gpu_memory_gb":16},"workflow_id":""})");
    f.submit(R"({"id":"a","service_required":"x","requirements":{"hardware":{"gpu_memory_gb":24}}})");
    f.submit(R"({"id":"b","service_required":"y"})");
    f.submit(R"({"id":"c","service_required":"x","requirements":{"tier":"gold"}})");
    BOOST_TEST(!f.s.claim("w1").value());
    auto claim_why = f.s.explain_claim("w1").value();
    BOOST_REQUIRE_EQUAL(claim_why.size(), 3u);
    for (const auto& e : claim_why) {
        auto job_why = f.explain(e.j->id);
        BOOST_REQUIRE_EQUAL(job_why.workers.size(), 1u);
        BOOST_REQUIRE(job_why.workers[0].why);
        BOOST_TEST(job_why.workers[0].why->rule == e.why.rule);
        BOOST_TEST(job_why.workers[0].why->detail == e.why.detail);
    }
}
