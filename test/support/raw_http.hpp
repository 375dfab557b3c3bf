// raw_http: one HTTP request on a fresh connection with a bounded run, for what http_client
// does not show (response headers such as Retry-After and WWW-Authenticate), and a check of
// the error body every refusal has. Include after server_fixture.hpp.
#pragma once

#include <initializer_list>
#include <utility>

namespace {

struct raw_reply {
    bool ok = false;
    std::string error;
    http::response<http::string_body> res;
    unsigned status() const { return res.result_int(); }
    std::string header(http::field f) const { return std::string(res[f]); }
};

raw_reply raw_request(const std::string& port, verb method, const std::string& target, const std::string& body = {},
                      std::initializer_list<std::pair<http::field, std::string>> headers = {}) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer;
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:" + port);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
    }
    req.prepare_payload();
    raw_reply out;
    const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port)));
    stream.expires_after(10s);
    stream.async_connect(ep, [&](beast::error_code ec) {
        if (ec) {
            out.error = "connect: " + ec.message();
            return;
        }
        http::async_write(stream, req, [&](beast::error_code, std::size_t) {
            // Read even when the write failed: the server may answer early and close (413, 401).
            http::async_read(stream, buffer, out.res, [&](beast::error_code ec2, std::size_t) {
                if (ec2)
                    out.error = "read: " + ec2.message();
                else
                    out.ok = true;
            });
        });
    });
    io.run_for(15s);
    if (!out.ok && out.error.empty()) out.error = "no reply in time";
    return out;
}

// Every refusal is {"error":{"code":"...","message":"..."}}: checks the status and code, and
// that the message holds each of `parts`. Returns the message.
[[maybe_unused]] std::string expect_refusal(unsigned got_status, const std::string& body, unsigned status, const std::string& code,
                           std::initializer_list<std::string> parts = {}) {
    BOOST_TEST(got_status == status, "status " << got_status << " (want " << status << "), body " << body);
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    BOOST_REQUIRE_MESSAGE(!ec && v.is_object(), "error body is not a JSON object: " << body);
    const json::value* e = v.get_object().if_contains("error");
    BOOST_REQUIRE_MESSAGE(e && e->is_object(), "no error object: " << body);
    const json::value* c = e->get_object().if_contains("code");
    const json::value* m = e->get_object().if_contains("message");
    BOOST_REQUIRE_MESSAGE(c && c->is_string() && m && m->is_string(), "error without code or message: " << body);
    BOOST_TEST(std::string(c->get_string()) == code, "code in " << body);
    const std::string message(m->get_string());
    for (const auto& p : parts) BOOST_TEST(message.find(p) != std::string::npos, "message lacks " << p << ": " << message);
    return message;
}

[[maybe_unused]] std::string expect_refusal(const http_reply& r, unsigned status, const std::string& code,
                                            std::initializer_list<std::string> parts = {}) {
    return expect_refusal(r.status, r.body, status, code, parts);
}

[[maybe_unused]] std::string expect_refusal(const raw_reply& r, unsigned status, const std::string& code,
                           std::initializer_list<std::string> parts = {}) {
    BOOST_REQUIRE_MESSAGE(r.ok, "no reply: " << r.error);
    return expect_refusal(r.status(), r.res.body(), status, code, parts);
}

}  // namespace
