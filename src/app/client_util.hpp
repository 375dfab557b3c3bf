// client_util: what the CLI clients of a running `jobrouter serve` share (submit, status,
// explain): the default server address, turning a reply into JSON or the server's error
// message, usage errors, and connecting.
#pragma once

#include "app/command.hpp"
#include "app/http_client.hpp"
#include "core/json_util.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace jobrouter::client {

inline std::string default_server() {
    const char* env = std::getenv("JOBROUTER_SERVER");
    return env && *env ? env : "127.0.0.1:7700";
}

// Parses the reply's JSON; a non-2xx reply becomes an error carrying the server's message.
inline result<json::value> call(const result<http_reply>& reply) {
    if (!reply) return reply.error();
    if (reply->status == 204) return json::value(nullptr);
    auto body = parse_strict(reply->body);
    if (reply->status >= 300) {
        std::string message = "HTTP " + std::to_string(reply->status);
        if (body && body->is_object())
            if (const auto* e = body->get_object().if_contains("error"); e && e->is_object())
                if (const auto* m = e->get_object().if_contains("message"); m && m->is_string())
                    message += ": " + std::string(m->get_string());
        return make_error("server", message);
    }
    if (!body) return make_error("server", "reply is not JSON: " + body.error().message);
    return std::move(*body);
}

inline int usage_error(const char* command, const std::string& what) {
    std::cerr << "jobrouter " << command << ": " << what << "\nTry 'jobrouter " << command << " --help'.\n";
    return kExitUsage;
}

// The bearer token for the server's client routes: --auth-token, else JOBROUTER_AUTH_TOKEN.
inline std::string default_auth_token() {
    const char* env = std::getenv("JOBROUTER_AUTH_TOKEN");
    return env ? env : "";
}

inline constexpr const char* kAuthTokenHelp = "bearer token of the server's --auth-token (default: env JOBROUTER_AUTH_TOKEN)";

inline std::unique_ptr<http_client> connect_to(const char* command, const std::string& server, const std::string& auth_token) {
    auto hp = split_host_port(server, "--server");
    if (!hp) {
        usage_error(command, hp.error().text());
        return nullptr;
    }
    auto client = std::make_unique<http_client>(hp->first, hp->second, std::chrono::seconds(30));
    client->set_bearer_token(auth_token);
    return client;
}

}  // namespace jobrouter::client
