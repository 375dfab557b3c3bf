// strategies: the registry, the keys each strategy offers, and connector resolution.
#define BOOST_TEST_MODULE strategy
#include "strategies/strategy_registry.hpp"

#include <boost/test/unit_test.hpp>

using namespace jobrouter;

namespace {

const service_mapping& mapping() {
    static const service_mapping m = load_mapping(R"({
      "workers": {
        "seed": {"services": ["simulationx"],
                 "job_types_accepted": [{"job_type": "simulation123", "service": "simulationx"},
                                        {"job_type": "simulationxyz", "service": "simulationx"}]},
        "dup": {"services": ["one", "two"],
                "job_service_required_map": [{"job_service_required": "t", "worker_service": "one"},
                                             {"job_service_required": "t", "worker_service": "two"}]},
        "derived": {"services": ["sim"]},
        "listed-only": {"services": ["solo"], "job_types_accepted": []}
      },
      "services": {
        "simulationx": {"connector": "SimulationHttpConnector", "job_types_accepted": ["simulation"]},
        "one": {"connector": "OneConnector"}, "two": {"connector": "TwoConnector"},
        "sim": {"connector": "MockConnector", "job_types_accepted": ["simulation", "sim"]},
        "solo": {"connector": "SoloConnector"}
      }
    })", "strategies.json", [](const std::string&) { return std::nullopt; }).value();
    return m;
}

worker_capabilities make_worker(const std::string& text) { return parse_worker(json::parse(text), mapping()).value(); }

std::vector<std::string> keys(const strategy& s, const worker_capabilities& w) {
    auto span = s.offered_keys(w);
    return {span.begin(), span.end()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(registry_builds_by_name_and_rejects_unknown_names) {
    BOOST_TEST(make_strategy("job-type").value()->name() == "job-type");
    BOOST_TEST(make_strategy("service-name").value()->name() == "service-name");
    auto bad = make_strategy("Job-Type");
    BOOST_REQUIRE(!bad);
    BOOST_TEST(bad.error().text() == "--strategy: unknown strategy \"Job-Type\" (valid: job-type, service-name)");
    BOOST_TEST(strategy_names() == (std::vector<std::string>{"job-type", "service-name"}));
    BOOST_TEST(kDefaultStrategy == "job-type");
}

BOOST_AUTO_TEST_CASE(seed_worker_offers_neither_strategy_simulation) {
    auto a = make_strategy("service-name").value();
    auto b = make_strategy("job-type").value();
    auto w = make_worker(R"({"worker_id":"w","worker_type":"seed"})");
    BOOST_TEST(keys(*a, w) == (std::vector<std::string>{"simulationx"}));
    BOOST_TEST(keys(*b, w) == (std::vector<std::string>{"simulation123", "simulationxyz"}));
}

BOOST_AUTO_TEST_CASE(one_list_never_stands_in_for_the_other) {
    auto a = make_strategy("service-name").value();
    auto b = make_strategy("job-type").value();
    auto only_types = make_worker(R"({"worker_id":"w","job_service_required_map":["x"]})");
    BOOST_TEST(keys(*a, only_types).empty());
    auto only_services = make_worker(R"({"worker_id":"w","services":["x"]})");
    BOOST_TEST(keys(*b, only_services).empty());
    // Fields sent by the worker win over its worker type's, each on its own.
    auto mixed = make_worker(R"({"worker_id":"w","worker_type":"seed","services":["mine"]})");
    BOOST_TEST(keys(*a, mixed) == (std::vector<std::string>{"mine"}));
    BOOST_TEST(keys(*b, mixed) == (std::vector<std::string>{"simulation123", "simulationxyz"}));
}

BOOST_AUTO_TEST_CASE(worker_type_keys_for_summaries) {
    auto a = make_strategy("service-name").value();
    auto b = make_strategy("job-type").value();
    const worker_type& derived = *mapping().find_worker_type("derived");
    BOOST_TEST(a->offered_keys(derived) == (std::vector<std::string>{"sim"}));
    BOOST_TEST(b->offered_keys(derived) == (std::vector<std::string>{"simulation", "sim"}));
}

BOOST_AUTO_TEST_CASE(job_type_resolves_the_first_route_of_the_job_type) {
    auto b = make_strategy("job-type").value();
    auto r = b->resolve_route(*mapping().find_worker_type("dup"), mapping(), "t");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->service == "one");
    BOOST_TEST(r->connector == "OneConnector");
    BOOST_TEST(!b->resolve_route(*mapping().find_worker_type("dup"), mapping(), "one"));
}

BOOST_AUTO_TEST_CASE(service_name_resolves_the_named_service) {
    auto a = make_strategy("service-name").value();
    auto r = a->resolve_route(*mapping().find_worker_type("dup"), mapping(), "two");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->connector == "TwoConnector");
    auto listed = a->resolve_route(*mapping().find_worker_type("listed-only"), mapping(), "solo");
    BOOST_REQUIRE(listed);
    BOOST_TEST(listed->connector == "SoloConnector");
    BOOST_TEST(!a->resolve_route(*mapping().find_worker_type("dup"), mapping(), "t"));
}
