// http_limits: the bounds every HTTP and WebSocket connection and every request body lives
// within, so that no client (slow, huge, deep or silent) can hold the server or grow its
// memory without bound. Filled from serve's options; each field names the flag that sets it,
// and every refusal names that flag (README "Security and limits").
#pragma once

#include <chrono>
#include <cstddef>

namespace jobrouter {

struct http_limits {
    // ---- connections ----------------------------------------------------------------------
    std::size_t max_connections = 1024;            ///< --max-connections: open HTTP + WebSocket; more get 503
    std::size_t max_header_bytes = 16 * 1024;      ///< --max-header-bytes: larger headers get 431
    /// --header-timeout-ms: a request's header must arrive within this, counted from its first
    /// byte (from the accept, for a connection's first request): a slow-loris client is cut off.
    std::chrono::milliseconds header_timeout{10000};
    /// --idle-timeout-ms: a kept-alive connection may wait this long for its next request.
    std::chrono::milliseconds idle_timeout{60000};
    /// --read-timeout-ms: a whole request (header and body) must arrive within this, counted
    /// from its first byte.
    std::chrono::milliseconds read_timeout{30000};
    std::chrono::milliseconds write_timeout{30000};   ///< --write-timeout-ms: a reply must be taken within this
    std::chrono::milliseconds max_wait{60000};        ///< --max-wait-ms: the longest long-poll wait_ms honoured

    // ---- request bodies -------------------------------------------------------------------
    std::size_t max_body_bytes = 1024 * 1024;      ///< --max-body-bytes: larger bodies get 413
    std::size_t max_json_depth = 64;               ///< --max-json-depth: deeper bodies get 400
    std::size_t max_string_bytes = 64 * 1024;      ///< --max-string-bytes: any JSON string or key
    std::size_t max_id_bytes = 256;                ///< --max-id-bytes: ids, service_required, customer and workflow ids
    std::size_t max_requirements_bytes = 16 * 1024;  ///< --max-requirements-bytes: a job's requirements, as JSON text

    // ---- WebSocket ------------------------------------------------------------------------
    std::size_t max_ws_queue = 1024;               ///< --max-ws-queue: events queued for one client; more: dropped
    std::size_t max_ws_message_bytes = 64 * 1024;  ///< --max-ws-message-bytes: largest message a client may send
};

}  // namespace jobrouter
