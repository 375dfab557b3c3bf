// inprocess_server: `jobrouter serve --workers none` inside the bench process, for the http
// scenario. The server (src/server/server.hpp) listens on a free loopback port and runs its
// io_context on a thread of its own, as test/support/server_fixture.hpp does; the bench talks
// to it over HTTP only and never touches the dispatcher. The destructor stops the io_context
// and joins the thread, so the server never outlives the scenario (nor hangs it).
#pragma once

#include "core/service_mapping.hpp"
#include "strategies/strategy.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace jobrouter::bench {

class inprocess_server {
public:
    /// Starts listening on 127.0.0.1:0 (no in-process workers), on the memory store, or on the
    /// Redis store at `redis_url` when one is given. Throws std::runtime_error when the server
    /// cannot start. `mapping` and `strat` must outlive the server.
    inprocess_server(const service_mapping& mapping, const strategy& strat, const std::string& redis_url = {});
    ~inprocess_server();
    inprocess_server(const inprocess_server&) = delete;
    inprocess_server& operator=(const inprocess_server&) = delete;

    boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
    /// CPU time the server's thread has used so far (its whole life).
    std::chrono::nanoseconds cpu_time() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    boost::asio::ip::tcp::endpoint endpoint_;
};

}  // namespace jobrouter::bench
