#include "server/ws_session.hpp"

namespace jobrouter {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

bool event_filter::accepts(const dispatcher_event& e) const {
    if (!job_id.empty() && e.event.job_id != job_id) return false;
    if (!service_required.empty() && e.service_required != service_required) return false;
    return true;
}

ws_session::ws_session(beast::tcp_stream&& stream, job_service& d, const http_limits& limits, event_filter filter,
                       connection_slot slot)
    : ws_(std::move(stream)),
      dispatcher_(d),
      limits_(limits),
      filter_(std::move(filter)),
      dispatcher_alive_(d.lifetime()),
      slot_(std::move(slot)) {}

// At shutdown the io_context (and the handlers that own sessions) outlives the dispatcher.
ws_session::~ws_session() {
    unsubscribe();
    if (counted_ && slot_.stats()) --slot_.stats()->websockets;
}

void ws_session::unsubscribe() {
    if (subscription_ && !dispatcher_alive_.expired()) dispatcher_.unsubscribe(subscription_);
    subscription_ = 0;
}

void ws_session::run(beast::http::request<beast::http::string_body> req) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(limits_.max_ws_message_bytes);
    ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
}

void ws_session::on_accept(beast::error_code ec) {
    if (ec) return;
    if (slot_.stats()) {
        ++slot_.stats()->websockets;
        counted_ = true;
    }
    // The dispatcher holds only a weak reference: a closed session is simply skipped.
    std::weak_ptr<ws_session> weak = shared_from_this();
    subscription_ = dispatcher_.subscribe([weak](const dispatcher_event& e) {
        if (auto self = weak.lock()) self->on_event(e);
    });
    do_read();
}

void ws_session::do_read() {
    // Reading keeps control frames (ping, close) flowing; client messages are ignored.
    ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->read_buffer_.consume(self->read_buffer_.size());
        self->do_read();
    });
}

void ws_session::on_event(const dispatcher_event& e) {
    if (closed_ || !filter_.accepts(e)) return;
    if (queue_.size() >= limits_.max_ws_queue) {
        // A consumer this far behind would make us buffer without bound: drop it.
        if (slot_.stats()) ++slot_.stats()->ws_dropped;
        close();
        return;
    }
    queue_.push_back(boost::json::serialize(event_json(e)));
    if (!writing_) do_write();
}

void ws_session::do_write() {
    if (queue_.empty() || closed_) {
        writing_ = false;
        return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(boost::asio::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->queue_.pop_front();
        self->do_write();
    });
}

void ws_session::close() {
    if (closed_) return;
    closed_ = true;
    unsubscribe();
    // The queue stays: a write in flight still reads its front until its handler runs.
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
}

}  // namespace jobrouter
