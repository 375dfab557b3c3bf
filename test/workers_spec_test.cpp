// workers_spec: WORKERS / --workers parsing (service-mapping.md "Worker ids and WORKERS").
#include "core/workers_spec.hpp"

#define BOOST_TEST_MODULE workers_spec
#include <boost/test/unit_test.hpp>

#include <ostream>

namespace jobrouter {

// For Boost.Test's messages on failed comparisons.
std::ostream& operator<<(std::ostream& os, const worker_count& w) {
    return os << w.worker_type << ":" << w.count;
}

}  // namespace jobrouter

using namespace jobrouter;
using counts = std::vector<worker_count>;

namespace {

const service_mapping& mapping() {
    static const service_mapping m =
        load_mapping(R"({"workers": {"simulation-http": {}, "mock": {}, "simulation": {}}})", "mapping.json",
                     [](const std::string&) { return std::nullopt; })
            .value();
    return m;
}

counts parse_ok(std::string_view spec) {
    auto parsed = parse_workers_spec(spec, mapping());
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), "parse failed: " << parsed.error().text());
    return *parsed;
}

error parse_error(std::string_view spec, std::string_view origin = "WORKERS") {
    auto parsed = parse_workers_spec(spec, mapping(), origin);
    BOOST_REQUIRE_MESSAGE(!parsed.has_value(), "expected an error for " << spec);
    return parsed.error();
}

bool has(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(type_and_count_in_order) {
    BOOST_TEST(parse_ok("simulation-http:2,mock:1") == (counts{{"simulation-http", 2}, {"mock", 1}}));
    BOOST_TEST(parse_ok("simulation:5") == (counts{{"simulation", 5}}));
}

BOOST_AUTO_TEST_CASE(missing_count_means_one) {
    BOOST_TEST(parse_ok("mock") == (counts{{"mock", 1}}));
    BOOST_TEST(parse_ok("mock,simulation:3") == (counts{{"mock", 1}, {"simulation", 3}}));
}

BOOST_AUTO_TEST_CASE(items_and_both_sides_of_the_colon_are_trimmed) {
    BOOST_TEST(parse_ok("  simulation-http : 2 ,\tmock  ") == (counts{{"simulation-http", 2}, {"mock", 1}}));
    BOOST_TEST(parse_ok("mock:007") == (counts{{"mock", 7}}));
}

BOOST_AUTO_TEST_CASE(empty_value_means_the_default) {
    BOOST_TEST(parse_ok("").empty());
    BOOST_TEST(parse_ok("   \t").empty());
}

BOOST_AUTO_TEST_CASE(unknown_type_lists_the_valid_ones) {
    const auto e = parse_error("mock:1,simulationx:2");
    BOOST_TEST(e.path == "WORKERS");
    BOOST_TEST(has(e.message, "item 2 \"simulationx:2\""), e.message);
    BOOST_TEST(has(e.message, "worker type \"simulationx\" is not in the workers of mapping.json"), e.message);
    BOOST_TEST(has(e.message, "(valid: mock, simulation, simulation-http)"), e.message);
}

BOOST_AUTO_TEST_CASE(types_are_case_sensitive) {
    BOOST_TEST(has(parse_error("Mock").message, "worker type \"Mock\""));
}

BOOST_AUTO_TEST_CASE(a_type_appears_once) {
    const auto e = parse_error("mock:1, mock:2");
    BOOST_TEST(has(e.message, "item 2"), e.message);
    BOOST_TEST(has(e.message, "appears twice"), e.message);
}

BOOST_AUTO_TEST_CASE(count_is_an_integer_of_at_least_one) {
    for (const char* spec : {"mock:0", "mock:-1", "mock:+2", "mock:2.0", "mock:two", "mock:2x", "mock:1 2"}) {
        const auto e = parse_error(spec);
        BOOST_TEST(has(e.message, "must be an integer >= 1"), spec << ": " << e.message);
        BOOST_TEST(has(e.message, "item 1"), spec << ": " << e.message);
    }
    BOOST_TEST(has(parse_error("mock:").message, "the count after \":\" is empty"));
    BOOST_TEST(has(parse_error("mock:99999999999999999999").message, "is too large"));
}

BOOST_AUTO_TEST_CASE(empty_items_and_types_are_errors) {
    BOOST_TEST(has(parse_error("mock,,simulation").message, "item 2 is empty"));
    BOOST_TEST(has(parse_error("mock,").message, "item 2 is empty"));
    BOOST_TEST(has(parse_error(",mock").message, "item 1 is empty"));
    BOOST_TEST(has(parse_error(":2").message, "the worker type is empty"));
}

BOOST_AUTO_TEST_CASE(errors_name_their_origin) {
    BOOST_TEST(parse_error("nope", "--workers").path == "--workers");
    BOOST_TEST(parse_error("nope", "--workers").text().rfind("--workers: item 1 \"nope\"", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(mapping_without_workers) {
    auto empty =
        load_mapping(R"({"workers": {}})", "empty.json", [](const std::string&) { return std::nullopt; }).value();
    auto parsed = parse_workers_spec("mock", empty);
    BOOST_REQUIRE(!parsed);
    BOOST_TEST(has(parsed.error().message, "(valid: none)"), parsed.error().message);
}
