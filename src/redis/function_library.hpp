// function_library: src/redis/jobrouter.lua, compiled into the binary, and its loading.
//
// load_function_library checks that the server runs Redis 7 or newer (Functions), refuses to
// replace a newer jobrouter library than this binary's (another, newer jobrouter loaded it),
// loads this binary's source with FUNCTION LOAD REPLACE, and checks that jobrouter_version
// then answers this binary's version.
#pragma once

#include "core/error.hpp"
#include "redis/connection.hpp"

#include <string_view>

namespace jobrouter {
/// The library's Lua source (embedded at build time by cmake/embed_file.cmake).
extern const std::string_view kRedisFunctionLibrary;
}  // namespace jobrouter

namespace jobrouter::redis {

inline const std::string_view& kFunctionLibrary = kRedisFunctionLibrary;

/// LIBRARY_VERSION in the embedded source.
int function_library_version();

result<void> load_function_library(connection& c);

}  // namespace jobrouter::redis
