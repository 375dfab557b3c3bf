#include "redis/function_library.hpp"

#include <charconv>

namespace jobrouter::redis {

namespace {

// "redis_version:7.0.15" in INFO server -> 7.
int server_major_version(const std::string& info) {
    const std::string key = "redis_version:";
    auto at = info.find(key);
    if (at == std::string::npos) return -1;
    int major = -1;
    const char* begin = info.data() + at + key.size();
    std::from_chars(begin, info.data() + info.size(), major);
    return major;
}

std::string server_version_text(const std::string& info) {
    const std::string key = "redis_version:";
    auto at = info.find(key);
    if (at == std::string::npos) return "unknown";
    auto end = info.find_first_of("\r\n", at);
    return info.substr(at + key.size(), end - at - key.size());
}

}  // namespace

int function_library_version() {
    const std::string_view marker = "local LIBRARY_VERSION = ";
    auto at = kFunctionLibrary.find(marker);
    int v = -1;
    if (at != std::string_view::npos) {
        const char* begin = kFunctionLibrary.data() + at + marker.size();
        std::from_chars(begin, kFunctionLibrary.data() + kFunctionLibrary.size(), v);
    }
    return v;
}

result<void> load_function_library(connection& c) {
    const std::string where = "redis " + c.url().display();
    try {
        const std::string info = c.command({"INFO", "server"}).text();
        if (server_major_version(info) < 7)
            return make_error(where, "Redis " + server_version_text(info) +
                                         " has no Functions; the Redis store needs Redis 7 or newer");
        const int ours = function_library_version();
        if (!c.command({"FUNCTION", "LIST", "LIBRARYNAME", "jobrouter"}).elements.empty()) {
            const std::int64_t theirs = c.command({"FCALL_RO", "jobrouter_version", "0"}).integer;
            if (theirs > ours)
                return make_error(where, "the server holds jobrouter library version " + std::to_string(theirs) +
                                             ", newer than this binary's " + std::to_string(ours) +
                                             "; a newer jobrouter uses this Redis: upgrade this binary rather than downgrade the library");
        }
        c.command({"FUNCTION", "LOAD", "REPLACE", std::string(kFunctionLibrary)});
        const std::int64_t loaded = c.command({"FCALL_RO", "jobrouter_version", "0"}).integer;
        if (loaded != ours)
            return make_error(where, "after FUNCTION LOAD REPLACE, jobrouter_version answers " + std::to_string(loaded) +
                                         ", expected " + std::to_string(ours));
    } catch (const redis_error& e) {
        return make_error(where, std::string("cannot load the jobrouter function library: ") + e.what());
    }
    return {};
}

}  // namespace jobrouter::redis
