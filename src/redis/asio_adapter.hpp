// asio_adapter: drives a hiredis asynchronous context (redisAsyncContext) from an Asio
// io_context, as hiredis's adapters for libev, libuv and friends do for theirs.
//
// hiredis asks for read and write interest through five hooks (addRead, delRead, addWrite,
// delWrite, cleanup); here each interest is an async_wait on a posix::stream_descriptor over the
// context's socket, re-armed after hiredis has handled the event for as long as the interest
// lasts. hiredis owns the socket: the descriptor is released, never closed, when hiredis cleans
// up. Everything runs on the io_context's thread; nothing is locked.
//
// Lifetime: attach() before the context connects; the adapter's state is freed when hiredis
// calls cleanup (redisAsyncFree, or a disconnect) or, if a handler is still queued then, when
// that handler has run. Handlers never touch a context after its cleanup.
#pragma once

#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace jobrouter::redis {

/// Attaches `ac` to `io`. False if `ac` is already attached to an event library.
bool attach_to_asio(redisAsyncContext* ac, boost::asio::io_context& io);

}  // namespace jobrouter::redis
