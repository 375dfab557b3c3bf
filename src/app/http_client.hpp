// http_client: a small blocking HTTP/1.1 client over Beast for the CLI commands (submit,
// status) and for tests and the bench. It keeps one keep-alive connection, reconnects when the
// server closed it, and bounds every request by a deadline. Not thread-safe: one per thread.
#pragma once

#include "core/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace jobrouter {

struct http_reply {
    unsigned status = 0;
    std::string body;
    std::string content_type;
};

class http_client {
public:
    /// `host`, `port`: where the server listens. `timeout` bounds each request.
    http_client(std::string host, std::string port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    ~http_client();

    /// Sends one request and reads its reply. Errors say what failed and where.
    result<http_reply> request(boost::beast::http::verb method, const std::string& target, const std::string& body = {},
                               const std::vector<std::pair<std::string, std::string>>& headers = {});

    result<http_reply> get(const std::string& target) { return request(boost::beast::http::verb::get, target); }
    result<http_reply> post(const std::string& target, const std::string& body = "{}") {
        return request(boost::beast::http::verb::post, target, body);
    }

    void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
    /// Sent as `Authorization: Bearer <token>` with every request ("" = none).
    void set_bearer_token(std::string token) { bearer_token_ = std::move(token); }

private:
    result<void> connect();
    result<http_reply> exchange(const boost::beast::http::request<boost::beast::http::string_body>& req);

    std::string host_, port_;
    std::chrono::milliseconds timeout_;
    std::string bearer_token_;
    boost::asio::io_context io_;
    std::optional<boost::beast::tcp_stream> stream_;
};

/// Splits "HOST:PORT" (the last colon separates them). Errors name the option.
result<std::pair<std::string, std::string>> split_host_port(const std::string& address, const std::string& option);

}  // namespace jobrouter
