// connection: one synchronous Redis connection (hiredis), owned and closed by this object.
//
// Every command has a deadline (the timeout given at connect). A command that fails throws
// redis_error naming the server, the command (and for FCALL/FUNCTION, its first argument) and
// the Redis error, because a store that lost its Redis cannot go on; connecting returns a
// result, so a command can refuse to start with a clear message. Not thread-safe: one owner.
#pragma once

#include "core/error.hpp"
#include "redis/redis_url.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

struct redisContext;

namespace jobrouter::redis {

class redis_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A reply, copied out of hiredis.
struct reply {
    enum class kind { nil, integer, string, status, array };
    kind type = kind::nil;
    std::int64_t integer = 0;
    std::string str;  ///< string and status replies
    std::vector<reply> elements;

    bool is_nil() const { return type == kind::nil; }
    bool is_array() const { return type == kind::array; }
    /// A string, status or integer reply as text ("" for nil).
    std::string text() const { return type == kind::integer ? std::to_string(integer) : str; }
};

class connection {
public:
    /// Connects, authenticates (when the URL has a password) and selects the URL's database.
    static result<connection> open(const redis_url& url, std::chrono::milliseconds timeout = std::chrono::seconds(10));

    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    ~connection();

    /// Sends one command and waits for its reply; throws redis_error on an I/O error or an
    /// error reply.
    reply command(std::span<const std::string> args);
    reply command(std::initializer_list<std::string> args) { return command(std::vector<std::string>(args)); }

    /// Sends every command before reading any reply (pipelining: one round trip for all), and
    /// returns the replies in order. Throws like command(); after an error reply the remaining
    /// replies are still read, so the connection stays usable.
    std::vector<reply> pipeline(std::span<const std::vector<std::string>> commands);

    const redis_url& url() const { return url_; }
    /// False once an I/O error or a timeout closed the connection (it cannot be used again).
    bool is_open() const { return ctx_ != nullptr; }

private:
    connection(redis_url url, redisContext* ctx) : url_(std::move(url)), ctx_(ctx) {}
    std::string describe(std::span<const std::string> args) const;
    /// Queues a command in hiredis's output buffer (sent by the next read).
    void append(std::span<const std::string> args);
    /// Reads the next reply; an error reply in it goes to error_text.
    reply read_reply(std::span<const std::string> args, std::string& error_text);
    /// Closes the connection after an I/O error and throws, naming the command.
    [[noreturn]] void fail_io(std::span<const std::string> args);

    redis_url url_;
    redisContext* ctx_ = nullptr;
};

}  // namespace jobrouter::redis
