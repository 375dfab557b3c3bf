// connection_stats: how many HTTP and WebSocket connections are open (the --max-connections
// bound) and what the connection limits turned away, for /metrics. A connection holds a
// connection_slot for its life; the slot moves with the socket when an HTTP connection
// becomes a WebSocket. Shared (shared_ptr) because sessions may outlive the server at
// shutdown. Used on the server's io_context thread only.
#pragma once

#include <cstdint>
#include <cstddef>
#include <memory>

namespace jobrouter {

struct connection_stats {
    std::size_t open = 0;               ///< HTTP and WebSocket connections now open
    std::size_t websockets = 0;         ///< of which WebSocket event clients
    std::uint64_t refused = 0;          ///< connections turned away at --max-connections
    std::uint64_t ws_dropped = 0;       ///< WebSocket clients dropped for falling --max-ws-queue behind
};

/// One open connection's share of connection_stats::open; releases it when destroyed.
class connection_slot {
public:
    connection_slot() = default;
    explicit connection_slot(std::shared_ptr<connection_stats> stats) : stats_(std::move(stats)) {
        if (stats_) ++stats_->open;
    }
    connection_slot(connection_slot&& other) noexcept = default;
    connection_slot& operator=(connection_slot&& other) noexcept {
        if (this != &other) {
            release();
            stats_ = std::move(other.stats_);
        }
        return *this;
    }
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;
    ~connection_slot() { release(); }

    connection_stats* stats() const { return stats_.get(); }

private:
    void release() {
        if (stats_) --stats_->open;
        stats_.reset();
    }
    std::shared_ptr<connection_stats> stats_;
};

}  // namespace jobrouter
