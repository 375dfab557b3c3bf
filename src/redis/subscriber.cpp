#include "redis/subscriber.hpp"

#include "redis/asio_adapter.hpp"

#include <boost/asio/post.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>

namespace jobrouter::redis {

namespace asio = boost::asio;

namespace {

std::string text_of(const redisReply* r) { return r && r->str ? std::string(r->str, r->len) : std::string(); }

// Sends argv (binary-safe) with reply_cb.
int send(redisAsyncContext* ac, redisCallbackFn* fn, void* privdata, const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    return redisAsyncCommandArgv(ac, fn, privdata, static_cast<int>(argv.size()), argv.data(), lens.data());
}

}  // namespace

subscriber::subscriber(asio::io_context& io, redis_url url, std::vector<std::string> channels, message_fn on_message,
                       state_fn on_state, options o)
    : io_(io),
      url_(std::move(url)),
      channels_(std::move(channels)),
      on_message_(std::move(on_message)),
      on_state_(std::move(on_state)),
      options_(o),
      connect_timer_(io),
      reconnect_timer_(io),
      backoff_(o.backoff_initial) {}

subscriber::~subscriber() { stop(); }

void subscriber::start() {
    if (started_) return;
    started_ = true;
    connect();
}

void subscriber::stop() {
    if (stopping_) return;
    stopping_ = true;
    alive_.reset();  // posted callbacks see it and do nothing
    connect_timer_.cancel();
    reconnect_timer_.cancel();
    if (redisAsyncContext* ac = std::exchange(ac_, nullptr)) redisAsyncFree(ac);
    subscribed_ = false;
}

void subscriber::connect() {
    if (stopping_) return;
    ++attempts_;
    confirmed_ = 0;
    refused_.clear();
    redisAsyncContext* ac = redisAsyncConnect(url_.host.c_str(), url_.port);
    if (!ac) return lost("cannot allocate a connection");
    if (ac->err) {
        std::string why = ac->errstr;
        redisAsyncFree(ac);
        return lost("cannot connect: " + why);
    }
    ac->data = this;
    attach_to_asio(ac, io_);
    redisEnableKeepAlive(&ac->c);  // hiredis's interval: 15 s
    redisAsyncSetConnectCallback(ac, &subscriber::connect_cb);
    redisAsyncSetDisconnectCallback(ac, &subscriber::disconnect_cb);
    ac_ = ac;
    // Queued now, written once the socket connects; SUBSCRIBE only once AUTH has succeeded.
    if (!url_.password.empty()) {
        std::vector<std::string> auth{"AUTH"};
        if (!url_.user.empty()) auth.push_back(url_.user);
        auth.push_back(url_.password);
        send(ac, &subscriber::auth_cb, this, auth);
    } else {
        subscribe();
    }

    connect_timer_.expires_after(options_.connect_timeout);
    connect_timer_.async_wait([this, alive = std::weak_ptr<const int>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired() || subscribed_ || !ac_) return;
        redisAsyncContext* stuck = std::exchange(ac_, nullptr);
        redisAsyncFree(stuck);
        lost("no answer within " + std::to_string(options_.connect_timeout.count()) + " ms");
    });
}

void subscriber::connect_cb(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<subscriber*>(ac->data);
    // Not ours any more (stop() or the connect deadline freed it and reported already).
    if (status == REDIS_OK || self->stopping_ || self->ac_ != ac) return;
    self->ac_ = nullptr;  // hiredis frees the context after this callback
    self->lost(std::string("cannot connect: ") + (ac->errstr ? ac->errstr : "unknown error"));
}

void subscriber::disconnect_cb(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<subscriber*>(ac->data);
    if (self->stopping_ || self->ac_ != ac) return;
    self->ac_ = nullptr;  // hiredis frees the context after this callback
    std::string why = std::exchange(self->refused_, {});
    if (why.empty())
        why = status == REDIS_OK ? std::string("connection closed")
                                 : std::string("connection lost: ") + (ac->errstr && *ac->errstr ? ac->errstr : "closed by the server");
    self->lost(why);
}

void subscriber::subscribe() {
    std::vector<std::string> args{"SUBSCRIBE"};
    args.insert(args.end(), channels_.begin(), channels_.end());
    send(ac_, &subscriber::reply_cb, this, args);
}

void subscriber::auth_cb(redisAsyncContext*, void* reply, void* privdata) {
    auto* self = static_cast<subscriber*>(privdata);
    const auto* r = static_cast<const redisReply*>(reply);
    if (!r || self->stopping_ || !self->ac_) return;
    if (r->type == REDIS_REPLY_ERROR) self->on_reply(reply);  // closes and reports
    else self->subscribe();
}

void subscriber::reply_cb(redisAsyncContext*, void* reply, void* privdata) {
    // A null reply: the context is being freed with this command still waiting.
    if (reply) static_cast<subscriber*>(privdata)->on_reply(reply);
}

void subscriber::on_reply(void* raw) {
    if (stopping_) return;
    const auto* r = static_cast<const redisReply*>(raw);
    if (r->type == REDIS_REPLY_ERROR) {
        // AUTH or SUBSCRIBE refused: close (hiredis defers it until this callback returns;
        // disconnect_cb reports why) and try again later: the password may be fixed meanwhile.
        if (ac_ && refused_.empty()) {
            refused_ = "refused: " + text_of(r);
            redisAsyncDisconnect(ac_);
        }
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;  // AUTH's +OK
    const std::string kind = text_of(r->element[0]);
    if (kind == "message") {
        boost::asio::post(io_, [this, alive = std::weak_ptr<const int>(alive_), channel = text_of(r->element[1]),
                                message = text_of(r->element[2])] {
            if (alive.expired() || !on_message_) return;
            auto f = on_message_;  // the callback may destroy the subscriber
            f(channel, message);
        });
    } else if (kind == "subscribe" && ++confirmed_ == channels_.size()) {
        subscribed_ = true;
        backoff_ = options_.backoff_initial;
        connect_timer_.cancel();
        report(true, "redis " + url_.display() + ": subscribed to " + std::to_string(channels_.size()) + " channel(s)");
    }
}

void subscriber::lost(const std::string& why) {
    subscribed_ = false;
    connect_timer_.cancel();
    report(false, "redis " + url_.display() + ": " + why + "; retrying in " +
                      std::to_string(backoff_.count()) + " ms");
    schedule_reconnect();
}

void subscriber::schedule_reconnect() {
    if (stopping_) return;
    reconnect_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, options_.backoff_max);
    reconnect_timer_.async_wait([this, alive = std::weak_ptr<const int>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired()) return;
        connect();
    });
}

void subscriber::report(bool subscribed, std::string detail) {
    boost::asio::post(io_, [this, alive = std::weak_ptr<const int>(alive_), subscribed, detail = std::move(detail)] {
        if (alive.expired() || !on_state_) return;
        auto f = on_state_;  // the callback may destroy the subscriber
        f(subscribed, detail);
    });
}

}  // namespace jobrouter::redis
