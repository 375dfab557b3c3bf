// ws_session: one WebSocket client of GET /ws/events. It subscribes to the dispatcher's
// events, keeps those that pass its filter (?job_id=..., ?type=<service_required>), and
// writes them as JSON text messages, one at a time, from a bounded queue: a client that falls
// more than limits.max_ws_queue messages behind is dropped, so a slow consumer never blocks the
// loop or grows memory. Client messages larger than limits.max_ws_message_bytes end the
// connection. It holds its connection's slot (--max-connections). Runs on the server's
// io_context thread.
#pragma once

#include "server/connection_stats.hpp"
#include "server/job_service.hpp"
#include "server/http_limits.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <memory>
#include <string>

namespace jobrouter {

struct event_filter {
    std::string job_id;            ///< only this job's events, when set
    std::string service_required;  ///< only jobs of this type, when set
    bool accepts(const dispatcher_event& e) const;
};

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
    ws_session(boost::beast::tcp_stream&& stream, job_service& d, const http_limits& limits, event_filter filter,
               connection_slot slot);
    ~ws_session();
    void run(boost::beast::http::request<boost::beast::http::string_body> req);

private:
    void on_accept(boost::beast::error_code ec);
    void do_read();
    void on_event(const dispatcher_event& e);
    void do_write();
    void close();
    void unsubscribe();

    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    boost::beast::flat_buffer read_buffer_;
    job_service& dispatcher_;
    const http_limits& limits_;
    event_filter filter_;
    std::deque<std::string> queue_;
    bool writing_ = false;
    bool closed_ = false;
    std::size_t subscription_ = 0;
    std::weak_ptr<const void> dispatcher_alive_;
    connection_slot slot_;
    bool counted_ = false;  ///< counted in connection_stats::websockets  ///< the session may outlive the dispatcher
};

}  // namespace jobrouter
