// http_test_server: a scripted HTTP/1.1 peer for connector tests, on 127.0.0.1 and a free port,
// running on the test's own io_context (so the test drives it with run_for, like the connector
// under test). For each request it records what arrived and asks the test's handler what to
// do: answer (optionally after a delay), hold the connection open without answering (and count
// it when the client closes it), or send the start of a reply and close mid-body.
//
// One request per connection (the reply says Connection: close). Header-only; include it in
// test files.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jobrouter::test {

struct test_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  ///< names in lower case
    std::string body;
};

struct test_reply {
    enum class kind { answer, hold, close_mid_body };
    kind what = kind::answer;
    unsigned status = 200;
    std::string body;
    std::chrono::milliseconds delay{0};  ///< before answering
    std::vector<std::pair<std::string, std::string>> headers;

    static test_reply json(std::string body, unsigned status = 200) {
        test_reply r;
        r.status = status;
        r.body = std::move(body);
        r.headers.emplace_back("Content-Type", "application/json");
        return r;
    }
    static test_reply held() {
        test_reply r;
        r.what = kind::hold;
        return r;
    }
    static test_reply broken() {
        test_reply r;
        r.what = kind::close_mid_body;
        return r;
    }
};

class http_test_server {
public:
    using handler = std::function<test_reply(const test_request&)>;

    /// What the server saw; shared with its sessions, which may outlive the server object.
    struct record {
        std::vector<test_request> requests;
        int connections = 0;
        int peer_closes = 0;  ///< held connections that the client closed
    };

    http_test_server(boost::asio::io_context& io, handler h)
        : acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), 0}), state_(std::make_shared<state>()) {
        state_->on_request = std::move(h);
        accept();
    }
    ~http_test_server() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    }

    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(port()) + path; }
    const record& seen() const { return state_->seen; }

private:
    struct state {
        handler on_request;
        record seen;
    };

    // One connection: read a request, then do what the handler says.
    struct session : std::enable_shared_from_this<session> {
        session(boost::asio::ip::tcp::socket s, std::shared_ptr<state> st)
            : socket(std::move(s)), timer(socket.get_executor()), shared(std::move(st)) {}

        boost::asio::ip::tcp::socket socket;
        boost::asio::steady_timer timer;
        std::shared_ptr<state> shared;
        boost::beast::flat_buffer buffer;
        boost::beast::http::request<boost::beast::http::string_body> req;
        boost::beast::http::response<boost::beast::http::string_body> res;
        std::string raw;
        char byte = 0;

        void start() {
            auto self = shared_from_this();
            boost::beast::http::async_read(socket, buffer, req, [self](boost::beast::error_code ec, std::size_t) {
                if (!ec) self->on_request();
            });
        }

        void on_request() {
            test_request r;
            r.method = std::string(req.method_string());
            r.target = std::string(req.target());
            for (const auto& f : req) {
                std::string name(f.name_string());
                for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                r.headers[name] = std::string(f.value());
            }
            r.body = req.body();
            shared->seen.requests.push_back(r);
            const test_reply reply = shared->on_request(r);
            auto self = shared_from_this();
            switch (reply.what) {
            case test_reply::kind::hold:
                // Wait for the client to go away: a read ends with EOF when it closes.
                socket.async_read_some(boost::asio::buffer(&byte, 1), [self](boost::beast::error_code ec, std::size_t) {
                    if (ec) ++self->shared->seen.peer_closes;
                    boost::system::error_code ignored;
                    self->socket.close(ignored);
                });
                return;
            case test_reply::kind::close_mid_body:
                raw = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"partial\":";
                boost::asio::async_write(socket, boost::asio::buffer(raw), [self](boost::beast::error_code, std::size_t) {
                    boost::system::error_code ignored;
                    self->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
                    self->socket.close(ignored);
                });
                return;
            case test_reply::kind::answer: break;
            }
            res.result(reply.status);
            res.version(11);
            res.keep_alive(false);
            for (const auto& [name, value] : reply.headers) res.set(name, value);
            res.body() = reply.body;
            res.prepare_payload();
            timer.expires_after(reply.delay);
            timer.async_wait([self](boost::system::error_code) {
                boost::beast::http::async_write(self->socket, self->res, [self](boost::beast::error_code, std::size_t) {
                    boost::system::error_code ignored;
                    self->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
                    self->socket.close(ignored);
                });
            });
        }
    };

    void accept() {
        acceptor_.async_accept([this, st = state_](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
            if (ec) return;  // closed: the server is gone
            ++st->seen.connections;
            std::make_shared<session>(std::move(s), st)->start();
            accept();
        });
    }

    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<state> state_;
};

}  // namespace jobrouter::test
