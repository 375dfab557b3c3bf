#include "redis/asio_adapter.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>

#include <hiredis/async.h>

#include <memory>

namespace jobrouter::redis {

namespace asio = boost::asio;

namespace {

// One attached context. Owned by shared_ptrs: one in the context's ev.data slot (dropped at
// cleanup) and one in each queued wait handler, so a handler that runs after cleanup finds the
// state alive and the context gone.
struct asio_events : std::enable_shared_from_this<asio_events> {
    asio_events(asio::io_context& io, redisAsyncContext* c) : context(c), socket(io, c->c.fd) {}

    redisAsyncContext* context;  // null once hiredis has cleaned up
    asio::posix::stream_descriptor socket;
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;  // a wait is queued
    std::shared_ptr<asio_events> self;      // the ev.data reference

    void arm(asio::posix::stream_descriptor::wait_type type) {
        const bool read = type == asio::posix::stream_descriptor::wait_read;
        bool& queued = read ? reading : writing;
        if (queued || !context) return;
        queued = true;
        socket.async_wait(type, [s = shared_from_this(), read, type](const boost::system::error_code& ec) {
            (read ? s->reading : s->writing) = false;
            if (ec || !s->context || !(read ? s->want_read : s->want_write)) return;
            if (read) redisAsyncHandleRead(s->context);
            else redisAsyncHandleWrite(s->context);
            // The context may have been freed inside the call (cleanup clears it).
            if (s->context && (read ? s->want_read : s->want_write)) s->arm(type);
        });
    }
};

asio_events* events_of(void* privdata) { return static_cast<asio_events*>(privdata); }

void add_read(void* p) {
    auto* e = events_of(p);
    e->want_read = true;
    e->arm(asio::posix::stream_descriptor::wait_read);
}

void del_read(void* p) { events_of(p)->want_read = false; }

void add_write(void* p) {
    auto* e = events_of(p);
    e->want_write = true;
    e->arm(asio::posix::stream_descriptor::wait_write);
}

void del_write(void* p) { events_of(p)->want_write = false; }

void cleanup(void* p) {
    auto* e = events_of(p);
    e->context = nullptr;
    e->want_read = e->want_write = false;
    boost::system::error_code ec;
    e->socket.cancel(ec);
    (void)e->socket.release();  // hiredis closes its own socket
    e->self.reset();            // may free e: nothing after this line
}

}  // namespace

bool attach_to_asio(redisAsyncContext* ac, asio::io_context& io) {
    if (ac->ev.data != nullptr) return false;
    auto e = std::make_shared<asio_events>(io, ac);
    e->self = e;
    ac->ev.data = e.get();
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    return true;
}

}  // namespace jobrouter::redis
