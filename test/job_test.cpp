#define BOOST_TEST_MODULE job
#include "core/job.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

// parse_job_spec: trace-format.md "Job object" and "Types", matching.md D3 and D7.
// job_score: matching.md section 1.

using namespace jobrouter;

namespace {

constexpr std::int64_t k2p42 = std::int64_t{1} << 42;
constexpr std::int64_t kEpoch2020 = 1577836800000;  // 2020-01-01T00:00:00Z in ms

json::value j(std::string_view text) {
    auto v = parse_strict(text);
    BOOST_REQUIRE_MESSAGE(v.has_value(), "bad test JSON: " << text);
    return *v;
}

// A valid job with `extra` fields appended: job_with(R"("priority":3)").
std::string job_with(std::string_view extra) {
    std::string out = R"({"id":"j1","service_required":"sim")";
    if (!extra.empty()) out += "," + std::string(extra);
    return out + "}";
}

result<job_spec> parse(std::string_view text) { return parse_job_spec(j(text)); }

job_spec accepted(std::string_view text) {
    auto r = parse(text);
    BOOST_REQUIRE_MESSAGE(r.has_value(), "rejected: " << text << " -> " << r.error().text());
    return *r;
}

error rejected(std::string_view text) {
    auto r = parse(text);
    BOOST_REQUIRE_MESSAGE(!r.has_value(), "accepted: " << text);
    return r.error();
}

// The job is rejected, the error names `path` (with the "job." prefix) and its text is
// "<path>: <message>" with a message that contains each of `says`.
void check_rejected(std::string_view text, const std::string& path, std::initializer_list<std::string_view> says) {
    BOOST_TEST_CONTEXT(text) {
        const error e = rejected(text);
        BOOST_TEST(e.path == path);
        BOOST_TEST(e.text().rfind(path + ": ", 0) == 0u, e.text());
        BOOST_TEST(!e.message.empty());
        for (auto part : says) BOOST_TEST(e.message.find(part) != std::string::npos, "'" << e.text() << "' lacks '" << part << "'");
    }
}

std::int64_t expected_score(std::int64_t p, std::int64_t offset) { return p * k2p42 + (k2p42 - 1 - offset); }

job_spec spec(std::int64_t priority, std::optional<std::int64_t> workflow_priority = std::nullopt,
              std::optional<std::int64_t> workflow_datetime = std::nullopt) {
    job_spec s;
    s.id = "j";
    s.service_required = "sim";
    s.priority = priority;
    s.workflow_priority = workflow_priority;
    s.workflow_datetime = workflow_datetime;
    return s;
}

}  // namespace

// ---- the job object ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(minimal_job_gets_the_defaults) {
    const job_spec s = accepted(job_with(""));
    BOOST_TEST(s.id == "j1");
    BOOST_TEST(s.service_required == "sim");
    BOOST_TEST(s.priority == 50);
    BOOST_TEST(!s.workflow_priority.has_value());
    BOOST_TEST(!s.workflow_datetime.has_value());
    BOOST_TEST(s.max_retries == 3);
    BOOST_TEST(s.customer_id == "");
    BOOST_TEST(s.workflow_id == "");
    BOOST_TEST(s.requirements.empty());
    BOOST_TEST(s.payload.is_null());
    BOOST_TEST(s.extras.empty());
}

BOOST_AUTO_TEST_CASE(every_documented_field_is_read) {
    const job_spec s = accepted(job_with(
        R"("priority":7,"workflow_priority":9,"workflow_datetime":1700000000000,"max_retries":5,)"
        R"("customer_id":"c1","workflow_id":"wf1","requirements":{"hardware":{"gpu_memory_gb":16}},)"
        R"("payload":{"prompt":"x"})"));
    BOOST_TEST(s.priority == 7);
    BOOST_TEST(s.workflow_priority.value_or(-1) == 9);
    BOOST_TEST(s.workflow_datetime.value_or(-1) == 1700000000000);
    BOOST_TEST(s.max_retries == 5);
    BOOST_TEST(s.customer_id == "c1");
    BOOST_TEST(s.workflow_id == "wf1");
    BOOST_TEST(json_equal(s.requirements, j(R"({"hardware":{"gpu_memory_gb":16}})")));
    BOOST_TEST(json_equal(s.payload, j(R"({"prompt":"x"})")));
    BOOST_TEST(s.extras.empty());
}

BOOST_AUTO_TEST_CASE(job_must_be_an_object) {
    for (std::string_view text : {"[]", "\"j1\"", "null", "1"}) {
        BOOST_TEST_CONTEXT(text) {
            const error e = rejected(text);
            BOOST_TEST(e.path == "job");
            BOOST_TEST(e.message.find("object") != std::string::npos, e.text());
        }
    }
}

BOOST_AUTO_TEST_CASE(path_prefix_is_configurable) {
    auto r = parse_job_spec(j(R"({"service_required":"sim"})"), "body");
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().path == "body.id");
}

// ---- id ---------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(id_missing_rejected) {
    check_rejected(R"({"service_required":"sim"})", "job.id", {"required"});
}

BOOST_AUTO_TEST_CASE(id_empty_rejected) {
    check_rejected(R"({"id":"","service_required":"sim"})", "job.id", {"non-empty"});
}

BOOST_AUTO_TEST_CASE(id_non_string_rejected) {
    check_rejected(R"({"id":7,"service_required":"sim"})", "job.id", {"string", "number 7"});
    check_rejected(R"({"id":null,"service_required":"sim"})", "job.id", {"string", "null"});
    check_rejected(R"({"id":["j1"],"service_required":"sim"})", "job.id", {"string", "array"});
}

// ---- service_required (D7) ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(d7_service_required_missing_rejected_without_job_type_fallback) {
    check_rejected(R"({"id":"j1"})", "job.service_required", {"required"});
    // EMP falls back to job_type; here neither job_type nor type stands in (D7).
    check_rejected(R"({"id":"j1","job_type":"sim"})", "job.service_required", {"required"});
    check_rejected(R"({"id":"j1","type":"sim"})", "job.service_required", {"required"});
}

BOOST_AUTO_TEST_CASE(service_required_empty_rejected) {
    check_rejected(R"({"id":"j1","service_required":""})", "job.service_required", {"non-empty"});
}

BOOST_AUTO_TEST_CASE(service_required_non_string_rejected) {
    check_rejected(R"({"id":"j1","service_required":1})", "job.service_required", {"string", "number 1"});
    check_rejected(R"({"id":"j1","service_required":null})", "job.service_required", {"string", "null"});
    check_rejected(R"({"id":"j1","service_required":{"name":"sim"}})", "job.service_required", {"string", "object"});
}

BOOST_AUTO_TEST_CASE(job_type_is_kept_as_an_extra_field) {
    const job_spec s = accepted(job_with(R"("job_type":"other")"));
    BOOST_TEST(s.service_required == "sim");
    BOOST_REQUIRE(s.extras.contains("job_type"));
    BOOST_TEST(json_equal(s.extras.at("job_type"), j("\"other\"")));
}

// ---- priority and workflow_priority -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(priority_zero_is_a_real_priority) {
    BOOST_TEST(accepted(job_with(R"("priority":0)")).priority == 0);
}

BOOST_AUTO_TEST_CASE(priority_1023_accepted) {
    BOOST_TEST(accepted(job_with(R"("priority":1023)")).priority == 1023);
    BOOST_TEST(accepted(job_with(R"("priority":50)")).priority == 50);
}

BOOST_AUTO_TEST_CASE(priority_out_of_range_or_wrong_type_rejected) {
    check_rejected(job_with(R"("priority":-1)"), "job.priority", {"0..1023", "-1"});
    check_rejected(job_with(R"("priority":1024)"), "job.priority", {"0..1023", "1024"});
    check_rejected(job_with(R"("priority":1.5)"), "job.priority", {"integer", "1.5"});
    check_rejected(job_with(R"("priority":"50")"), "job.priority", {"integer", "string \"50\""});
    check_rejected(job_with(R"("priority":null)"), "job.priority", {"integer", "null"});
    check_rejected(job_with(R"("priority":true)"), "job.priority", {"integer", "boolean true"});
    check_rejected(job_with(R"("priority":18446744073709551615)"), "job.priority", {"integer"});
}

BOOST_AUTO_TEST_CASE(workflow_priority_zero_and_1023_accepted) {
    BOOST_TEST(accepted(job_with(R"("workflow_priority":0)")).workflow_priority.value_or(-1) == 0);
    BOOST_TEST(accepted(job_with(R"("workflow_priority":1023)")).workflow_priority.value_or(-1) == 1023);
}

BOOST_AUTO_TEST_CASE(workflow_priority_out_of_range_or_wrong_type_rejected) {
    check_rejected(job_with(R"("workflow_priority":-1)"), "job.workflow_priority", {"0..1023", "-1"});
    check_rejected(job_with(R"("workflow_priority":1024)"), "job.workflow_priority", {"0..1023", "1024"});
    check_rejected(job_with(R"("workflow_priority":1.5)"), "job.workflow_priority", {"integer", "1.5"});
    check_rejected(job_with(R"("workflow_priority":"50")"), "job.workflow_priority", {"integer", "string \"50\""});
    check_rejected(job_with(R"("workflow_priority":null)"), "job.workflow_priority", {"integer", "null"});
}

// ---- max_retries, workflow_datetime, integer literals -------------------------------------------

BOOST_AUTO_TEST_CASE(max_retries_range_1_to_2147483647) {
    BOOST_TEST(accepted(job_with(R"("max_retries":1)")).max_retries == 1);
    BOOST_TEST(accepted(job_with(R"("max_retries":2147483647)")).max_retries == 2147483647);
    check_rejected(job_with(R"("max_retries":0)"), "job.max_retries", {"1..2147483647", "0"});
    check_rejected(job_with(R"("max_retries":2147483648)"), "job.max_retries", {"1..2147483647", "2147483648"});
    check_rejected(job_with(R"("max_retries":-3)"), "job.max_retries", {"1..2147483647"});
    check_rejected(job_with(R"("max_retries":"3")"), "job.max_retries", {"integer", "string \"3\""});
    check_rejected(job_with(R"("max_retries":null)"), "job.max_retries", {"integer", "null"});
}

BOOST_AUTO_TEST_CASE(workflow_datetime_is_an_integer) {
    BOOST_TEST(accepted(job_with(R"("workflow_datetime":1700000000000)")).workflow_datetime.value_or(0) == 1700000000000);
    BOOST_TEST(accepted(job_with(R"("workflow_datetime":0)")).workflow_datetime.value_or(-1) == 0);
    check_rejected(job_with(R"("workflow_datetime":"2024-01-01")"), "job.workflow_datetime", {"integer", "string"});
    check_rejected(job_with(R"("workflow_datetime":null)"), "job.workflow_datetime", {"integer", "null"});
}

BOOST_AUTO_TEST_CASE(integer_fields_written_with_fraction_or_exponent_rejected) {
    for (std::string_view field : {"priority", "workflow_priority", "max_retries", "workflow_datetime"}) {
        for (std::string_view number : {"1.0", "1e2", "100.0", "1E1"}) {
            const std::string text = job_with("\"" + std::string(field) + "\":" + std::string(number));
            check_rejected(text, "job." + std::string(field), {"integer"});
        }
    }
}

// ---- customer_id, workflow_id ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(customer_id_and_workflow_id_must_be_strings) {
    BOOST_TEST(accepted(job_with(R"("customer_id":"")")).customer_id == "");
    BOOST_TEST(accepted(job_with(R"("workflow_id":"")")).workflow_id == "");
    check_rejected(job_with(R"("customer_id":123)"), "job.customer_id", {"string", "number 123"});
    check_rejected(job_with(R"("customer_id":null)"), "job.customer_id", {"string", "null"});
    check_rejected(job_with(R"("workflow_id":42)"), "job.workflow_id", {"string", "number 42"});
    check_rejected(job_with(R"("workflow_id":["wf"])"), "job.workflow_id", {"string", "array"});
}

// ---- requirements ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(requirements_must_be_an_object) {
    BOOST_TEST(accepted(job_with(R"("requirements":{})")).requirements.empty());
    check_rejected(job_with(R"("requirements":"gpu")"), "job.requirements", {"object", "string \"gpu\""});
    check_rejected(job_with(R"("requirements":[])"), "job.requirements", {"object", "array"});
    check_rejected(job_with(R"("requirements":null)"), "job.requirements", {"object", "null"});
}

BOOST_AUTO_TEST_CASE(positive_and_negative_requirements_must_be_objects) {
    accepted(job_with(R"("requirements":{"positive_requirements":{},"negative_requirements":{}})"));
    check_rejected(job_with(R"("requirements":{"positive_requirements":"x"})"), "job.requirements.positive_requirements",
                   {"object", "string \"x\""});
    check_rejected(job_with(R"("requirements":{"positive_requirements":[]})"), "job.requirements.positive_requirements",
                   {"object", "array"});
    check_rejected(job_with(R"("requirements":{"negative_requirements":[1]})"), "job.requirements.negative_requirements",
                   {"object", "array"});
    check_rejected(job_with(R"("requirements":{"negative_requirements":null})"), "job.requirements.negative_requirements",
                   {"object", "null"});
}

BOOST_AUTO_TEST_CASE(hardware_must_be_an_object) {
    check_rejected(job_with(R"("requirements":{"hardware":"gpu"})"), "job.requirements.hardware", {"object"});
    check_rejected(job_with(R"("requirements":{"hardware":[16]})"), "job.requirements.hardware", {"object", "array"});
    check_rejected(job_with(R"("requirements":{"hardware":null})"), "job.requirements.hardware", {"object", "null"});
}

BOOST_AUTO_TEST_CASE(d3_string_hardware_value_rejected_with_exact_message) {
    const error e = rejected(job_with(R"("requirements":{"hardware":{"gpu_memory_gb":"16"}})"));
    BOOST_TEST(e.text() == R"(job.requirements.hardware.gpu_memory_gb: must be a number or "all", got string "16")");
}

BOOST_AUTO_TEST_CASE(hardware_limits_must_be_number_or_exactly_all) {
    for (std::string_view key : {"gpu_memory_gb", "cpu_cores", "ram_gb"}) {
        const std::string k(key);
        BOOST_TEST_CONTEXT(k) {
            for (std::string_view ok : {"16", "16.5", "0", "\"all\""})
                accepted(job_with(R"("requirements":{"hardware":{")" + k + "\":" + std::string(ok) + "}}"));
            for (std::string_view bad : {"\"16\"", "\"ALL\"", "\"All\"", "\"\"", "true", "null", "[16]", "{}"})
                check_rejected(job_with(R"("requirements":{"hardware":{")" + k + "\":" + std::string(bad) + "}}"),
                               "job.requirements.hardware." + k, {"must be a number or \"all\", got"});
        }
    }
}

BOOST_AUTO_TEST_CASE(other_hardware_keys_are_free) {
    const job_spec s = accepted(
        job_with(R"("requirements":{"hardware":{"gpu_model":"A100","vram":"lots","cuda":null,"gpus":[1,2],"x":{}}})"));
    BOOST_TEST(s.requirements.contains("hardware"));
}

BOOST_AUTO_TEST_CASE(with_positive_requirements_top_level_hardware_is_not_validated) {
    // Matching ignores every top-level key but negative_requirements, so they are not validated.
    const job_spec s = accepted(job_with(
        R"("requirements":{"positive_requirements":{"hardware":{"gpu_memory_gb":16}},"hardware":{"gpu_memory_gb":"16"}})"));
    BOOST_TEST(s.requirements.contains("positive_requirements"));
    accepted(job_with(R"("requirements":{"positive_requirements":{},"hardware":"junk"})"));
}

BOOST_AUTO_TEST_CASE(bad_positive_requirements_hardware_rejected) {
    const error e =
        rejected(job_with(R"("requirements":{"positive_requirements":{"hardware":{"ram_gb":"64"}},"hardware":{"ram_gb":64}})"));
    BOOST_TEST(e.text() == R"(job.requirements.positive_requirements.hardware.ram_gb: must be a number or "all", got string "64")");
    check_rejected(job_with(R"("requirements":{"positive_requirements":{"hardware":"x"}})"),
                   "job.requirements.positive_requirements.hardware", {"object"});
}

BOOST_AUTO_TEST_CASE(negative_requirements_hardware_validated) {
    check_rejected(job_with(R"("requirements":{"negative_requirements":{"hardware":{"cpu_cores":"8"}}})"),
                   "job.requirements.negative_requirements.hardware.cpu_cores", {"must be a number or \"all\", got string \"8\""});
    check_rejected(job_with(R"("requirements":{"negative_requirements":{"hardware":true}})"),
                   "job.requirements.negative_requirements.hardware", {"object"});
    // Validated alongside positive_requirements too.
    check_rejected(
        job_with(R"("requirements":{"positive_requirements":{},"negative_requirements":{"hardware":{"gpu_memory_gb":"x"}}})"),
        "job.requirements.negative_requirements.hardware.gpu_memory_gb", {"must be a number or \"all\""});
    accepted(job_with(R"("requirements":{"negative_requirements":{"hardware":{"gpu_memory_gb":"all","gpu_model":"T4"}}})"));
}

BOOST_AUTO_TEST_CASE(custom_requirement_keys_are_free) {
    accepted(job_with(R"("requirements":{"region":"eu","location":{"zone":null},"tags":[["a"]],"models":"all"})"));
}

// ---- payload and extras ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(payload_is_any_json_carried_untouched) {
    for (std::string_view payload : {R"({"a":[1,2.5,{"b":null}]})", "[1,\"x\"]", "\"text\"", "16.0", "true", "null"}) {
        BOOST_TEST_CONTEXT(payload) {
            const job_spec s = accepted(job_with("\"payload\":" + std::string(payload)));
            BOOST_TEST((s.payload == j(payload)));  // exactly as given, spelling included
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_fields_land_in_extras) {
    const job_spec s = accepted(job_with(R"("job_type":"t","foo":{"bar":1},"priority":3,"created_by":null)"));
    BOOST_TEST(s.extras.size() == 3u);
    BOOST_TEST(s.extras.contains("job_type"));
    BOOST_TEST(s.extras.contains("created_by"));
    BOOST_REQUIRE(s.extras.contains("foo"));
    BOOST_TEST(json_equal(s.extras.at("foo"), j(R"({"bar":1})")));
    BOOST_TEST(!s.extras.contains("priority"));
    BOOST_TEST(!s.extras.contains("id"));
    BOOST_TEST(!s.extras.contains("service_required"));
}

// ---- job_score (matching.md section 1) -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(score_formula_exact) {
    const std::int64_t t = kEpoch2020 + 123456789;
    BOOST_TEST(job_score(spec(50), t) == static_cast<double>(expected_score(50, 123456789)));
    BOOST_TEST(job_score(spec(0), t) == static_cast<double>(expected_score(0, 123456789)));
    BOOST_TEST(job_score(spec(1023), t) == static_cast<double>(expected_score(1023, 123456789)));
    BOOST_TEST(job_score(spec(7), kEpoch2020 + 1) == static_cast<double>(7 * k2p42 + k2p42 - 2));
}

BOOST_AUTO_TEST_CASE(score_uses_the_parsed_default_priority) {
    const job_spec s = accepted(job_with(""));
    BOOST_TEST(job_score(s, kEpoch2020 + 10) == static_cast<double>(expected_score(50, 10)));
}

BOOST_AUTO_TEST_CASE(score_workflow_priority_wins_over_priority) {
    const std::int64_t t = kEpoch2020 + 5000;
    BOOST_TEST(job_score(spec(90, 10), t) == static_cast<double>(expected_score(10, 5000)));
    BOOST_TEST(job_score(spec(10, 90), t) == static_cast<double>(expected_score(90, 5000)));
    // 0 is a real workflow priority, not "absent".
    BOOST_TEST(job_score(spec(90, 0), t) == static_cast<double>(expected_score(0, 5000)));
}

BOOST_AUTO_TEST_CASE(score_workflow_datetime_overrides_submit_time) {
    const std::int64_t wf_time = kEpoch2020 + 1000;
    const std::int64_t submitted = kEpoch2020 + 999999;
    BOOST_TEST(job_score(spec(50, std::nullopt, wf_time), submitted) == static_cast<double>(expected_score(50, 1000)));
    // Two steps of one workflow, submitted far apart, share a score.
    BOOST_TEST(job_score(spec(50, std::nullopt, wf_time), submitted) ==
               job_score(spec(50, std::nullopt, wf_time), submitted + 3600000));
}

BOOST_AUTO_TEST_CASE(score_times_at_or_before_2020_give_offset_zero) {
    const double first = static_cast<double>(expected_score(50, 0));
    BOOST_TEST(job_score(spec(50), kEpoch2020) == first);
    BOOST_TEST(job_score(spec(50), kEpoch2020 - 1) == first);
    BOOST_TEST(job_score(spec(50), 0) == first);
    BOOST_TEST(job_score(spec(50, std::nullopt, -5), kEpoch2020 + 100) == first);
    BOOST_TEST(job_score(spec(50, std::nullopt, std::numeric_limits<std::int64_t>::min()), 0) == first);
}

BOOST_AUTO_TEST_CASE(score_huge_times_clamp_to_max_offset) {
    const double last = static_cast<double>(expected_score(50, k2p42 - 1));  // == 50 * 2^42
    BOOST_TEST(last == static_cast<double>(50 * k2p42));
    BOOST_TEST(job_score(spec(50), kEpoch2020 + k2p42 - 1) == last);
    BOOST_TEST(job_score(spec(50), kEpoch2020 + k2p42) == last);
    BOOST_TEST(job_score(spec(50), std::numeric_limits<std::int64_t>::max()) == last);
    BOOST_TEST(job_score(spec(50, std::nullopt, std::numeric_limits<std::int64_t>::max()), 0) == last);
    // Strict priority: the newest job of priority 51 outranks the oldest of priority 50.
    BOOST_TEST(job_score(spec(51), std::numeric_limits<std::int64_t>::max()) > job_score(spec(50), 0));
}

BOOST_AUTO_TEST_CASE(score_later_ranks_lower_to_the_millisecond) {
    const std::int64_t now = 1700000000000;  // late 2023
    for (std::int64_t p : {0, 50, 1023}) {
        BOOST_TEST_CONTEXT("priority " << p) {
            const double earlier = job_score(spec(p), now);
            const double later = job_score(spec(p), now + 1);
            BOOST_TEST(earlier > later);
            BOOST_TEST(earlier - later == 1.0);
        }
    }
    BOOST_TEST(job_score(spec(50), kEpoch2020 + 1) < job_score(spec(50), kEpoch2020));
}

BOOST_AUTO_TEST_CASE(score_below_2_pow_52_and_exact) {
    constexpr std::int64_t k2p52 = std::int64_t{1} << 52;
    const double top = job_score(spec(1023), 0);
    BOOST_TEST(top == static_cast<double>(k2p52 - 1));
    BOOST_TEST(top < static_cast<double>(k2p52));
    BOOST_TEST(static_cast<std::int64_t>(top) == k2p52 - 1);
    const double s = job_score(spec(1023, std::nullopt, 1700000000123), 0);
    BOOST_TEST(static_cast<std::int64_t>(s) == expected_score(1023, 1700000000123 - kEpoch2020));
    BOOST_TEST(job_score(spec(0), std::numeric_limits<std::int64_t>::max()) >= 0.0);
}
