// redis_server: a private `redis-server` for one test module (redis::local_server: a free
// loopback port, a temporary directory, stopped and removed at the end, bounded start-up).
// Throws std::runtime_error when none can be started, which fails the module with the reason.
#pragma once

#include "redis/local_server.hpp"

#include <memory>
#include <stdexcept>
#include <string>

namespace jobrouter::test {

class redis_server {
public:
    explicit redis_server(redis::local_server_options options = {}) {
        auto s = redis::local_server::start(options);
        if (!s) throw std::runtime_error(s.error().text());
        server_ = std::move(*s);
    }

    int port() const { return server_->port(); }
    std::string url(int db = 0) const { return server_->url(db); }
    redis::connection connect(int db = 0) const { return server_->connect(db); }
    /// Stops it (SIGKILL when `hard`) and starts it again on the same port and directory.
    void stop(bool hard = false) { server_->stop(hard); }
    void restart() {
        auto r = server_->restart();
        if (!r) throw std::runtime_error(r.error().text());
    }

private:
    std::unique_ptr<redis::local_server> server_;
};

}  // namespace jobrouter::test
