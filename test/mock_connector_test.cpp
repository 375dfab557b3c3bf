// mock_connector: EMP's MockConnector (progress 10/80/100, should_fail, delay_ms validation,
// cancel). Also the connector registry (the one list of connector names), which has no test
// module of its own.
#define BOOST_TEST_MODULE mock_connector
#include "support/connector_recorder.hpp"
#include "connectors/mock_connector.hpp"

#include "connectors/connector_names.hpp"
#include "connectors/connector_registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace jobrouter;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// Nothing here may hang: every run is bounded, and a connector with nothing left to do leaves
// the io_context without work, so run_for returns as soon as it is done.
constexpr auto kLimit = 5s;

using recorder = jobrouter::test::connector_recorder;

connector_job make_job(const std::string& payload_json, std::string id = "job-1") {
    connector_job j;
    j.job_id = std::move(id);
    j.job_type = "mock";
    j.service = "mock_test";
    j.payload = json::parse(payload_json);
    return j;
}

struct fixture {
    boost::asio::io_context io;
    recorder rec;

    void run() { io.run_for(kLimit); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(mock, fixture)

BOOST_AUTO_TEST_CASE(completes_with_progress_10_80_100_and_the_payload) {
    mock_connector c(io);
    BOOST_TEST(c.name() == "MockConnector");
    c.start(make_job(R"({"delay_ms":5,"prompt":"x"})", "j7"), rec.callbacks());
    run();
    BOOST_TEST(rec.progress == (std::vector<std::int64_t>{10, 80, 100}), boost::test_tools::per_element());
    BOOST_REQUIRE(rec.result);
    BOOST_TEST(rec.endings == 1);
    BOOST_TEST(json::serialize(*rec.result) ==
               R"({"mock":true,"job_id":"j7","payload":{"delay_ms":5,"prompt":"x"},"delay_ms":5})");
}

BOOST_AUTO_TEST_CASE(nothing_is_reported_from_inside_start) {
    mock_connector c(io);
    c.start(make_job(R"({"delay_ms":0})"), rec.callbacks());
    BOOST_TEST(!rec.called());
    run();
    BOOST_TEST(rec.result.has_value());
}

BOOST_AUTO_TEST_CASE(delay_defaults_to_100_and_a_non_object_payload_means_defaults) {
    mock_connector c(io);
    c.start(make_job("null"), rec.callbacks());
    run();
    BOOST_REQUIRE(rec.result);
    BOOST_TEST(rec.result->at("delay_ms").as_int64() == 100);
}

BOOST_AUTO_TEST_CASE(zero_delay_still_reports_every_step) {
    mock_connector c(io);
    c.start(make_job(R"({"delay_ms":0})"), rec.callbacks());
    run();
    BOOST_TEST(rec.progress == (std::vector<std::int64_t>{10, 80, 100}), boost::test_tools::per_element());
    BOOST_TEST(rec.result.has_value());
}

BOOST_AUTO_TEST_CASE(should_fail_is_a_retryable_failure) {
    mock_connector c(io);
    c.start(make_job(R"({"delay_ms":3,"should_fail":true})"), rec.callbacks());
    run();
    BOOST_TEST(!rec.result);
    BOOST_REQUIRE(rec.error);
    BOOST_TEST(*rec.retryable);
    BOOST_TEST(rec.endings == 1);
    BOOST_TEST(json::serialize(*rec.error) == R"j({"message":"mock failure (payload.should_fail)"})j");
    BOOST_TEST(rec.progress == (std::vector<std::int64_t>{10, 80}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(should_fail_false_completes) {
    mock_connector c(io);
    c.start(make_job(R"({"delay_ms":1,"should_fail":false})"), rec.callbacks());
    run();
    BOOST_TEST(rec.result.has_value());
}

BOOST_AUTO_TEST_CASE(a_bad_delay_ms_fails_not_retryable_naming_the_field) {
    for (const char* payload : {R"({"delay_ms":-1})", R"({"delay_ms":"50"})", R"({"delay_ms":1.5})",
                                R"({"delay_ms":null})", R"({"delay_ms":86400001})", R"({"delay_ms":1e3})"}) {
        BOOST_TEST_CONTEXT(payload) {
            boost::asio::io_context local_io;
            recorder r;
            mock_connector c(local_io);
            c.start(make_job(payload), r.callbacks());
            local_io.run_for(kLimit);
            BOOST_REQUIRE(r.error);
            BOOST_TEST(!*r.retryable);
            BOOST_TEST(r.progress.empty());
            BOOST_TEST(r.message().find("payload.delay_ms: must be a non-negative integer") == 0u,
                       r.message());
        }
    }
}

BOOST_AUTO_TEST_CASE(the_error_quotes_the_bad_value) {
    mock_connector c(io);
    c.start(make_job(R"({"delay_ms":"soon"})"), rec.callbacks());
    run();
    BOOST_TEST(rec.message() ==
               "payload.delay_ms: must be a non-negative integer of milliseconds (at most 86400000), got string \"soon\"");
}

BOOST_AUTO_TEST_CASE(a_non_boolean_should_fail_fails_not_retryable) {
    mock_connector c(io);
    c.start(make_job(R"({"delay_ms":1,"should_fail":"yes"})"), rec.callbacks());
    run();
    BOOST_REQUIRE(rec.error);
    BOOST_TEST(!*rec.retryable);
    BOOST_TEST(rec.message() == "payload.should_fail: must be a boolean, got string \"yes\"");
}

BOOST_AUTO_TEST_CASE(the_service_api_config_delay_is_the_default) {
    auto job = make_job("{}");
    job.service_config = json::parse(R"({"connector":"MockConnector","api_config":{"delay_ms":"7"}})").as_object();
    mock_connector c(io);
    c.start(std::move(job), rec.callbacks());
    run();
    BOOST_REQUIRE(rec.result);
    BOOST_TEST(rec.result->at("delay_ms").as_int64() == 7);
}

BOOST_AUTO_TEST_CASE(a_bad_service_delay_fails_naming_the_service_field) {
    auto job = make_job("{}");
    job.service_config = json::parse(R"({"api_config":{"delay_ms":"fast"}})").as_object();
    mock_connector c(io);
    c.start(std::move(job), rec.callbacks());
    run();
    BOOST_REQUIRE(rec.error);
    BOOST_TEST(!*rec.retryable);
    BOOST_TEST(rec.message().find("services.mock_test.api_config.delay_ms: ") == 0u, rec.message());
}

BOOST_AUTO_TEST_CASE(cancel_before_anything_ran_means_no_callback) {
    mock_connector c(io);
    c.start(make_job(R"({"delay_ms":5})"), rec.callbacks());
    c.cancel();
    run();
    BOOST_TEST(!rec.called());
}

BOOST_AUTO_TEST_CASE(cancel_while_waiting_means_no_further_callback) {
    mock_connector c(io);
    c.start(make_job(R"({"delay_ms":60000})"), rec.callbacks());
    // Run until the first report; the 48 s timer is then pending.
    const auto deadline = std::chrono::steady_clock::now() + kLimit;
    while (rec.progress.empty() && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
    BOOST_REQUIRE(rec.progress.size() == 1u);
    c.cancel();
    run();  // returns at once: the cancelled timer was the only work left
    BOOST_TEST(rec.progress.size() == 1u);
    BOOST_TEST(rec.endings == 0);
}

BOOST_AUTO_TEST_CASE(cancel_from_inside_a_progress_callback_means_no_further_callback) {
    mock_connector c(io);
    auto cb = rec.callbacks();
    cb.on_progress = [&](std::int64_t p, std::string) {
        rec.progress.push_back(p);
        c.cancel();  // what a worker does when the dispatcher refuses the report
    };
    c.start(make_job(R"({"delay_ms":1})"), std::move(cb));
    run();
    BOOST_TEST(rec.progress == (std::vector<std::int64_t>{10}), boost::test_tools::per_element());
    BOOST_TEST(rec.endings == 0);
}

BOOST_AUTO_TEST_CASE(destroying_a_running_connector_means_no_callback) {
    {
        mock_connector c(io);
        c.start(make_job(R"({"delay_ms":1})"), rec.callbacks());
    }
    run();
    BOOST_TEST(!rec.called());
}

BOOST_AUTO_TEST_CASE(destroying_the_connector_inside_its_completion_is_safe) {
    auto c = std::make_unique<mock_connector>(io);
    auto cb = rec.callbacks();
    cb.on_complete = [&](json::value r) {
        rec.result = std::move(r);
        c.reset();
    };
    c->start(make_job(R"({"delay_ms":1})"), std::move(cb));
    run();
    BOOST_TEST(rec.result.has_value());
    BOOST_TEST(!c);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(registry)

BOOST_AUTO_TEST_CASE(names_are_exactly_what_exists_and_check_config_sees_the_same) {
    const std::vector<std::string> expected{"MockConnector", "SimulationHttpConnector", "SimulationWebsocketConnector",
                                            "HttpRestConnector", "CommandConnector"};
    BOOST_TEST(connector_registry_names() == expected, boost::test_tools::per_element());
    BOOST_TEST(built_in_connector_names() == connector_registry_names(), boost::test_tools::per_element());
    // EMP's service-specific connectors are not in this build: check-config must keep warning.
    BOOST_TEST(!has_connector("ComfyUIConnector"));
    BOOST_TEST(!has_connector("OpenAIConnector"));
}

BOOST_AUTO_TEST_CASE(each_name_builds_a_connector_answering_that_name) {
    boost::asio::io_context io;
    for (const auto& name : connector_registry_names()) {
        BOOST_TEST(has_connector(name));
        auto c = make_connector(name, io);
        BOOST_REQUIRE(c);
        BOOST_TEST((*c)->name() == name);
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_name_is_an_error_listing_the_known_ones) {
    boost::asio::io_context io;
    auto c = make_connector("ComfyUIConnector", io);
    BOOST_REQUIRE(!c);
    BOOST_TEST(c.error().text() ==
               "connector: unknown connector \"ComfyUIConnector\" (this build has: MockConnector, "
               "SimulationHttpConnector, SimulationWebsocketConnector, HttpRestConnector, CommandConnector)");
}

BOOST_AUTO_TEST_SUITE_END()
