// simulation_service: the HTTP protocol (POST /process, GET /history/{id}, errors surfacing at
// once, payload overrides) and the WebSocket protocol (started, progress, complete, error,
// cancel_simulation), against a service on free ports of the test's own io_context.
#define BOOST_TEST_MODULE simulation_service
#include "server/simulation_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace jobrouter;
namespace json = boost::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kLimit = 5s;

struct fixture {
    fixture() {
        simulation_settings s;
        s.http_endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
        s.ws_endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
        s.duration_ms = 100;
        s.steps = 4;
        s.on_ws_message = [this](std::string_view type, std::string_view id) {
            received.push_back(std::string(type) + ":" + std::string(id));
        };
        service = start_simulation_service(io, s);
    }

    /// Runs the io_context until `done` holds or kLimit passes; returns `done()`.
    bool run_until(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + kLimit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            if (io.stopped()) io.restart();
            io.run_for(2ms);
        }
        return done();
    }

    /// One HTTP exchange on a fresh connection, driven by the io_context (bounded).
    http::response<http::string_body> call(http::verb verb, const std::string& target, const std::string& body = "") {
        auto stream = std::make_shared<beast::tcp_stream>(io);
        auto req = std::make_shared<http::request<http::string_body>>(verb, target, 11);
        req->set(http::field::host, "127.0.0.1");
        req->body() = body;
        req->prepare_payload();
        auto buffer = std::make_shared<beast::flat_buffer>();
        auto res = std::make_shared<http::response<http::string_body>>();
        bool done = false;
        stream->expires_after(kLimit);
        stream->async_connect(service->http_endpoint(), [&, stream, req, buffer, res](beast::error_code ec) {
            BOOST_REQUIRE(!ec);
            http::async_write(*stream, *req, [&, stream, req, buffer, res](beast::error_code ec, std::size_t) {
                BOOST_REQUIRE(!ec);
                http::async_read(*stream, *buffer, *res, [&, stream, buffer, res](beast::error_code ec, std::size_t) {
                    BOOST_REQUIRE(!ec);
                    done = true;
                });
            });
        });
        BOOST_REQUIRE(run_until([&] { return done; }));
        return *res;
    }

    json::value history(const std::string& id) { return json::parse(call(http::verb::get, "/history/" + id).body()); }

    asio::io_context io;
    std::vector<std::string> received;  ///< "type:job_id" of each WebSocket message the service got
    std::unique_ptr<simulation_service> service;
};

// A WebSocket client that collects every message it receives.
struct ws_client {
    ws_client(fixture& f) : ws(f.io) {
        bool open = false;
        beast::get_lowest_layer(ws).expires_after(kLimit);
        beast::get_lowest_layer(ws).async_connect(f.service->ws_endpoint(), [&](beast::error_code ec) {
            BOOST_REQUIRE(!ec);
            beast::get_lowest_layer(ws).expires_never();
            ws.async_handshake("127.0.0.1", "/", [&](beast::error_code ec) {
                BOOST_REQUIRE(!ec);
                open = true;
                read();
            });
        });
        BOOST_REQUIRE(f.run_until([&] { return open; }));
    }

    void read() {
        ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
            if (ec) {
                closed = true;
                return;
            }
            messages.push_back(json::parse(beast::buffers_to_string(buffer.data())).as_object());
            buffer.consume(buffer.size());
            read();
        });
    }

    void send(const std::string& text) {
        outbox.push_back(text);
        if (outbox.size() == 1) write();
    }
    void write() {
        ws.async_write(asio::buffer(outbox.front()), [this](beast::error_code ec, std::size_t) {
            BOOST_REQUIRE(!ec);
            outbox.erase(outbox.begin());
            if (!outbox.empty()) write();
        });
    }

    std::vector<std::string> types() const {
        std::vector<std::string> t;
        for (const auto& m : messages) t.emplace_back(m.at("type").as_string());
        return t;
    }
    bool has(const std::string& type) const {
        for (const auto& m : messages)
            if (m.at("type").as_string() == type) return true;
        return false;
    }

    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buffer;
    std::vector<std::string> outbox;
    std::vector<json::object> messages;
    bool closed = false;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(http_protocol, fixture)

BOOST_AUTO_TEST_CASE(process_then_history_until_success) {
    BOOST_TEST(service->http_endpoint().port() != 0);
    const auto res = call(http::verb::post, "/process",
                          R"({"job_id":"h1","job_type":"simulation","payload":{"x":1},"simulation_config":{"processing_time_ms":"120","steps":3,"progress_interval_ms":40}})");
    BOOST_TEST(res.result_int() == 202u);
    BOOST_TEST(json::parse(res.body()).at("job_id").as_string() == "h1");

    // Running: no status (EMP's clients keep polling), our progress field.
    const json::value running = history("h1");
    BOOST_TEST(!running.as_object().contains("status"));
    BOOST_TEST(running.at("progress").at("total_steps").as_int64() == 3);
    BOOST_TEST(service->job_status("h1") == "running");

    BOOST_REQUIRE(run_until([&] { return service->job_status("h1") == "success"; }));
    const json::value done = history("h1");
    BOOST_TEST(done.at("status").as_string() == "success");
    BOOST_TEST(done.at("outputs").at("steps").as_int64() == 3);
    BOOST_TEST(done.at("outputs").at("duration_ms").as_int64() == 120);
    BOOST_TEST(done.at("progress").at("percent").as_int64() == 100);
}

BOOST_AUTO_TEST_CASE(payload_overrides_win_and_should_fail_surfaces_halfway) {
    const auto start = std::chrono::steady_clock::now();
    call(http::verb::post, "/process",
         R"({"job_id":"h2","payload":{"should_fail":true,"duration_ms":200,"steps":4},"simulation_config":{"processing_time_ms":90000}})");
    BOOST_REQUIRE(run_until([&] { return service->job_status("h2") == "error"; }));
    // Halfway through 200 ms, not at 90 s.
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
    const json::value h = history("h2");
    BOOST_TEST(h.at("status").as_string() == "error");
    BOOST_TEST(std::string(h.at("error").as_string()).find("step 2 of 4") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_requests_and_unknown_jobs) {
    BOOST_TEST(call(http::verb::post, "/process", "not json").result_int() == 400u);
    const auto bad = call(http::verb::post, "/process", R"({"job_id":"h3","payload":{"steps":0}})");
    BOOST_TEST(bad.result_int() == 400u);
    BOOST_TEST(bad.body().find("payload.steps") != std::string::npos, bad.body());
    BOOST_TEST(call(http::verb::get, "/history/nope").result_int() == 404u);
    BOOST_TEST(call(http::verb::get, "/health").result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(a_running_job_id_is_not_restarted) {
    call(http::verb::post, "/process", R"({"job_id":"h4","payload":{"duration_ms":150,"steps":3}})");
    BOOST_REQUIRE(run_until([&] { return history("h4").at("progress").at("current_step").as_int64() >= 1; }));
    call(http::verb::post, "/process", R"({"job_id":"h4","payload":{"duration_ms":150,"steps":3}})");
    BOOST_TEST(history("h4").at("progress").at("current_step").as_int64() >= 1);
    BOOST_REQUIRE(run_until([&] { return service->job_status("h4") == "success"; }));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(websocket_protocol, fixture)

BOOST_AUTO_TEST_CASE(started_progress_complete) {
    ws_client c(*this);
    c.send(R"({"type":"simulation_job","job_id":"w1","job_type":"simulation","payload":{},"config":{"processing_time_ms":80,"steps":"4","progress_interval_ms":20}})");
    BOOST_REQUIRE(run_until([&] { return c.has("simulation_complete"); }));
    const std::vector<std::string> expected{"simulation_started", "simulation_progress", "simulation_progress",
                                            "simulation_progress", "simulation_progress", "simulation_complete"};
    BOOST_TEST(c.types() == expected, boost::test_tools::per_element());
    BOOST_TEST(c.messages[1].at("progress").as_int64() == 25);
    BOOST_TEST(c.messages[1].at("current_step").as_int64() == 1);
    BOOST_TEST(c.messages[1].at("total_steps").as_int64() == 4);
    BOOST_TEST(c.messages.back().at("results").at("steps").as_int64() == 4);
    BOOST_TEST(c.messages.back().at("job_id").as_string() == "w1");
}

BOOST_AUTO_TEST_CASE(error_and_ping) {
    ws_client c(*this);
    c.send(R"({"type":"ping"})");
    c.send(R"({"type":"simulation_job","job_id":"w2","payload":{"should_fail":true,"duration_ms":60,"steps":2}})");
    BOOST_REQUIRE(run_until([&] { return c.has("simulation_error"); }));
    BOOST_TEST(c.types().front() == "pong");
    BOOST_TEST(!c.has("simulation_complete"));
    c.send(R"({"type":"simulation_job","job_id":"w3","payload":{"steps":"many"}})");
    BOOST_REQUIRE(run_until([&] { 
        const auto* id = c.messages.back().if_contains("job_id");
        return id && id->as_string() == "w3";
    }));
    BOOST_TEST(c.messages.back().at("type").as_string() == "simulation_error");
}

BOOST_AUTO_TEST_CASE(cancel_simulation_stops_the_job) {
    ws_client c(*this);
    c.send(R"({"type":"simulation_job","job_id":"w4","payload":{"duration_ms":300,"steps":3}})");
    BOOST_REQUIRE(run_until([&] { return c.has("simulation_started"); }));
    c.send(R"({"type":"cancel_simulation","job_id":"w4"})");
    BOOST_REQUIRE(run_until([&] { return c.has("simulation_cancelled"); }));
    BOOST_TEST(service->job_status("w4") == "cancelled");
    const auto until = std::chrono::steady_clock::now() + 400ms;
    run_until([&] { return std::chrono::steady_clock::now() > until; });
    BOOST_TEST(!c.has("simulation_complete"));
    BOOST_TEST(received.back() == "cancel_simulation:w4");
}

BOOST_AUTO_TEST_CASE(stop_closes_sessions_and_ports) {
    ws_client c(*this);
    service->stop();
    BOOST_REQUIRE(run_until([&] { return c.closed; }));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_busy_port_throws) {
    asio::io_context io;
    simulation_settings s;
    s.http_endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
    s.ws_endpoint = s.http_endpoint;
    auto first = start_simulation_service(io, s);
    s.http_endpoint = first->http_endpoint();
    BOOST_CHECK_THROW(start_simulation_service(io, s), boost::system::system_error);
}
