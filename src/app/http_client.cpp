#include "app/http_client.hpp"

#include "core/json_util.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>

namespace jobrouter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

result<std::pair<std::string, std::string>> split_host_port(const std::string& address, const std::string& option) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
        return make_error(option, "must be HOST:PORT, got " + quoted(address));
    std::string host = address.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return std::make_pair(host, address.substr(colon + 1));
}

http_client::http_client(std::string host, std::string port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(std::move(port)), timeout_(timeout) {}

http_client::~http_client() = default;

result<void> http_client::connect() {
    tcp::resolver resolver(io_);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(host_, port_, ec);
    if (ec) return make_error(host_ + ":" + port_, "cannot resolve: " + ec.message());
    stream_.emplace(io_);
    stream_->expires_after(timeout_);
    stream_->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    io_.restart();
    io_.run();
    if (ec) {
        stream_.reset();
        return make_error(host_ + ":" + port_, "cannot connect: " + ec.message() + " (is `jobrouter serve` running there?)");
    }
    return {};
}

result<http_reply> http_client::exchange(const http::request<http::string_body>& req) {
    beast::error_code ec;
    stream_->expires_after(timeout_);
    http::async_write(*stream_, req, [&](beast::error_code e, std::size_t) { ec = e; });
    io_.restart();
    io_.run();
    if (ec) return make_error(host_ + ":" + port_, "cannot send the request: " + ec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    stream_->expires_after(timeout_);
    http::async_read(*stream_, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    io_.restart();
    io_.run();
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset)
        return make_error(host_ + ":" + port_, "closed by the server: " + ec.message());
    if (ec) return make_error(host_ + ":" + port_, "no reply: " + ec.message());
    auto res = parser.release();
    http_reply reply;
    reply.status = res.result_int();
    reply.body = std::move(res.body());
    reply.content_type = std::string(res[http::field::content_type]);
    if (!res.keep_alive()) stream_.reset();
    return reply;
}

result<http_reply> http_client::request(http::verb method, const std::string& target, const std::string& body,
                                        const std::vector<std::pair<std::string, std::string>>& headers) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, host_ + ":" + port_);
    req.set(http::field::user_agent, "jobrouter-cli");
    if (!body.empty() || method == http::verb::post) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
    }
    if (!bearer_token_.empty()) req.set(http::field::authorization, "Bearer " + bearer_token_);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.keep_alive(true);
    req.prepare_payload();
    // A kept-alive connection may have been closed by the server meanwhile (idle timeout): then,
    // and only then, one retry on a fresh connection. Other failures are not retried, so a POST
    // the server may have applied is never sent twice.
    const bool reused = stream_.has_value();
    if (!stream_) {
        if (auto c = connect(); !c) return c.error();
    }
    auto r = exchange(req);
    if (!r && reused && (r.error().message.rfind("closed by the server", 0) == 0 ||
                         r.error().message.rfind("cannot send", 0) == 0)) {
        stream_.reset();
        if (auto c = connect(); !c) return c.error();
        r = exchange(req);
    }
    if (!r) stream_.reset();
    return r;
}

}  // namespace jobrouter
