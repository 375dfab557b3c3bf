// local_server: a private `redis-server` child process on a free loopback port, with its own
// temporary directory and no persistence unless asked (append_only: an AOF fsynced at every
// write, for the recovery tests, which stop it, even with SIGKILL, and start it again on the
// same port and directory); for tests and the bench, which must not depend on a Redis someone
// else runs. Start-up is bounded (10 s for PING; another port is tried if the
// first was taken meanwhile); the destructor stops it (SIGTERM, SIGKILL after 5 s) and removes
// the directory.
#pragma once

#include "core/error.hpp"
#include "redis/connection.hpp"

#include <memory>
#include <string>

#include <sys/types.h>

namespace jobrouter::redis {

struct local_server_options {
    bool append_only = false;  ///< appendonly yes, appendfsync always
};

class local_server {
public:
    /// Starts `redis-server` from PATH; the error says why it could not.
    static result<std::unique_ptr<local_server>> start(local_server_options options = {});
    local_server(const local_server&) = delete;
    local_server& operator=(const local_server&) = delete;
    ~local_server();

    int port() const { return port_; }
    /// redis://127.0.0.1:PORT/DB
    std::string url(int db = 0) const;
    /// A new connection to database `db`; throws redis_error when it cannot connect.
    connection connect(int db = 0) const;

    /// Stops the server (SIGKILL when `hard`, else SIGTERM and SIGKILL after 5 s); its
    /// directory (and AOF) stays for restart().
    void stop(bool hard = false);
    /// Starts it again on the same port and directory (bounded like start()).
    result<void> restart();
    bool running() const { return pid_ > 0; }

private:
    local_server() = default;
    bool start_on(int port);

    local_server_options options_;
    std::string dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace jobrouter::redis
