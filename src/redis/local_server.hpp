// local_server: a private `redis-server` child process on a free loopback port, with its own
// temporary directory and no persistence; for tests and the bench, which must not depend on a
// Redis someone else runs. Start-up is bounded (10 s for PING; another port is tried if the
// first was taken meanwhile); the destructor stops it (SIGTERM, SIGKILL after 5 s) and removes
// the directory.
#pragma once

#include "core/error.hpp"
#include "redis/connection.hpp"

#include <memory>
#include <string>

#include <sys/types.h>

namespace jobrouter::redis {

class local_server {
public:
    /// Starts `redis-server` from PATH; the error says why it could not.
    static result<std::unique_ptr<local_server>> start();
    local_server(const local_server&) = delete;
    local_server& operator=(const local_server&) = delete;
    ~local_server();

    int port() const { return port_; }
    /// redis://127.0.0.1:PORT/DB
    std::string url(int db = 0) const;
    /// A new connection to database `db`; throws redis_error when it cannot connect.
    connection connect(int db = 0) const;

private:
    local_server() = default;
    bool start_on(int port);
    void stop();

    std::string dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace jobrouter::redis
