// redis_url: where the Redis store lives, parsed from --store redis://[[USER]:PASSWORD@]HOST[:PORT][/DB].
//
// PORT defaults to 6379 and DB to 0. Errors name the option and say what is wrong with the URL.
#pragma once

#include "core/error.hpp"
#include "core/json_util.hpp"

#include <string>
#include <string_view>

namespace jobrouter::redis {

struct redis_url {
    std::string host;      ///< a name, an IPv4 address, or an IPv6 address without brackets
    int port = 6379;
    int db = 0;
    std::string user;      ///< "" unless the URL has USER:PASSWORD@
    std::string password;  ///< "" when the URL has none: no AUTH
    /// "HOST:PORT/DB", without the password, for messages.
    std::string display() const;
};

/// True when `text` asks for the Redis store (it starts with "redis://").
bool is_redis_url(std::string_view text);

/// Parses a redis:// URL; `option` names it in errors ("--store").
result<redis_url> parse_redis_url(std::string_view text, const std::string& option = "--store");

}  // namespace jobrouter::redis
