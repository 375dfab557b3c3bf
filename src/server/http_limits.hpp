// http_limits: the bounds every HTTP and WebSocket connection lives within, so that no client
// (slow, huge or silent) can hold the server. Filled from serve's options.
#pragma once

#include <chrono>
#include <cstddef>

namespace jobrouter {

struct http_limits {
    std::size_t max_body_bytes = 1024 * 1024;      ///< larger bodies get 413
    std::size_t max_header_bytes = 16 * 1024;      ///< larger headers get 431
    /// A whole request (header and body) must arrive within this, counted from the end of the
    /// previous response: it bounds slow clients and idle keep-alive connections alike.
    std::chrono::milliseconds read_timeout{30000};
    std::chrono::milliseconds write_timeout{30000};
    std::chrono::milliseconds max_wait{60000};        ///< the longest long-poll wait_ms honoured
    std::size_t max_ws_queue = 1024;               ///< events queued for one WebSocket client
    std::size_t max_ws_message_bytes = 64 * 1024;  ///< largest message a WebSocket client may send
};

}  // namespace jobrouter
