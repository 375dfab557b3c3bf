// serve_limits: every limit of README "Security and limits" against a real in-process server
// on a free loopback port: each is hit and answered with its documented status and a message
// naming the limit's flag, nothing is half-applied (a refused job does not exist afterwards),
// slow and idle clients are cut off, a slow WebSocket consumer is dropped while the server
// keeps serving, and a table of bad inputs is refused with the field named, the server healthy
// afterwards. Also serve's option parsing of the limit and token flags. Timeouts in these
// tests are small, and the only time checks are "closed within a generous deadline".
#define BOOST_TEST_MODULE serve_limits

#include <boost/test/unit_test.hpp>

#include "test/support/server_fixture.hpp"
#include "test/support/raw_http.hpp"
#include "test/support/raw_socket.hpp"

#include "app/serve_options.hpp"

#include <boost/beast/websocket.hpp>

#include <map>

using test_support::raw_socket;

namespace {

constexpr auto kClosedWithin = 10s;  // "eventually closed": generous, never a timing assertion

std::size_t job_total(server_fixture& f) {
    return f.get_json_object("/api/jobs").at("total").to_number<std::size_t>();
}

std::size_t health_pending(server_fixture& f) {
    return f.get_json_object("/health").at("pending").to_number<std::size_t>();
}

// The value of an unlabelled metric, or -1 when /metrics lacks it.
long long metric(server_fixture& f, const std::string& name) {
    auto r = f.get("/metrics");
    BOOST_REQUIRE(r.status == 200);
    const std::string line_start = "\n" + name + " ";
    const auto at = r.body.find(line_start);
    if (at == std::string::npos) return -1;
    return std::stoll(r.body.substr(at + line_start.size()));
}

void expect_healthy(server_fixture& f) {
    auto r = f.get("/health");
    BOOST_TEST(r.status == 200, "the server no longer answers /health: " << r.status << " " << r.body);
}

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A WebSocket client of /ws/events with a bounded run for each step.
struct ws_client {
    asio::io_context io;
    beast::websocket::stream<beast::tcp_stream> ws{io};

    // `receive_buffer` > 0 makes a slow consumer: a small SO_RCVBUF, set before connecting.
    bool connect(const std::string& port, const std::string& target, int receive_buffer = 0) {
        auto& sock = beast::get_lowest_layer(ws).socket();
        sock.open(asio::ip::tcp::v4());
        if (receive_buffer > 0) sock.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
        bool ok = false;
        const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port)));
        beast::get_lowest_layer(ws).expires_after(10s);
        beast::get_lowest_layer(ws).async_connect(ep, [&](beast::error_code ec) {
            if (ec) return;
            beast::get_lowest_layer(ws).expires_never();
            ws.async_handshake("127.0.0.1:" + port, target, [&](beast::error_code ec2) { ok = !ec2; });
        });
        io.run_for(10s);
        io.restart();
        return ok;
    }
    // The next text message, or nullopt (closed, or nothing within `timeout`).
    std::optional<std::string> read(std::chrono::milliseconds timeout = 10s) {
        beast::flat_buffer buf;
        std::optional<std::string> out;
        bool done = false;
        ws.async_read(buf, [&](beast::error_code ec, std::size_t) {
            done = true;
            if (!ec) out = beast::buffers_to_string(buf.data());
        });
        io.run_for(timeout);
        io.restart();
        if (!done) {  // abandon the read: close the socket so its handler runs now
            beast::error_code ignored;
            beast::get_lowest_layer(ws).socket().close(ignored);
            io.run_for(1s);
            io.restart();
        }
        return out;
    }
    bool write(const std::string& text) {
        bool ok = false;
        ws.text(true);
        ws.async_write(asio::buffer(text), [&](beast::error_code ec, std::size_t) { ok = !ec; });
        io.run_for(10s);
        io.restart();
        return ok;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(serve_limits, server_fixture)

// ---- request size --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(body_over_max_body_bytes_is_413_naming_the_flag) {
    config c;
    c.max_body_bytes = 1024;
    start(c);
    const std::string body = R"({"service_required":"ext","payload":")" + std::string(4096, 'x') + R"("})";
    auto raw = raw_request(port, verb::post, "/api/jobs", body);
    expect_refusal(raw, 413, "payload_too_large", {"1024", "--max-body-bytes"});
    BOOST_TEST(job_total(*this) == 0u);
    expect_healthy(*this);
}

BOOST_AUTO_TEST_CASE(headers_over_max_header_bytes_are_431_naming_the_flag) {
    start(config{.tune = [](server_settings& s) { s.limits.max_header_bytes = 2048; }});
    auto raw = raw_request(port, verb::get, "/health", {}, {{http::field::user_agent, std::string(4096, 'a')}});
    expect_refusal(raw, 431, "headers_too_large", {"2048", "--max-header-bytes"});
    expect_healthy(*this);
}

BOOST_AUTO_TEST_CASE(json_deeper_than_max_json_depth_is_400_naming_the_flag) {
    start(config{.tune = [](server_settings& s) { s.limits.max_json_depth = 8; }});
    // Depth 8 in all: the object and 7 arrays.
    submit(R"({"service_required":"ext","payload":)" + nested(7) + "}");
    auto r = post("/api/jobs", R"({"service_required":"ext","payload":)" + nested(8) + "}");
    expect_refusal(r, 400, "limit_exceeded", {"deeper than 8", "--max-json-depth", "line 1, column"});
    BOOST_TEST(job_total(*this) == 1u);
}

BOOST_AUTO_TEST_CASE(strings_over_max_string_bytes_are_400_naming_field_and_flag) {
    start(config{.tune = [](server_settings& s) { s.limits.max_string_bytes = 100; }});
    submit(R"({"service_required":"ext","payload":{"text":")" + std::string(100, 'a') + R"("}})");
    auto r = post("/api/jobs", R"({"service_required":"ext","payload":{"text":")" + std::string(101, 'a') + R"("}})");
    expect_refusal(r, 400, "limit_exceeded", {"body.payload.text", "101 bytes", "100", "--max-string-bytes"});
    // Keys count too.
    r = post("/api/jobs", R"({"service_required":"ext","payload":{")" + std::string(101, 'k') + R"(":1}})");
    expect_refusal(r, 400, "limit_exceeded", {"body.payload[\"kkk", "key of 101 bytes", "--max-string-bytes"});
    BOOST_TEST(job_total(*this) == 1u);
}

BOOST_AUTO_TEST_CASE(ids_over_max_id_bytes_are_400_naming_field_and_flag) {
    start(config{.tune = [](server_settings& s) { s.limits.max_id_bytes = 32; }});
    const std::string long_id(33, 'i');
    for (const std::string field : {"id", "service_required", "customer_id", "workflow_id"}) {
        BOOST_TEST_CONTEXT(field) {
            json::object body{{"service_required", "ext"}};
            body[field] = long_id;
            auto r = post("/api/jobs", json::serialize(body));
            expect_refusal(r, 400, "limit_exceeded", {"body." + field, "33 bytes", "--max-id-bytes"});
        }
    }
    auto r = post("/api/workers", R"({"worker_id":")" + long_id + R"(","worker_type":"ext"})");
    expect_refusal(r, 400, "limit_exceeded", {"body.worker_id", "--max-id-bytes"});
    BOOST_TEST(job_total(*this) == 0u);
    BOOST_TEST(workers().empty());
    submit(R"({"id":")" + std::string(32, 'i') + R"(","service_required":"ext"})");
}

BOOST_AUTO_TEST_CASE(requirements_over_max_requirements_bytes_are_400) {
    start(config{.tune = [](server_settings& s) { s.limits.max_requirements_bytes = 64; }});
    const std::string small = R"({"service_required":"ext","requirements":{"hardware":{"gpu_memory_gb":8}}})";
    submit(small);
    auto r = post("/api/jobs", R"({"service_required":"ext","requirements":{"custom":{"tag":")" + std::string(80, 't') + R"("}}})");
    expect_refusal(r, 400, "limit_exceeded", {"body.requirements", "--max-requirements-bytes"});
    BOOST_TEST(job_total(*this) == 1u);
}

// ---- pending jobs ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(submissions_beyond_max_pending_jobs_are_429_with_retry_after_and_not_kept) {
    start(config{.tune = [](server_settings& s) { s.dispatching.max_pending_jobs = 3; }});
    for (int i = 0; i < 3; ++i) submit(R"({"id":"j)" + std::to_string(i) + R"(","service_required":"ext"})");
    BOOST_TEST(health_pending(*this) == 3u);

    auto raw = raw_request(port, verb::post, "/api/jobs", R"({"id":"over","service_required":"ext2"})");
    expect_refusal(raw, 429, "too_many_pending", {"3 jobs are waiting", "--max-pending-jobs"});
    BOOST_TEST(raw.header(http::field::retry_after) == "1");
    // Not half-applied: the job does not exist, the counts are unchanged.
    BOOST_TEST(get("/api/jobs/over").status == 404u);
    BOOST_TEST(health_pending(*this) == 3u);
    BOOST_TEST(job_total(*this) == 3u);
    BOOST_TEST(metric(*this, "jobrouter_jobs_waiting") == 3);

    // Resubmitting a job that exists is still answered (idempotent), not refused.
    auto again = post("/api/jobs", R"({"id":"j0","service_required":"ext"})");
    BOOST_TEST(again.status == 200u, again.body);

    // A job that stops waiting makes room.
    BOOST_TEST(post("/api/jobs/j1/cancel").status == 200u);
    submit(R"({"id":"over","service_required":"ext2"})");
    BOOST_TEST(health_pending(*this) == 3u);
}

BOOST_AUTO_TEST_CASE(submissions_beyond_max_pending_per_type_are_429_for_that_type_only) {
    start(config{.tune = [](server_settings& s) { s.dispatching.max_pending_per_type = 2; }});
    submit(R"({"id":"e1","service_required":"ext"})");
    submit(R"({"id":"e2","service_required":"ext"})");
    auto r = post("/api/jobs", R"({"id":"e3","service_required":"ext"})");
    expect_refusal(r, 429, "too_many_pending", {"\"ext\"", "2", "--max-pending-per-type"});
    BOOST_TEST(get("/api/jobs/e3").status == 404u);
    // Another type still gets in (submitted later, and its id ranks it after e1 and e2 on a tie).
    submit(R"({"id":"a-ext2","service_required":"ext2"})");
    // A running job no longer waits: claiming one makes room for the type.
    register_worker("w1");
    BOOST_TEST(str(claim_now("w1").job.at("service_required")) == "ext");
    submit(R"({"id":"e3","service_required":"ext"})");
}

// ---- connections and timeouts ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(connections_beyond_max_connections_get_503_and_the_server_recovers) {
    start(config{.tune = [](server_settings& s) { s.limits.max_connections = 2; }});
    client.reset();  // the fixture's keep-alive connection would hold a slot
    auto a = std::make_unique<raw_socket>(port);
    auto b = std::make_unique<raw_socket>(port);
    BOOST_REQUIRE(a->connected() && b->connected());
    auto refused = raw_request(port, verb::get, "/health");
    expect_refusal(refused, 503, "too_many_connections", {"2", "--max-connections"});
    BOOST_TEST(refused.header(http::field::retry_after) == "1");
    a.reset();
    b.reset();
    // The slots come back once the server sees the closes.
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    raw_reply r;
    do {
        r = raw_request(port, verb::get, "/health");
        if (r.ok && r.status() == 200) break;
        std::this_thread::sleep_for(kPoll);
    } while (std::chrono::steady_clock::now() < deadline);
    BOOST_TEST(r.status() == 200u, "never served again after the connections closed: " << r.res.body() << r.error);
    client = std::make_unique<http_client>("127.0.0.1", port, 20s);
    BOOST_TEST(metric(*this, "jobrouter_connections_refused_total") >= 1);
}

BOOST_AUTO_TEST_CASE(slow_loris_partial_header_is_disconnected_after_the_header_timeout) {
    start(config{.tune = [](server_settings& s) {
        s.limits.header_timeout = 300ms;
        s.limits.idle_timeout = 20s;
    }});
    raw_socket s(port);
    BOOST_REQUIRE(s.connected());
    BOOST_REQUIRE(s.send("POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"));
    auto r = s.read_until_closed(kClosedWithin);
    BOOST_TEST(r.closed, "a stalled header held its connection; got: " << r.data);
    BOOST_TEST(r.data.empty(), "no request, no reply: " << r.data);
    expect_healthy(*this);
}

BOOST_AUTO_TEST_CASE(a_header_trickled_byte_by_byte_is_cut_off_all_the_same) {
    start(config{.tune = [](server_settings& s) {
        s.limits.header_timeout = 300ms;
        s.limits.idle_timeout = 20s;
    }});
    raw_socket s(port);
    BOOST_REQUIRE(s.connected());
    BOOST_REQUIRE(s.send("GET /health HTTP/1.1\r\n"));
    const auto deadline = std::chrono::steady_clock::now() + kClosedWithin;
    bool closed = false;
    while (!closed && std::chrono::steady_clock::now() < deadline) {
        closed = !s.send("X") || s.closed_now();  // a header line that never ends
        std::this_thread::sleep_for(20ms);
    }
    BOOST_TEST(closed, "a client that keeps sending a byte at a time held its connection");
}

BOOST_AUTO_TEST_CASE(an_idle_keep_alive_connection_is_closed_after_the_idle_timeout) {
    start(config{.tune = [](server_settings& s) {
        s.limits.idle_timeout = 300ms;
        s.limits.header_timeout = 20s;
    }});
    raw_socket s(port);
    BOOST_REQUIRE(s.connected());
    BOOST_REQUIRE(s.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = s.read_until_closed(kClosedWithin);
    BOOST_TEST(r.closed, "an idle keep-alive connection was never closed");
    BOOST_TEST(r.data.rfind("HTTP/1.1 200", 0) == 0u, "the request before idling was answered: " << r.data);
}

BOOST_AUTO_TEST_CASE(a_body_that_never_completes_is_cut_off_by_the_read_timeout) {
    start(config{.tune = [](server_settings& s) {
        s.limits.read_timeout = 300ms;
        s.limits.header_timeout = 300ms;
    }});
    raw_socket s(port);
    BOOST_REQUIRE(s.connected());
    BOOST_REQUIRE(s.send("POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"service_"));
    auto r = s.read_until_closed(kClosedWithin);
    BOOST_TEST(r.closed, "a body that stopped halfway held its connection; got: " << r.data);
    BOOST_TEST(job_total(*this) == 0u);
}

BOOST_AUTO_TEST_CASE(expect_100_continue_is_answered_before_the_body_and_refused_early_when_too_large) {
    config c;
    c.max_body_bytes = 1024;
    start(c);
    const std::string body = R"({"id":"continued","service_required":"ext"})";
    raw_socket s(port);
    BOOST_REQUIRE(s.connected());
    BOOST_REQUIRE(s.send("POST /api/jobs HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n"));
    const std::string interim = s.read_until("\r\n\r\n", kClosedWithin);
    BOOST_TEST(interim.rfind("HTTP/1.1 100 Continue", 0) == 0u, "no 100 Continue: " << interim);
    BOOST_REQUIRE(s.send(body));
    const std::string reply = s.read_until("\"continued\"", kClosedWithin);
    BOOST_TEST(reply.rfind("HTTP/1.1 201", 0) == 0u, reply);

    // Too large by its Content-Length: 413 at once, the body never sent.
    raw_socket big(port);
    BOOST_REQUIRE(big.connected());
    BOOST_REQUIRE(big.send("POST /api/jobs HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"));
    auto refused = big.read_until_closed(kClosedWithin);
    BOOST_TEST(refused.data.rfind("HTTP/1.1 413", 0) == 0u, refused.data);
    BOOST_TEST(refused.data.find("--max-body-bytes") != std::string::npos, refused.data);
    BOOST_TEST(job_total(*this) == 1u);
}

// ---- WebSocket -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_slow_websocket_consumer_is_dropped_while_the_server_keeps_serving) {
    start(config{.tune = [](server_settings& s) {
        s.limits.max_ws_queue = 16;
        s.limits.max_id_bytes = 8192;
        s.limits.max_body_bytes = 64 * 1024;
    }});
    // The slow one never reads, with a small receive buffer; the other reads ext2 events.
    ws_client slow, fast;
    BOOST_REQUIRE(slow.connect(port, "/ws/events", 4096));
    BOOST_REQUIRE(fast.connect(port, "/ws/events?type=ext2"));
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (metric(*this, "jobrouter_websocket_clients") < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(kPoll);
    BOOST_REQUIRE_EQUAL(metric(*this, "jobrouter_websocket_clients"), 2);

    // Each submission is a ~4 KiB event: the slow client's socket buffers fill, then its queue.
    const std::string pad(4000, 'p');
    int submitted = 0;
    while (metric(*this, "jobrouter_websocket_dropped_total") < 1 && submitted < 5000 &&
           std::chrono::steady_clock::now() < deadline) {
        for (int i = 0; i < 20; ++i) submit(R"({"id":")" + pad + std::to_string(submitted++) + R"(","service_required":"ext"})");
    }
    BOOST_TEST_MESSAGE("slow consumer dropped after " << submitted << " events");
    BOOST_REQUIRE_EQUAL(metric(*this, "jobrouter_websocket_dropped_total"), 1);

    // The server still answers, and the other client still gets its events.
    expect_healthy(*this);
    const std::string id = submit(R"({"id":"after-drop","service_required":"ext2"})");
    auto event = fast.read();
    BOOST_REQUIRE_MESSAGE(event, "the reading client got nothing after the slow one was dropped");
    BOOST_TEST(event->find("\"after-drop\"") != std::string::npos, *event);
    BOOST_TEST(metric(*this, "jobrouter_websocket_dropped_total") == 1);
}

BOOST_AUTO_TEST_CASE(a_websocket_message_over_max_ws_message_bytes_closes_that_connection) {
    start(config{.tune = [](server_settings& s) { s.limits.max_ws_message_bytes = 1024; }});
    ws_client c;
    BOOST_REQUIRE(c.connect(port, "/ws/events"));
    BOOST_REQUIRE(c.write(std::string(4096, 'm')));
    // The server closes: the next read ends without a message (no event is submitted).
    BOOST_TEST(!c.read(kClosedWithin).has_value());
    expect_healthy(*this);
}

BOOST_AUTO_TEST_CASE(a_websocket_upgrade_to_a_wrong_path_is_refused_with_a_bounded_reply) {
    // The refusal is written synchronously on the loop's thread; it echoed the whole target (up
    // to --max-header-bytes), so the reply was as large as the request.
    start(config{.tune = [](server_settings& s) { s.limits.max_header_bytes = 2 * 1024 * 1024; }});
    raw_socket s(port);
    BOOST_REQUIRE(s.connected());
    BOOST_REQUIRE(s.send("GET /ws/nowhere?" + std::string(1024 * 1024, 'a') +
                         " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
    auto r = s.read_until_closed(kClosedWithin);
    BOOST_TEST(r.closed);
    BOOST_TEST(r.data.rfind("HTTP/1.1 404", 0) == 0u, r.data.substr(0, 200));
    BOOST_TEST(r.data.find("/ws/nowhere?aaaa") != std::string::npos, r.data.substr(0, 400));
    BOOST_TEST(r.data.size() < 2048u, "the refusal echoed the whole target: " << r.data.size() << " bytes");
    expect_healthy(*this);
}

// ---- bad input everywhere in the API ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_input_is_refused_with_the_field_named_and_nothing_applied) {
    start(config{.tune = [](server_settings& s) { s.limits.max_string_bytes = 1000; }});
    register_worker("w1");
    submit(R"({"id":"dup","service_required":"ext"})");
    struct row {
        verb method;
        std::string target;
        std::string body;
        unsigned status;
        std::string code;
        std::vector<std::string> parts;  ///< each must appear in the message
    };
    const std::string bad_utf8_value = "{\"service_required\":\"ext\",\"payload\":{\"text\":\"a\xff" "b\"}}";
    const std::string bad_utf8_key = "{\"service_required\":\"ext\",\"payload\":{\"\xc0\xaf\":1}}";
    const std::string surrogate_bytes = "{\"service_required\":\"ext\",\"payload\":\"\xed\xa0\x80\"}";
    const std::vector<row> rows{
        {verb::post, "/api/jobs", R"({"service_required":)", 400, "invalid_json", {"invalid JSON", "line 1, column"}},
        {verb::post, "/api/jobs", "{\n\"service_required\": \"ext\",,\n}", 400, "invalid_json", {"line 2"}},
        {verb::post, "/api/jobs", R"([1,2])", 400, "invalid_request", {"body", "JSON object"}},
        {verb::post, "/api/jobs", R"({"service_required":5})", 400, "invalid_request", {"service_required"}},
        {verb::post, "/api/jobs", R"({"priority":5})", 400, "invalid_request", {"service_required"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","priority":"high"})", 400, "invalid_request", {"priority"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","priority":"NaN"})", 400, "invalid_request", {"priority"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","priority":1e400})", 400, "invalid_json", {"body.priority", "out of range"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","payload":{"x":[-1e400]}})", 400, "invalid_json", {"body.payload.x[0]"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","priority":NaN})", 400, "invalid_json", {"invalid JSON"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","priority":Infinity})", 400, "invalid_json", {"invalid JSON"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","priority":99999999999999999999999})", 400, "invalid_request", {"priority"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","priority":1024})", 400, "invalid_request", {"priority"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","max_retries":-1})", 400, "invalid_request", {"max_retries"}},
        {verb::post, "/api/jobs", bad_utf8_value, 400, "invalid_json", {"body.payload.text", "UTF-8"}},
        {verb::post, "/api/jobs", bad_utf8_key, 400, "invalid_json", {"key", "UTF-8"}},
        {verb::post, "/api/jobs", surrogate_bytes, 400, "invalid_json", {"body.payload", "UTF-8"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","payload":"\ud800"})", 400, "invalid_json", {"invalid JSON"}},
        {verb::post, "/api/jobs", "{\"service_required\":\"ext\"}\xff", 400, "invalid_json", {"UTF-8"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","payload":")" + std::string(1001, 'x') + "\"}", 400, "limit_exceeded",
         {"body.payload", "--max-string-bytes"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","requirements":{"hardware":{"gpu_memory_gb":"lots"}}})", 400,
         "invalid_request", {"requirements.hardware.gpu_memory_gb"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","requirements":[]})", 400, "invalid_request", {"requirements"}},
        {verb::post, "/api/jobs", R"({"id":"dup","service_required":"ext2"})", 409, "conflict", {"dup"}},
        {verb::post, "/api/jobs", R"({"id":7,"service_required":"ext"})", 400, "invalid_request", {"id"}},
        {verb::post, "/api/workers", R"({"worker_id":"w2","worker_type":"nope"})", 400, "invalid_request", {"worker_type"}},
        {verb::post, "/api/workers", R"({"worker_id":5})", 400, "invalid_request", {"worker_id"}},
        {verb::get, "/api/jobs?status=bogus", "", 400, "invalid_request", {"status", "bogus"}},
        {verb::get, "/api/jobs?limit=abc", "", 400, "invalid_request", {"limit"}},
        {verb::get, "/api/jobs?limit=99999999999999999999999", "", 400, "invalid_request", {"limit"}},
        {verb::get, "/api/jobs?unroutable=maybe", "", 400, "invalid_request", {"unroutable"}},
        {verb::post, "/api/workers/w1/claim?wait_ms=-5", "", 400, "invalid_request", {"wait_ms"}},
        {verb::post, "/api/jobs/dup/progress", R"({"lease_token":"t","progress":"50"})", 400, "invalid_request", {"progress"}},
        {verb::post, "/api/jobs/dup/progress", R"({"lease_token":"t","progress":1e400})", 400, "invalid_json", {"body.progress"}},
        {verb::post, "/api/jobs/dup/progress", R"({"lease_token":5,"progress":5})", 400, "invalid_request", {"lease_token"}},
        {verb::post, "/api/jobs/dup/fail", R"({"lease_token":"t","retryable":"yes"})", 400, "invalid_request", {"retryable"}},
        {verb::post, "/api/jobs/dup/complete", R"({"lease_token":"stale"})", 409, "conflict", {}},
        // Ids go into URLs, events and log lines: no control characters (C0, DEL, C1), escaped or raw.
        {verb::post, "/api/jobs", R"({"id":"a\nb","service_required":"ext"})", 400, "invalid_request", {"body.id", "U+000A", "byte 1"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext\u0000"})", 400, "invalid_request", {"body.service_required", "U+0000"}},
        {verb::post, "/api/jobs", "{\"service_required\":\"ext\",\"customer_id\":\"c\x7f\"}", 400, "invalid_request",
         {"body.customer_id", "U+007F"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext","workflow_id":"w\u009b2J"})", 400, "invalid_request",
         {"body.workflow_id", "U+009B"}},
        {verb::post, "/api/workers", R"({"worker_id":"w\t2","worker_type":"ext"})", 400, "invalid_request", {"body.worker_id", "U+0009"}},
        {verb::post, "/api/workers", R"({"worker_id":"w2","worker_type":"ext\r"})", 400, "invalid_request", {"body.worker_type", "U+000D"}},
        // Duplicate keys: the last one wins, for the checks and the job alike.
        {verb::post, "/api/jobs", R"({"service_required":"ext","service_required":5})", 400, "invalid_request", {"service_required"}},
        {verb::post, "/api/jobs", R"({"id":"fresh","id":"dup","service_required":"ext2"})", 409, "conflict", {"dup"}},
        {verb::post, "/api/jobs", R"({"id":"ok","id":"x\ny","service_required":"ext"})", 400, "invalid_request", {"body.id", "U+000A"}},
        // Not a JSON object, or more than one value.
        {verb::post, "/api/jobs", " ", 400, "invalid_json", {"invalid JSON"}},
        {verb::post, "/api/jobs", "null", 400, "invalid_request", {"body", "JSON object"}},
        {verb::post, "/api/jobs", R"("ext")", 400, "invalid_request", {"body", "JSON object"}},
        {verb::post, "/api/jobs", R"({"service_required":"ext"} {"service_required":"ext"})", 400, "invalid_json", {"invalid JSON"}},
        {verb::post, "/api/jobs", "\xef\xbb\xbf{\"service_required\":\"ext\"}", 400, "invalid_json", {"invalid JSON", "byte 0"}},
        {verb::post, "/api/jobs/dup/progress", "[]", 400, "invalid_request", {"body", "JSON object"}},
        {verb::post, "/api/jobs/dup/progress", "{}", 400, "invalid_request", {"lease_token"}},
        // Ids in the path: decoded, looked up, and quoted back escaped (the reply stays JSON).
        {verb::get, "/api/jobs/a%0Ab", "", 404, "not_found", {R"("a\nb")"}},
        {verb::post, "/api/jobs/%00/cancel", "", 404, "not_found", {R"("\u0000")"}},
        {verb::post, "/api/workers/nobody%0D/heartbeat", "", 404, "not_found", {R"("nobody\r")"}},
        {verb::get, "/api/jobs?cursor=0", "", 400, "invalid_request", {"cursor"}},
        {verb::get, "/api/jobs?offset=-1", "", 400, "invalid_request", {"offset"}},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(http::to_string(r.method) << " " << r.target << " " << r.body) {
            auto reply = call(r.method, r.target, r.body);
            const std::string message = expect_refusal(reply.status, reply.body, r.status, r.code);
            for (const auto& p : r.parts) BOOST_TEST(message.find(p) != std::string::npos, "message lacks " << p << ": " << message);
        }
    }
    // Nothing was applied: one job, still pending, one worker; the server is healthy.
    expect_healthy(*this);
    BOOST_TEST(job_total(*this) == 1u);
    BOOST_TEST(status_of("dup") == "pending");
    BOOST_TEST(workers().size() == 1u);
}

// ---- serve's options -------------------------------------------------------------------------

namespace {

result<serve_options> parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    bool help = false;
    return parse_serve_options(args, [env](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    }, help);
}

std::string error_of(const result<serve_options>& r) { return r ? std::string("(accepted)") : r.error().text(); }

}  // namespace

BOOST_AUTO_TEST_CASE(every_limit_is_a_flag_and_an_environment_variable_flags_first) {
    auto d = parse({});
    BOOST_REQUIRE(d);
    BOOST_TEST(d->max_body_bytes == 1048576);
    BOOST_TEST(d->max_pending_jobs == 100000);
    BOOST_TEST(d->header_timeout_ms == 10000);
    auto o = parse({"--max-pending-jobs", "7", "--header-timeout-ms", "250", "--max-ws-queue", "9"},
                   {{"JOBROUTER_MAX_PENDING_JOBS", "8"}, {"JOBROUTER_IDLE_TIMEOUT_MS", "1234"}, {"JOBROUTER_MAX_JSON_DEPTH", "10"}});
    BOOST_REQUIRE_MESSAGE(o, error_of(o));
    BOOST_TEST(o->max_pending_jobs == 7);
    BOOST_TEST(o->header_timeout_ms == 250);
    BOOST_TEST(o->max_ws_queue == 9);
    BOOST_TEST(o->idle_timeout_ms == 1234);
    BOOST_TEST(o->max_json_depth == 10);
    const std::string help = serve_help();
    for (const char* flag : {"--max-body-bytes", "--max-header-bytes", "--max-json-depth", "--max-string-bytes", "--max-id-bytes",
                             "--max-requirements-bytes", "--max-pending-jobs", "--max-pending-per-type", "--max-connections",
                             "--header-timeout-ms", "--idle-timeout-ms", "--read-timeout-ms", "--write-timeout-ms",
                             "--max-ws-queue", "--max-ws-message-bytes", "--auth-token", "--worker-token"})
        BOOST_TEST(help.find(flag) != std::string::npos, "--help lacks " << flag);
}

BOOST_AUTO_TEST_CASE(bad_limit_values_are_refused_naming_the_flag_or_variable) {
    BOOST_TEST(error_of(parse({"--max-json-depth", "0"})).find("--max-json-depth") != std::string::npos);
    BOOST_TEST(error_of(parse({"--max-json-depth", "5000"})).find("1..1000") != std::string::npos);
    BOOST_TEST(error_of(parse({"--max-pending-jobs", "-1"})).find("--max-pending-jobs") != std::string::npos);
    BOOST_TEST(error_of(parse({"--lease-ms", "99999999999999999999"})).find("lease-ms") != std::string::npos);
    BOOST_TEST(error_of(parse({"--lease-ms", "9000000000000000000"})).find("--lease-ms") != std::string::npos);
    BOOST_TEST(error_of(parse({"--max-connections", "1e3"})).find("max-connections") != std::string::npos);
    const std::string env_error = error_of(parse({}, {{"JOBROUTER_MAX_BODY_BYTES", "lots"}}));
    BOOST_TEST(env_error.find("JOBROUTER_MAX_BODY_BYTES") != std::string::npos, env_error);
}

BOOST_AUTO_TEST_CASE(tokens_are_checked_without_being_echoed) {
    auto o = parse({}, {{"JOBROUTER_AUTH_TOKEN", "client-secret-1"}, {"JOBROUTER_WORKER_TOKEN", "worker-secret-1"}});
    BOOST_REQUIRE_MESSAGE(o, error_of(o));
    BOOST_TEST(o->auth_token == "client-secret-1");
    BOOST_TEST(o->worker_token == "worker-secret-1");
    auto flag_wins = parse({"--auth-token", "from-flag"}, {{"JOBROUTER_AUTH_TOKEN", "from-env"}});
    BOOST_REQUIRE(flag_wins);
    BOOST_TEST(flag_wins->auth_token == "from-flag");

    const std::string spaced = error_of(parse({"--auth-token", "has a space"}));
    BOOST_TEST(spaced.find("--auth-token") != std::string::npos, spaced);
    BOOST_TEST(spaced.find("has a space") == std::string::npos, "the token was echoed: " << spaced);
    const std::string same = error_of(parse({"--auth-token", "same-token", "--worker-token", "same-token"}));
    BOOST_TEST(same.find("--worker-token") != std::string::npos, same);
    BOOST_TEST(same.find("same-token") == std::string::npos, "the token was echoed: " << same);
}

BOOST_AUTO_TEST_SUITE_END()
