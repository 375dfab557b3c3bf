#define BOOST_TEST_MODULE matcher
#include "core/matcher.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The requirement rules of matching.md section 3 (R1..R4, compare, check) and the deliberate
// differences D2, D4, D5, D8, D9 of section 4. D1 and D6 belong to the job index and scheduler,
// D3 and D7 to submission validation (job_test).

using namespace jobrouter;

namespace {

using strings = std::vector<std::string>;

const strings kOffersSim{"sim"};  // what the workers below offer, unless a test says otherwise

json::value j(std::string_view text) {
    auto v = parse_strict(text);
    BOOST_REQUIRE_MESSAGE(v.has_value(), "bad test JSON: " << text);
    return *v;
}

// A job class for service "sim" (unless told otherwise), built without submission validation.
job_class cls(std::string_view requirements = "{}", std::string customer = "", std::string workflow = "",
              std::string service = "sim") {
    json::value r = j(requirements);
    BOOST_REQUIRE(r.is_object());
    return make_job_class(std::move(service), std::move(customer), std::move(workflow), r.get_object());
}

// A worker from its capabilities object; "worker_id":"w" is added when absent.
worker_capabilities caps(std::string_view text) {
    json::value v = j(text);
    BOOST_REQUIRE(v.is_object());
    if (!v.get_object().contains("worker_id")) v.get_object()["worker_id"] = "w";
    static const service_mapping no_mapping;
    auto w = parse_worker(v, no_mapping);
    BOOST_REQUIRE_MESSAGE(w.has_value(), "refused: " << text << " -> " << w.error().text());
    return *w;
}

// The first failing rule ("R1".."R4"), or "match". Also checks that the answer does not depend
// on with_detail, that a detail is given exactly when asked for, and that passes_requirements
// (every rule but R2) agrees.
std::string outcome(const job_class& c, const worker_capabilities& w, const strings& offered = kOffersSim) {
    const auto with = find_rejection(c, w, offered, true);
    const auto without = find_rejection(c, w, offered, false);
    BOOST_TEST(with.has_value() == without.has_value());
    if (with && without) {
        BOOST_TEST(std::string(with->rule) == std::string(without->rule));
        BOOST_TEST(!with->detail.empty(), "empty detail for " << with->rule);
        BOOST_TEST(without->detail.empty());
    }
    const std::string rule = with ? std::string(with->rule) : "match";
    if (rule != "R2") BOOST_TEST(passes_requirements(c, w) == (rule == "match"), "passes_requirements disagrees: " << rule);
    return rule;
}

std::string detail(const job_class& c, const worker_capabilities& w, const strings& offered = kOffersSim) {
    const auto r = find_rejection(c, w, offered, true);
    BOOST_REQUIRE_MESSAGE(r.has_value(), "the worker matches");
    return r->detail;
}

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// compare(worker_value, required); `cmp_missing` passes a missing worker value.
bool cmp(std::string_view worker_value, std::string_view required) {
    const json::value w = j(worker_value);
    return compare(&w, j(required));
}
bool cmp_missing(std::string_view required) { return compare(nullptr, j(required)); }

// check(worker, key, required)
bool chk(std::string_view worker, std::string_view key, std::string_view required) {
    return check(j(worker), key, j(required));
}

}  // namespace

// ---- R1 workflow restriction ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(r1_worker_with_workflow_takes_only_that_workflow) {
    const worker_capabilities w = caps(R"({"workflow_id":"wf1"})");
    BOOST_TEST(outcome(cls("{}", "", "wf1"), w) == "match");
    BOOST_TEST(outcome(cls("{}", "", "wf2"), w) == "R1");
    BOOST_TEST(outcome(cls("{}", "", "WF1"), w) == "R1");
    BOOST_TEST(outcome(cls("{}", "", ""), w) == "R1");
    BOOST_TEST(has(detail(cls("{}", "", "wf2"), w), "wf1"));
}

BOOST_AUTO_TEST_CASE(r1_worker_without_workflow_takes_any_job) {
    for (std::string_view text : {R"({})", R"({"workflow_id":""})"}) {
        BOOST_TEST_CONTEXT(text) {
            const worker_capabilities w = caps(text);
            BOOST_TEST(outcome(cls("{}", "", "wf1"), w) == "match");
            BOOST_TEST(outcome(cls("{}", "", ""), w) == "match");
        }
    }
}

// ---- R2 service --------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(r2_offered_keys_exact_and_case_sensitive) {
    const worker_capabilities w = caps("{}");
    BOOST_TEST(outcome(cls("{}", "", "", "sim"), w, {"other", "sim"}) == "match");
    for (std::string service : {"Sim", "SIM", "sim ", " sim", "si", "simulation", "sim.x"}) {
        BOOST_TEST_CONTEXT(service) { BOOST_TEST(outcome(cls("{}", "", "", service), w, {"sim"}) == "R2"); }
    }
    BOOST_TEST(outcome(cls("{}"), w, {}) == "R2");
    BOOST_TEST(has(detail(cls("{}", "", "", "comfyui"), w, {"sim"}), "comfyui"));

    BOOST_TEST(offers(kOffersSim, "sim"));
    BOOST_TEST(!offers(kOffersSim, "Sim"));
    BOOST_TEST(!offers(strings{}, "sim"));
}

BOOST_AUTO_TEST_CASE(r2_not_part_of_passes_requirements) {
    // The index picks buckets by service_required; passes_requirements checks the rest.
    BOOST_TEST(passes_requirements(cls("{}", "", "", "elsewhere"), caps("{}")));
}

// ---- R3a hardware --------------------------------------------------------------------------------------

namespace {

void check_hardware_at_least(const std::string& key) {
    const job_class c = cls(R"({"hardware":{")" + key + R"(":16}})");
    auto worker_with = [&](std::string_view value) { return caps(R"({"hardware":{")" + key + "\":" + std::string(value) + "}}"); };
    BOOST_TEST(outcome(c, worker_with("24")) == "match");
    BOOST_TEST(outcome(c, worker_with("16")) == "match");    // equal passes
    BOOST_TEST(outcome(c, worker_with("16.0")) == "match");  // doubles
    BOOST_TEST(outcome(c, worker_with("16.5")) == "match");
    BOOST_TEST(outcome(c, worker_with("15.99")) == "R3a");   // less fails
    BOOST_TEST(outcome(c, worker_with("0")) == "R3a");
    BOOST_TEST(outcome(c, worker_with("\"24\"")) == "R3a");  // not a number
    BOOST_TEST(outcome(c, worker_with("true")) == "R3a");
    BOOST_TEST(outcome(c, worker_with("null")) == "R3a");
    BOOST_TEST(outcome(c, worker_with("[24]")) == "R3a");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"other":24}})")) == "R3a");  // missing key
    BOOST_TEST(outcome(c, caps(R"({})")) == "R3a");                          // no hardware
    BOOST_TEST(outcome(c, caps(R"({"hardware":"lots"})")) == "R3a");         // hardware not an object
    BOOST_TEST(outcome(c, caps(R"({")" + key + R"(":24})")) == "R3a");       // only under hardware
    BOOST_TEST(outcome(cls(R"({"hardware":{")" + key + R"(":16.5}})"), worker_with("16")) == "R3a");
}

}  // namespace

BOOST_AUTO_TEST_CASE(r3a_gpu_memory_gb_at_least) { check_hardware_at_least("gpu_memory_gb"); }
BOOST_AUTO_TEST_CASE(r3a_cpu_cores_at_least) { check_hardware_at_least("cpu_cores"); }
BOOST_AUTO_TEST_CASE(r3a_ram_gb_at_least) { check_hardware_at_least("ram_gb"); }

BOOST_AUTO_TEST_CASE(r3a_all_is_no_constraint) {
    const job_class c = cls(R"({"hardware":{"gpu_memory_gb":"all","cpu_cores":"all","ram_gb":"all"}})");
    BOOST_TEST(outcome(c, caps("{}")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"gpu_memory_gb":0,"cpu_cores":"x"}})")) == "match");
}

BOOST_AUTO_TEST_CASE(r3a_every_limit_must_pass) {
    const job_class c = cls(R"({"hardware":{"gpu_memory_gb":16,"cpu_cores":8,"ram_gb":32}})");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"gpu_memory_gb":16,"cpu_cores":8,"ram_gb":32}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"gpu_memory_gb":16,"cpu_cores":8,"ram_gb":31}})")) == "R3a");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"gpu_memory_gb":16,"ram_gb":32}})")) == "R3a");
}

BOOST_AUTO_TEST_CASE(r3a_other_hardware_keys_ignored) {
    const job_class c = cls(R"({"hardware":{"gpu_model":"A100","gpus":4,"cuda":true,"vram":null}})");
    BOOST_TEST(outcome(c, caps("{}")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"gpu_model":"T4","gpus":1,"cuda":false}})")) == "match");
}

BOOST_AUTO_TEST_CASE(r3a_non_numeric_requirement_does_not_match) {
    // matching.md R3a: a limit that is present and not "all" needs a worker number >= a required
    // number; D3: a string requirement simply does not match (and never raises an error).
    // Submission rejects such jobs, but a job written by someone else may carry one.
    const worker_capabilities w = caps(R"({"hardware":{"gpu_memory_gb":24}})");
    BOOST_TEST(outcome(cls(R"({"hardware":{"gpu_memory_gb":"16"}})"), w) == "R3a");
    BOOST_TEST(outcome(cls(R"({"hardware":{"gpu_memory_gb":"ALL"}})"), w) == "R3a");
    BOOST_TEST(outcome(cls(R"({"hardware":{"gpu_memory_gb":true}})"), w) == "R3a");
}

BOOST_AUTO_TEST_CASE(r3a_detail_mentions_the_values) {
    const std::string d = detail(cls(R"({"hardware":{"gpu_memory_gb":24}})"), caps(R"({"hardware":{"gpu_memory_gb":16}})"));
    BOOST_TEST(has(d, "gpu_memory_gb"), d);
    BOOST_TEST(has(d, "24"), d);
    BOOST_TEST(has(d, "16"), d);
    // Deterministic.
    BOOST_TEST(d == detail(cls(R"({"hardware":{"gpu_memory_gb":24}})"), caps(R"({"hardware":{"gpu_memory_gb":16}})")));
}

// ---- R3b customer isolation --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(r3b_strict_needs_a_strict_worker) {
    const job_class c = cls(R"({"customer_isolation":"strict"})", "c1");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"isolation":"strict"}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"isolation":"loose"}})")) == "R3b");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"isolation":"none"}})")) == "R3b");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"isolation":"STRICT"}})")) == "R3b");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"isolation":true}})")) == "R3b");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{}})")) == "R3b");
    BOOST_TEST(outcome(c, caps(R"({})")) == "R3b");
    BOOST_TEST(outcome(c, caps(R"({"isolation":"strict"})")) == "R3b");
    // Also without a customer on the job.
    BOOST_TEST(outcome(cls(R"({"customer_isolation":"strict"})"), caps("{}")) == "R3b");
}

BOOST_AUTO_TEST_CASE(r3b_only_the_exact_string_strict_constrains) {
    const worker_capabilities w = caps(R"({"customer_access":{"isolation":"loose"}})");
    for (std::string_view v : {R"("STRICT")", R"("Strict")", "true", R"("loose")", R"("none")", "null", "1", R"(["strict"])",
                               R"({"isolation":"strict"})"}) {
        BOOST_TEST_CONTEXT(v) { BOOST_TEST(outcome(cls(R"({"customer_isolation":)" + std::string(v) + "}", "c1"), w) == "match"); }
    }
}

BOOST_AUTO_TEST_CASE(r3b_customer_access_not_an_object_counts_as_absent) {
    const job_class c = cls(R"({"customer_isolation":"strict"})", "c1");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":"strict"})")) == "R3b");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":[{"isolation":"strict"}]})")) == "R3b");
}

// ---- R3c customer lists ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(r3c_allowed_customers) {
    const job_class c = cls("{}", "c1");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"allowed_customers":["c1","c2"]}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"allowed_customers":["c2"]}})")) == "R3c");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"allowed_customers":[]}})")) == "R3c");  // admits nobody
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"allowed_customers":["C1"]}})")) == "R3c");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"allowed_customers":[["c1"]]}})")) == "R3c");
    BOOST_TEST(outcome(cls("{}", "1"), caps(R"({"customer_access":{"allowed_customers":[1]}})")) == "R3c");  // exact strings
    BOOST_TEST(has(detail(c, caps(R"({"customer_access":{"allowed_customers":["c2"]}})")), "c1"));
}

BOOST_AUTO_TEST_CASE(r3c_denied_customers) {
    const job_class c = cls("{}", "c1");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"denied_customers":["c0","c1"]}})")) == "R3c");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"denied_customers":["c2"]}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"denied_customers":[]}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"allowed_customers":["c1"],"denied_customers":["c1"]}})")) == "R3c");
    BOOST_TEST(has(detail(c, caps(R"({"customer_access":{"denied_customers":["c1"]}})")), "c1"));
}

BOOST_AUTO_TEST_CASE(r3c_only_when_the_job_has_a_customer) {
    const job_class c = cls("{}", "");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"allowed_customers":[]}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":{"allowed_customers":["c2"],"denied_customers":[""]}})")) == "match");
}

BOOST_AUTO_TEST_CASE(r3c_non_array_lists_ignored) {
    const job_class c = cls("{}", "c1");
    for (std::string_view v : {R"("c2")", R"("c1")", "null", R"({"c2":true})", "0"}) {
        BOOST_TEST_CONTEXT(v) {
            BOOST_TEST(outcome(c, caps(R"({"customer_access":{"allowed_customers":)" + std::string(v) + "}}")) == "match");
            BOOST_TEST(outcome(c, caps(R"({"customer_access":{"denied_customers":)" + std::string(v) + "}}")) == "match");
        }
    }
}

BOOST_AUTO_TEST_CASE(r3c_customer_access_not_an_object_counts_as_absent) {
    const job_class c = cls("{}", "c1");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":"none"})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"customer_access":[{"allowed_customers":[]}]})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"allowed_customers":[]})")) == "match");  // only under customer_access
}

BOOST_AUTO_TEST_CASE(d4_customer_lists_checked_without_customer_isolation) {
    // EMP checks the lists only when the job sets customer_isolation; here whenever it has a customer.
    for (std::string_view req : {"{}", R"({"customer_isolation":"loose"})", R"({"customer_isolation":"none"})"}) {
        BOOST_TEST_CONTEXT(req) {
            BOOST_TEST(outcome(cls(req, "c1"), caps(R"({"customer_access":{"denied_customers":["c1"]}})")) == "R3c");
            BOOST_TEST(outcome(cls(req, "c1"), caps(R"({"customer_access":{"allowed_customers":["c2"]}})")) == "R3c");
            BOOST_TEST(outcome(cls(req, "c1"), caps(R"({"customer_access":{"allowed_customers":["c1"]}})")) == "match");
        }
    }
}

// ---- R3d models --------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(r3d_models_keyed_by_service_required_all_present) {
    const job_class c = cls(R"({"models":["m1","m2"]})");
    BOOST_TEST(outcome(c, caps(R"({"models":{"sim":["m3","m2","m1"]}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"models":{"sim":["m1"]}})")) == "R3d");
    BOOST_TEST(outcome(c, caps(R"({"models":{"other":["m1","m2"]}})")) == "R3d");  // keyed by service
    BOOST_TEST(outcome(c, caps(R"({"models":{"sim":["M1","m2"]}})")) == "R3d");
    BOOST_TEST(outcome(cls(R"({"models":["m1"]})", "", "", "comfyui"), caps(R"({"models":{"sim":["m1"],"comfyui":["m1"]}})"),
                       {"comfyui"}) == "match");
    BOOST_TEST(has(detail(c, caps(R"({"models":{"sim":["m1"]}})")), "m2"));
}

BOOST_AUTO_TEST_CASE(r3d_missing_models_or_entry_counts_as_empty) {
    const job_class none = cls(R"({"models":[]})");
    BOOST_TEST(outcome(none, caps("{}")) == "match");
    BOOST_TEST(outcome(none, caps(R"({"models":{}})")) == "match");
    BOOST_TEST(outcome(none, caps(R"({"models":{"sim":[]}})")) == "match");
    const job_class one = cls(R"({"models":["m1"]})");
    BOOST_TEST(outcome(one, caps("{}")) == "R3d");
    BOOST_TEST(outcome(one, caps(R"({"models":{}})")) == "R3d");
    BOOST_TEST(outcome(one, caps(R"({"models":{"sim":[]}})")) == "R3d");
    BOOST_TEST(outcome(one, caps(R"({"models":["m1"]})")) == "R3d");  // models not an object: no entry
}

BOOST_AUTO_TEST_CASE(r3d_non_array_requirement_places_no_constraint) {
    for (std::string_view v : {R"("all")", R"("m1")", R"({"sim":["m1"]})", "null", "5", "true"}) {
        BOOST_TEST_CONTEXT(v) { BOOST_TEST(outcome(cls(R"({"models":)" + std::string(v) + "}"), caps("{}")) == "match"); }
    }
}

BOOST_AUTO_TEST_CASE(r3d_non_array_entry_matches_no_list) {
    const job_class c = cls(R"({"models":["m1"]})");
    BOOST_TEST(outcome(c, caps(R"({"models":{"sim":"m1"}})")) == "R3d");
    BOOST_TEST(outcome(c, caps(R"({"models":{"sim":{"m1":true}}})")) == "R3d");
    BOOST_TEST(outcome(c, caps(R"({"models":{"sim":"all"}})")) == "R3d");
}

// ---- R3e custom capabilities ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(r3e_plain_key_uses_compare) {
    const job_class c = cls(R"({"region":"eu"})");
    BOOST_TEST(outcome(c, caps(R"({"region":"eu"})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"region":"us"})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"region":"EU"})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"region":["us","eu"]})")) == "match");
    const std::string d = detail(c, caps(R"({"region":"us"})"));
    BOOST_TEST(has(d, "region"), d);
    BOOST_TEST(has(d, "eu"), d);
    BOOST_TEST(has(d, "us"), d);
}

BOOST_AUTO_TEST_CASE(r3e_dotted_paths) {
    const job_class c = cls(R"({"location.region":"eu"})");
    BOOST_TEST(outcome(c, caps(R"({"location":{"region":"eu"}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"location":{"region":"us"}})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"location":"eu"})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"location.region":"eu"})")) == "R3e");  // the path is split, never a literal key
    BOOST_TEST(chk(R"({"a":{"b":{"c":{"d":7}}}})", "a.b.c.d", "7"));
    BOOST_TEST(!chk(R"({"a":{"b":{"c":{"d":7}}}})", "a.b.c.d", "8"));
    BOOST_TEST(!chk(R"({"a":{"b":{"c":{"d":7}}}})", "a.b.x.d", "7"));
}

BOOST_AUTO_TEST_CASE(r3e_empty_segments_dropped) {
    const char* w = R"({"location":{"region":"eu"},"tier":"gold"})";
    for (std::string_view key : {"location..region", ".location.region", "location.region.", "..location...region.."}) {
        BOOST_TEST_CONTEXT(key) { BOOST_TEST(chk(w, key, R"("eu")")); }
    }
    // "" (or only dots) is the whole worker.
    BOOST_TEST(chk(w, "", R"({"tier":"gold"})"));
    BOOST_TEST(chk(w, "...", R"({"location":{"region":"eu"}})"));
    BOOST_TEST(!chk(w, "", R"({"tier":"silver"})"));
    BOOST_TEST(outcome(cls(R"({"":{"tier":"gold"}})"), caps(w)) == "match");
    BOOST_TEST(outcome(cls(R"({"":{"tier":"silver"}})"), caps(w)) == "R3e");
}

BOOST_AUTO_TEST_CASE(r3e_arrays_never_indexed) {
    const char* w = R"({"gpus":[{"model":"a100"}],"list":["x","y"]})";
    BOOST_TEST(!chk(w, "gpus.0.model", R"("a100")"));
    BOOST_TEST(!chk(w, "gpus.0", R"({"model":"a100"})"));
    BOOST_TEST(!chk(w, "list.1", R"("y")"));
    BOOST_TEST(!chk(w, "gpus.model", R"("a100")"));
    BOOST_TEST(outcome(cls(R"({"gpus.0.model":"a100"})"), caps(w)) == "R3e");
}

BOOST_AUTO_TEST_CASE(r3e_required_object_needs_an_object_and_recurses) {
    const job_class c = cls(R"({"location":{"region":"eu","zone":2}})");
    BOOST_TEST(outcome(c, caps(R"({"location":{"region":"eu","zone":3,"extra":true}})")) == "match");  // numbers at least
    BOOST_TEST(outcome(c, caps(R"({"location":{"region":"eu","zone":1}})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"location":{"region":"eu"}})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"location":"eu"})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"location":[{"region":"eu","zone":2}]})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({})")) == "R3e");
}

BOOST_AUTO_TEST_CASE(d5_nested_objects_compared_at_any_depth) {
    const job_class c = cls(R"({"a":{"b":{"c":{"d":{"e":"x","n":4}}}}})");
    BOOST_TEST(outcome(c, caps(R"({"a":{"b":{"c":{"d":{"e":"x","n":8,"f":1}}}}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"a":{"b":{"c":{"d":{"e":"y","n":8}}}}})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"a":{"b":{"c":{"d":{"e":"x","n":3}}}}})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"a":{"b":{"c":{"d":"x"}}}})")) == "R3e");
    BOOST_TEST(outcome(cls(R"({"p.q":{"r":{"s":["t"]}}})"), caps(R"({"p":{"q":{"r":{"s":["u","t"]}}}})")) == "match");
}

BOOST_AUTO_TEST_CASE(r3e_sub_keys_are_literal_not_dotted) {
    const job_class c = cls(R"({"location":{"geo.region":"eu"}})");
    BOOST_TEST(outcome(c, caps(R"({"location":{"geo.region":"eu"}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"location":{"geo":{"region":"eu"}}})")) == "R3e");
    BOOST_TEST(!chk(R"({"a":{"":{"b":1}}})", "a", R"({"b":1})"));
    BOOST_TEST(chk(R"({"a":{"":1}})", "a", R"({"":1})"));
}

BOOST_AUTO_TEST_CASE(r3e_all_is_an_ordinary_string) {
    const job_class c = cls(R"({"region":"all","location":{"zone":"all"}})");
    BOOST_TEST(outcome(c, caps(R"({"region":"eu","location":{"zone":"z1"}})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"region":"all","location":{"zone":"all"}})")) == "match");
}

BOOST_AUTO_TEST_CASE(r3e_reports_first_failing_key_in_document_order) {
    const job_class c = cls(R"({"zeta":1,"alpha":1,"mid":1})");
    const std::string d1 = detail(c, caps("{}"));
    BOOST_TEST(has(d1, "zeta"), d1);
    BOOST_TEST(!has(d1, "alpha"), d1);
    const std::string d2 = detail(c, caps(R"({"zeta":1})"));
    BOOST_TEST(has(d2, "alpha"), d2);
    const std::string d3 = detail(c, caps(R"({"zeta":1,"alpha":1})"));
    BOOST_TEST(has(d3, "mid"), d3);
    BOOST_TEST(outcome(c, caps(R"({"zeta":1,"alpha":1,"mid":1})")) == "match");
}

BOOST_AUTO_TEST_CASE(service_type_ignored) {
    BOOST_TEST(outcome(cls(R"({"service_type":"gpu"})"), caps("{}")) == "match");
    BOOST_TEST(outcome(cls(R"({"service_type":{"x":1}})"), caps(R"({"service_type":"cpu"})")) == "match");
    BOOST_TEST(outcome(cls(R"({"positive_requirements":{"service_type":"gpu"}})"), caps("{}")) == "match");
}

BOOST_AUTO_TEST_CASE(r3e_skips_the_keys_of_other_rules) {
    // hardware, customer_isolation and models are handled by R3a, R3b and R3d, never as custom keys.
    const job_class c = cls(R"({"hardware":{"gpu_model":"A100"},"customer_isolation":"loose","models":"all"})");
    BOOST_TEST(outcome(c, caps("{}")) == "match");
}

// ---- compare: one case per row of the table ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(compare_row1_missing_worker_value_is_false) {
    for (std::string_view req : {"null", "0", "false", R"("")", "[]", "{}", R"("all")"}) {
        BOOST_TEST_CONTEXT(req) { BOOST_TEST(!cmp_missing(req)); }
    }
    // null is a value, not missing.
    BOOST_TEST(cmp("null", "null"));
    BOOST_TEST(!cmp("null", "false"));
    BOOST_TEST(outcome(cls(R"({"x":null})"), caps(R"({"x":null})")) == "match");
    BOOST_TEST(outcome(cls(R"({"x":null})"), caps(R"({})")) == "R3e");
    BOOST_TEST(outcome(cls(R"({"x":null})"), caps(R"({"x":0})")) == "R3e");
}

BOOST_AUTO_TEST_CASE(compare_row2_required_array_needs_worker_array_with_every_item) {
    BOOST_TEST(cmp("[1,2,3]", "[3,1]"));
    BOOST_TEST(cmp(R"(["a","b"])", R"(["a","b"])"));
    BOOST_TEST(!cmp(R"(["a"])", R"(["a","b"])"));
    BOOST_TEST(cmp("[16.0]", "[16]"));     // items by deep equality
    BOOST_TEST(!cmp("[24]", "[16]"));      // equality, not "at least"
    BOOST_TEST(!cmp(R"("a")", R"(["a"])")); // worker not an array
    BOOST_TEST(!cmp(R"({"a":1})", R"(["a"])"));
    // The empty array included: any array passes, anything else fails.
    BOOST_TEST(cmp("[]", "[]"));
    BOOST_TEST(cmp("[1]", "[]"));
    BOOST_TEST(!cmp("{}", "[]"));
    BOOST_TEST(!cmp(R"("")", "[]"));
    BOOST_TEST(!cmp("null", "[]"));
    BOOST_TEST(outcome(cls(R"({"tags":["gpu","fast"]})"), caps(R"({"tags":["fast","gpu","eu"]})")) == "match");
    BOOST_TEST(outcome(cls(R"({"tags":["gpu","fast"]})"), caps(R"({"tags":["gpu"]})")) == "R3e");
}

BOOST_AUTO_TEST_CASE(compare_row3_worker_array_scalar_required_contains) {
    BOOST_TEST(cmp(R"(["a","b"])", R"("a")"));
    BOOST_TEST(!cmp(R"(["a","b"])", R"("c")"));
    BOOST_TEST(cmp("[16,32]", "16.0"));
    BOOST_TEST(!cmp("[16,32]", "20"));     // contains, not "at least"
    BOOST_TEST(cmp("[true]", "true"));
    BOOST_TEST(!cmp("[1]", "true"));
    BOOST_TEST(!cmp("[true]", "1"));
    BOOST_TEST(cmp("[null]", "null"));
    BOOST_TEST(!cmp("[]", R"("a")"));
    BOOST_TEST(!cmp("[]", "null"));
    BOOST_TEST(outcome(cls(R"({"tags":"gpu"})"), caps(R"({"tags":["cpu","gpu"]})")) == "match");
}

BOOST_AUTO_TEST_CASE(compare_row4_required_number_at_least) {
    BOOST_TEST(cmp("24", "16"));
    BOOST_TEST(cmp("16", "16"));
    BOOST_TEST(cmp("16.0", "16"));
    BOOST_TEST(cmp("16", "16.0"));
    BOOST_TEST(cmp("-1", "-2"));
    BOOST_TEST(cmp("18446744073709551615", "9223372036854775807"));
    BOOST_TEST(!cmp("15.9", "16"));
    BOOST_TEST(!cmp(R"("24")", "16"));
    BOOST_TEST(!cmp("true", "1"));
    BOOST_TEST(!cmp("null", "0"));
    BOOST_TEST(!cmp("{}", "0"));
}

BOOST_AUTO_TEST_CASE(compare_row5_otherwise_equality_of_value_and_type) {
    BOOST_TEST(cmp(R"("a")", R"("a")"));
    BOOST_TEST(!cmp(R"("a")", R"("A")"));
    BOOST_TEST(!cmp("16", R"("16")"));  // string "16" != number 16
    BOOST_TEST(cmp("true", "true"));
    BOOST_TEST(!cmp("false", "true"));
    BOOST_TEST(!cmp("1", "true"));     // true != 1
    BOOST_TEST(cmp("false", "false"));
    BOOST_TEST(!cmp("0", "false"));
    BOOST_TEST(!cmp("null", "false"));
    BOOST_TEST(!cmp("false", "null"));
    BOOST_TEST(cmp(R"({"a":1})", R"({"a":1.0})"));  // an object compared directly: deep equality
    BOOST_TEST(!cmp(R"({"a":1,"b":2})", R"({"a":1})"));
    BOOST_TEST(!cmp(R"([{"a":1}])", R"({"a":1})"));  // an object is not a scalar: no "contains"
    BOOST_TEST(outcome(cls(R"({"gpu":"16"})"), caps(R"({"gpu":16})")) == "R3e");
    BOOST_TEST(outcome(cls(R"({"cuda":true})"), caps(R"({"cuda":1})")) == "R3e");
}

BOOST_AUTO_TEST_CASE(d8_deep_equality_inside_arrays) {
    BOOST_TEST(cmp(R"([["a","b"],["c"]])", R"([["a","b"]])"));
    BOOST_TEST(!cmp(R"([["b","a"],["c"]])", R"([["a","b"]])"));
    BOOST_TEST(cmp(R"([{"k":1.0},{"k":2}])", R"([{"k":1}])"));
    BOOST_TEST(cmp(R"([["a","b"],["c"]])", R"(["c"])") == false);  // ["c"] asks for the string "c"
    BOOST_TEST(outcome(cls(R"({"pairs":[["a","b"]]})"), caps(R"({"pairs":[["a","b"],["c"]]})")) == "match");
    BOOST_TEST(outcome(cls(R"({"pairs":[["a","b"]]})"), caps(R"({"pairs":[["a"],["b"]]})")) == "R3e");
    BOOST_TEST(outcome(cls(R"({"models":[{"name":"sd","v":2}]})"), caps(R"({"models":{"sim":[{"v":2.0,"name":"sd"}]}})")) ==
               "match");
}

BOOST_AUTO_TEST_CASE(d9_empty_array_and_empty_object_kept_apart) {
    // A required [] needs an array.
    BOOST_TEST(outcome(cls(R"({"tags":[]})"), caps(R"({"tags":[]})")) == "match");
    BOOST_TEST(outcome(cls(R"({"tags":[]})"), caps(R"({"tags":["x"]})")) == "match");
    BOOST_TEST(outcome(cls(R"({"tags":[]})"), caps(R"({"tags":{}})")) == "R3e");
    BOOST_TEST(outcome(cls(R"({"tags":[]})"), caps(R"({"tags":"x"})")) == "R3e");
    BOOST_TEST(outcome(cls(R"({"tags":[]})"), caps(R"({})")) == "R3e");
    // A required {} needs an object.
    BOOST_TEST(outcome(cls(R"({"meta":{}})"), caps(R"({"meta":{}})")) == "match");
    BOOST_TEST(outcome(cls(R"({"meta":{}})"), caps(R"({"meta":{"k":1}})")) == "match");
    BOOST_TEST(outcome(cls(R"({"meta":{}})"), caps(R"({"meta":[]})")) == "R3e");
    BOOST_TEST(outcome(cls(R"({"meta":{}})"), caps(R"({"meta":null})")) == "R3e");
    BOOST_TEST(outcome(cls(R"({"meta":{}})"), caps(R"({})")) == "R3e");
    BOOST_TEST(!cmp("[]", "{}"));
    BOOST_TEST(!cmp("{}", "[]"));
    BOOST_TEST(!chk(R"({"m":[]})", "m", "{}"));
    BOOST_TEST(!chk(R"({"m":{}})", "m", "[]"));
}

// ---- R4 negative requirements ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(r4_negative_hardware_rejects_worker_with_at_least) {
    const job_class c = cls(R"({"negative_requirements":{"hardware":{"gpu_memory_gb":16}}})");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"gpu_memory_gb":24}})")) == "R4");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"gpu_memory_gb":16.0}})")) == "R4");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"gpu_memory_gb":8}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"gpu_memory_gb":"24"}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{"ram_gb":64}})")) == "match");
    const std::string d = detail(c, caps(R"({"hardware":{"gpu_memory_gb":24}})"));
    BOOST_TEST(has(d, "gpu_memory_gb"), d);
    BOOST_TEST(has(d, "24"), d);
    BOOST_TEST(has(d, "16"), d);
}

BOOST_AUTO_TEST_CASE(r4_negative_hardware_false_or_null_never_rejects) {
    BOOST_TEST(outcome(cls(R"({"negative_requirements":{"hardware":{"cuda":true}}})"), caps(R"({"hardware":{"cuda":true}})")) ==
               "R4");
    BOOST_TEST(outcome(cls(R"({"negative_requirements":{"hardware":{"cuda":true}}})"), caps(R"({"hardware":{"cuda":false}})")) ==
               "match");
    // Even when compare would say yes.
    BOOST_TEST(outcome(cls(R"({"negative_requirements":{"hardware":{"cuda":false}}})"), caps(R"({"hardware":{"cuda":false}})")) ==
               "match");
    BOOST_TEST(outcome(cls(R"({"negative_requirements":{"hardware":{"cuda":null}}})"), caps(R"({"hardware":{"cuda":null}})")) ==
               "match");
}

BOOST_AUTO_TEST_CASE(r4_negative_hardware_any_sub_key_and_all_is_ordinary) {
    const job_class model = cls(R"({"negative_requirements":{"hardware":{"gpu_model":"T4"}}})");
    BOOST_TEST(outcome(model, caps(R"({"hardware":{"gpu_model":"T4"}})")) == "R4");
    BOOST_TEST(outcome(model, caps(R"({"hardware":{"gpu_model":["A100","T4"]}})")) == "R4");
    BOOST_TEST(outcome(model, caps(R"({"hardware":{"gpu_model":"A100"}})")) == "match");
    const job_class all = cls(R"({"negative_requirements":{"hardware":{"gpu_memory_gb":"all"}}})");
    BOOST_TEST(outcome(all, caps(R"({"hardware":{"gpu_memory_gb":24}})")) == "match");
    BOOST_TEST(outcome(all, caps(R"({"hardware":{"gpu_memory_gb":"all"}})")) == "R4");
}

BOOST_AUTO_TEST_CASE(r4_worker_without_hardware_object_never_rejected_by_hardware) {
    const job_class c = cls(R"({"negative_requirements":{"hardware":{"gpu_memory_gb":0,"cuda":true}}})");
    BOOST_TEST(outcome(c, caps("{}")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"hardware":"big"})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"hardware":[{"cuda":true}]})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"hardware":{}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"gpu_memory_gb":24,"cuda":true})")) == "match");
}

BOOST_AUTO_TEST_CASE(r4_other_keys_reject_when_check_is_true) {
    const job_class region = cls(R"({"negative_requirements":{"region":"cn"}})");
    BOOST_TEST(outcome(region, caps(R"({"region":"cn"})")) == "R4");
    BOOST_TEST(outcome(region, caps(R"({"region":["eu","cn"]})")) == "R4");
    BOOST_TEST(outcome(region, caps(R"({"region":"eu"})")) == "match");
    BOOST_TEST(outcome(region, caps("{}")) == "match");  // check on a missing value is false
    BOOST_TEST(outcome(cls(R"({"negative_requirements":{"location.region":"cn"}})"), caps(R"({"location":{"region":"cn"}})")) ==
               "R4");
    BOOST_TEST(outcome(cls(R"({"negative_requirements":{"location":{"zone":{"id":3}}}})"),
                       caps(R"({"location":{"zone":{"id":5}}})")) == "R4");
    BOOST_TEST(outcome(cls(R"({"negative_requirements":{"location":{"zone":{"id":6}}}})"),
                       caps(R"({"location":{"zone":{"id":5}}})")) == "match");
    BOOST_TEST(outcome(cls(R"({"negative_requirements":{"spot":null}})"), caps(R"({"spot":null})")) == "R4");
    const std::string d = detail(region, caps(R"({"region":"cn"})"));
    BOOST_TEST(has(d, "region"), d);
    BOOST_TEST(has(d, "cn"), d);
}

BOOST_AUTO_TEST_CASE(r4_reports_first_failing_key_in_document_order) {
    const job_class c = cls(R"({"negative_requirements":{"zone_b":1,"zone_a":1}})");
    const std::string d = detail(c, caps(R"({"zone_a":1,"zone_b":1})"));
    BOOST_TEST(has(d, "zone_b"), d);
    BOOST_TEST(!has(d, "zone_a"), d);
}

// ---- positive and negative parts -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(d2_negative_requirements_without_positive_is_never_a_positive_key) {
    const job_class c = cls(R"({"region":"eu","negative_requirements":{"tier":"spot"}})");
    BOOST_TEST(!c.positive.contains("negative_requirements"));
    BOOST_TEST(c.negative.contains("tier"));
    // EMP would look for a worker key "negative_requirements" and never match.
    BOOST_TEST(outcome(c, caps(R"({"region":"eu"})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"region":"eu","tier":"ondemand"})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"region":"eu","tier":"spot"})")) == "R4");
    BOOST_TEST(outcome(cls(R"({"negative_requirements":{}})"), caps("{}")) == "match");
}

BOOST_AUTO_TEST_CASE(positive_requirements_present_other_top_level_keys_ignored) {
    const job_class c = cls(
        R"({"hardware":{"gpu_memory_gb":999},"region":"us","customer_isolation":"strict","models":["m9"],)"
        R"("positive_requirements":{"region":"eu"},"negative_requirements":{"tier":"spot"}})",
        "c1");
    BOOST_TEST(outcome(c, caps(R"({"region":"eu"})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"region":"us"})")) == "R3e");
    BOOST_TEST(outcome(c, caps(R"({"region":"eu","tier":"spot"})")) == "R4");  // negative still applies
}

BOOST_AUTO_TEST_CASE(negative_requirements_inside_positive_is_an_ordinary_custom_key) {
    const job_class c = cls(R"({"positive_requirements":{"negative_requirements":{"region":"cn"}}})");
    BOOST_TEST(c.negative.empty());
    BOOST_TEST(outcome(c, caps(R"({"negative_requirements":{"region":"cn"}})")) == "match");
    BOOST_TEST(outcome(c, caps(R"({"region":"cn"})")) == "R3e");
    BOOST_TEST(outcome(c, caps("{}")) == "R3e");
}

// ---- rule order ----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rule_order_r3a_before_r3e) {
    // region comes first in the document, but R3a is checked before R3e.
    const job_class c = cls(R"({"region":"eu","hardware":{"gpu_memory_gb":16}})");
    BOOST_TEST(outcome(c, caps(R"({"region":"us","hardware":{"gpu_memory_gb":8}})")) == "R3a");
    BOOST_TEST(outcome(c, caps(R"({"region":"us","hardware":{"gpu_memory_gb":16}})")) == "R3e");
}

BOOST_AUTO_TEST_CASE(rule_order_r1_r2_r3a_r3b_r3c_r3d_r3e_r4) {
    const job_class c = cls(
        R"({"negative_requirements":{"tier":"spot"},"region":"eu","models":["m1"],"customer_isolation":"strict",)"
        R"("hardware":{"gpu_memory_gb":16}})",
        "c1", "wf1");
    const strings none;
    BOOST_TEST(outcome(c, caps(R"({"workflow_id":"wf2","tier":"spot"})"), none) == "R1");
    BOOST_TEST(outcome(c, caps(R"({"workflow_id":"wf1","tier":"spot"})"), none) == "R2");
    BOOST_TEST(outcome(c, caps(R"({"workflow_id":"wf1","tier":"spot"})")) == "R3a");
    BOOST_TEST(outcome(c, caps(R"({"workflow_id":"wf1","tier":"spot","hardware":{"gpu_memory_gb":16}})")) == "R3b");
    BOOST_TEST(outcome(c, caps(R"({"workflow_id":"wf1","tier":"spot","hardware":{"gpu_memory_gb":16},)"
                               R"("customer_access":{"isolation":"strict","allowed_customers":[]}})")) == "R3c");
    BOOST_TEST(outcome(c, caps(R"({"workflow_id":"wf1","tier":"spot","hardware":{"gpu_memory_gb":16},)"
                               R"("customer_access":{"isolation":"strict","allowed_customers":["c1"]}})")) == "R3d");
    BOOST_TEST(outcome(c, caps(R"({"workflow_id":"wf1","tier":"spot","hardware":{"gpu_memory_gb":16},)"
                               R"("customer_access":{"isolation":"strict","allowed_customers":["c1"]},"models":{"sim":["m1"]}})")) ==
               "R3e");
    BOOST_TEST(outcome(c, caps(R"({"workflow_id":"wf1","tier":"spot","hardware":{"gpu_memory_gb":16},"region":"eu",)"
                               R"("customer_access":{"isolation":"strict","allowed_customers":["c1"]},"models":{"sim":["m1"]}})")) ==
               "R4");
    BOOST_TEST(outcome(c, caps(R"({"workflow_id":"wf1","tier":"ondemand","hardware":{"gpu_memory_gb":16},"region":"eu",)"
                               R"("customer_access":{"isolation":"strict","allowed_customers":["c1"]},"models":{"sim":["m1"]}})")) ==
               "match");
}

// ---- check and compare never fail ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(wrong_types_simply_do_not_match) {
    const char* w = R"({"a":"x","n":5,"arr":[1],"o":{"k":1},"z":null})";
    for (std::string_view key : {"a", "n", "arr", "o", "z", "missing", "a.b", "n.x", "arr.k", ""}) {
        for (std::string_view req : {"1", R"("x")", "[1]", R"({"k":1})", "null", "true", "[]", "{}"}) {
            BOOST_TEST_CONTEXT(key << " vs " << req) { BOOST_CHECK_NO_THROW(chk(w, key, req)); }
        }
    }
}
