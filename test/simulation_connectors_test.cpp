// simulation connectors: SimulationHttpConnector and SimulationWebsocketConnector against an
// in-process simulation service on free ports: completion with progress, errors surfacing at
// once, refused connections and timeouts as retryable failures, bad config as a non-retryable
// one, cancel (silence, and cancel_simulation reaching the service), WebSocket reconnection.
#define BOOST_TEST_MODULE simulation_connectors
#include "support/connector_recorder.hpp"
#include "connectors/simulation_http_connector.hpp"

#include "connectors/connector_registry.hpp"
#include "connectors/simulation_websocket_connector.hpp"
#include "server/simulation_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace jobrouter;
namespace json = boost::json;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kLimit = 5s;

using recorder = jobrouter::test::connector_recorder;

// A port nobody listens on: bound, then closed.
unsigned short closed_port(asio::io_context& io) {
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

struct fixture {
    fixture() {
        simulation_settings s;
        s.http_endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
        s.ws_endpoint = s.http_endpoint;
        s.duration_ms = 100;
        s.steps = 4;
        s.on_ws_message = [this](std::string_view type, std::string_view id) {
            received.push_back(std::string(type) + ":" + std::string(id));
        };
        service = start_simulation_service(io, s);
    }

    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = kLimit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            if (io.stopped()) io.restart();
            io.run_for(2ms);
        }
        return done();
    }
    void run_for(std::chrono::milliseconds d) {
        const auto until = std::chrono::steady_clock::now() + d;
        run_until([&] { return std::chrono::steady_clock::now() >= until; });
    }

    /// services.<s> as the mapping would give it: every number a string, as ${VAR} leaves it.
    connector_job job(const std::string& id, const std::string& payload, const std::string& service_config) {
        connector_job j;
        j.job_id = id;
        j.job_type = "simulation";
        j.service = "sim";
        j.payload = json::parse(payload);
        j.service_config = json::parse(service_config).as_object();
        return j;
    }
    std::string http_config(const std::string& extra = "") {
        return R"({"ports":[")" + std::to_string(service->http_endpoint().port()) +
               R"("],"api_config":{"timeout_ms":"2000","poll_interval_ms":"20")" + extra + "}}";
    }
    std::string ws_config(const std::string& extra = "") {
        return R"({"api_config":{"ws_url":"ws://127.0.0.1:)" + std::to_string(service->ws_endpoint().port()) +
               R"(","timeout_ms":"2000","reconnect_delay_ms":"10")" + extra + "}}";
    }

    asio::io_context io;
    std::vector<std::string> received;
    std::unique_ptr<simulation_service> service;
    recorder rec;
};

bool increasing(const std::vector<std::int64_t>& v) {
    for (std::size_t i = 1; i < v.size(); ++i)
        if (v[i] <= v[i - 1]) return false;
    return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_registry_builds_the_real_connectors) {
    asio::io_context io;
    BOOST_TEST(make_connector("SimulationHttpConnector", io).value()->name() == "SimulationHttpConnector");
    BOOST_TEST(make_connector("SimulationWebsocketConnector", io).value()->name() == "SimulationWebsocketConnector");
}

BOOST_FIXTURE_TEST_SUITE(http_connector, fixture)

BOOST_AUTO_TEST_CASE(completes_with_the_service_progress) {
    simulation_http_connector c(io);
    c.start(job("h1", R"({"duration_ms":150,"steps":3})", http_config()), rec.callbacks());
    BOOST_TEST(rec.progress.empty());  // nothing from inside start()
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(rec.endings == 1);
    BOOST_TEST(rec.result->at("steps").as_int64() == 3);
    BOOST_TEST(rec.result->at("job_id").as_string() == "h1");
    BOOST_TEST(rec.progress.size() >= 3u);
    BOOST_TEST(rec.progress.back() == 100);
    BOOST_TEST(increasing(rec.progress));
}

BOOST_AUTO_TEST_CASE(the_base_url_wins_over_ports) {
    simulation_http_connector c(io);
    const std::string cfg = R"({"ports":["1"],"api_config":{"base_url":"http://127.0.0.1:)" +
                            std::to_string(service->http_endpoint().port()) + R"(/","poll_interval_ms":10}})";
    c.start(job("h2", R"({"duration_ms":20,"steps":1})", cfg), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_TEST(rec.result.has_value(), rec.message());
}

BOOST_AUTO_TEST_CASE(a_service_error_surfaces_at_once) {
    simulation_http_connector c(io);
    const auto start = std::chrono::steady_clock::now();
    c.start(job("h3", R"({"should_fail":true,"duration_ms":200,"steps":4})",
                http_config() .substr(0, http_config().size() - 1) + R"(,"simulation_config":{"processing_time_ms":"90000"}})"),
            rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
    BOOST_REQUIRE(rec.error);
    BOOST_TEST(*rec.retryable);
    BOOST_TEST(rec.message().find("simulated failure") != std::string::npos, rec.message());
}

BOOST_AUTO_TEST_CASE(connection_refused_is_a_retryable_failure) {
    simulation_http_connector c(io);
    c.start(job("h4", "{}", R"({"ports":[")" + std::to_string(closed_port(io)) + R"("]})"), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_REQUIRE(rec.error);
    BOOST_TEST(*rec.retryable);
    BOOST_TEST(rec.message().find("refused") != std::string::npos, rec.message());
}

BOOST_AUTO_TEST_CASE(a_silent_service_times_out_per_step) {
    tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket held(io);
    silent.async_accept(held, [](boost::system::error_code) {});  // accepts, never answers
    simulation_http_connector c(io);
    const auto start = std::chrono::steady_clock::now();
    c.start(job("h5", "{}", R"({"ports":[")" + std::to_string(silent.local_endpoint().port()) +
                                R"("],"api_config":{"timeout_ms":"150"}})"),
            rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_TEST((took >= 140ms && took < 2s));
    BOOST_REQUIRE(rec.error);
    BOOST_TEST(*rec.retryable);
    BOOST_TEST(rec.message().find("timed out after 150 ms") != std::string::npos, rec.message());
}

BOOST_AUTO_TEST_CASE(bad_config_fails_not_retryable_naming_the_field) {
    simulation_http_connector c(io);
    c.start(job("h6", "{}", R"({"ports":["8299"],"api_config":{"timeout_ms":"soon"}})"), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_REQUIRE(rec.error);
    BOOST_TEST(!*rec.retryable);
    BOOST_TEST(rec.message().find("services.sim.api_config.timeout_ms") != std::string::npos, rec.message());

    recorder r2;
    simulation_http_connector c2(io);
    c2.start(job("h7", "{}", R"({"api_config":{"base_url":"ftp://x"}})"), r2.callbacks());
    BOOST_REQUIRE(run_until([&] { return r2.endings > 0; }));
    BOOST_TEST(!*r2.retryable);
    BOOST_TEST(r2.message().find("services.sim.api_config.base_url") != std::string::npos, r2.message());
}

BOOST_AUTO_TEST_CASE(cancel_means_no_callback) {
    auto c = std::make_unique<simulation_http_connector>(io);
    c->start(job("h8", R"({"duration_ms":150,"steps":3})", http_config()), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return !rec.progress.empty(); }));
    c->cancel();
    const std::size_t seen = rec.progress.size();
    c.reset();
    run_for(300ms);
    BOOST_TEST(rec.endings == 0);
    BOOST_TEST(rec.progress.size() == seen);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(websocket_connector, fixture)

BOOST_AUTO_TEST_CASE(completes_with_progress) {
    simulation_websocket_connector c(io);
    c.start(job("w1", R"({"duration_ms":120,"steps":4})", ws_config()), rec.callbacks());
    BOOST_TEST(rec.progress.empty());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(rec.result->at("steps").as_int64() == 4);
    const std::vector<std::int64_t> expected{0, 25, 50, 75, 100};
    BOOST_TEST(rec.progress == expected, boost::test_tools::per_element());
    BOOST_TEST(received.front() == "simulation_job:w1");
}

BOOST_AUTO_TEST_CASE(ports_give_the_url_and_a_service_error_surfaces_at_once) {
    simulation_websocket_connector c(io);
    const auto start = std::chrono::steady_clock::now();
    c.start(job("w2", R"({"should_fail":true,"duration_ms":200,"steps":4})",
                R"({"ports":[")" + std::to_string(service->ws_endpoint().port()) +
                    R"("],"simulation_config":{"processing_time_ms":"90000"}})"),
            rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
    BOOST_REQUIRE(rec.error);
    BOOST_TEST(*rec.retryable);
    BOOST_TEST(rec.message().find("simulated failure") != std::string::npos, rec.message());
}

BOOST_AUTO_TEST_CASE(connection_refused_is_a_retryable_failure_at_once) {
    simulation_websocket_connector c(io);
    c.start(job("w3", "{}", R"({"api_config":{"ws_url":"ws://127.0.0.1:)" + std::to_string(closed_port(io)) + R"("}})"),
            rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }, 1s));
    BOOST_TEST(*rec.retryable);
    BOOST_TEST(rec.message().find("refused") != std::string::npos, rec.message());
}

BOOST_AUTO_TEST_CASE(a_silent_service_times_out) {
    tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket held(io);
    silent.async_accept(held, [](boost::system::error_code) {});  // accepts, never shakes hands
    simulation_websocket_connector c(io);
    const auto start = std::chrono::steady_clock::now();
    c.start(job("w4", "{}", R"({"ports":[")" + std::to_string(silent.local_endpoint().port()) +
                                R"("],"api_config":{"timeout_ms":"150"}})"),
            rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_TEST((took >= 140ms && took < 2s));
    BOOST_TEST(*rec.retryable);
}

BOOST_AUTO_TEST_CASE(cancel_sends_cancel_simulation_and_no_callback) {
    auto c = std::make_unique<simulation_websocket_connector>(io);
    c->start(job("w5", R"({"duration_ms":300,"steps":3})", ws_config()), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return !rec.progress.empty(); }));
    c->cancel();
    c.reset();
    BOOST_REQUIRE(run_until([&] { return service->job_status("w5") == "cancelled"; }));
    BOOST_TEST(received.back() == "cancel_simulation:w5");
    run_for(400ms);
    BOOST_TEST(rec.endings == 0);
}

BOOST_AUTO_TEST_CASE(a_lost_connection_reconnects_and_follows_the_job) {
    // A second service takes over the first one's WebSocket port after the first stops: the
    // connector reconnects and re-sends the job, and the job runs to completion there.
    simulation_websocket_connector c(io);
    c.start(job("w6", R"({"duration_ms":150,"steps":3})", ws_config(R"(,"max_retries":"5")")), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return !rec.progress.empty(); }));
    const auto port = service->ws_endpoint().port();
    service.reset();
    simulation_settings s;
    s.http_endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
    s.ws_endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);
    s.on_ws_message = [this](std::string_view type, std::string_view id) {
        received.push_back(std::string(type) + ":" + std::string(id));
    };
    service = start_simulation_service(io, s);
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_TEST(rec.result.has_value(), rec.message());
    BOOST_TEST(received.back() == "simulation_job:w6");
    BOOST_TEST(received.size() == 2u);
}

BOOST_AUTO_TEST_CASE(reconnection_is_bounded_then_a_retryable_failure) {
    simulation_websocket_connector c(io);
    c.start(job("w7", R"({"duration_ms":300,"steps":3})", ws_config(R"(,"max_retries":"2")")), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return !rec.progress.empty(); }));
    service->stop();
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_REQUIRE(rec.error);
    BOOST_TEST(*rec.retryable);
    BOOST_TEST(rec.message().find("could not reconnect after 2 attempts") != std::string::npos, rec.message());
}

BOOST_AUTO_TEST_SUITE_END()
