#include "server/redis_link.hpp"

#include "server/log.hpp"

#include <algorithm>

namespace jobrouter {

namespace {
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
}  // namespace

redis_link::redis_link(boost::asio::io_context& io, redis::redis_url url, std::chrono::milliseconds timeout,
                       connected_fn on_connected)
    : io_(io), url_(std::move(url)), timeout_(timeout), on_connected_(std::move(on_connected)), timer_(io) {}

result<void> redis_link::open() {
    auto c = redis::connection::open(url_, timeout_);
    if (!c) return c.error();
    try {
        if (on_connected_) on_connected_(*c);
    } catch (const redis::redis_error& e) {
        return make_error("redis " + url_.display(), e.what());
    } catch (const error_exception& e) {
        return e.get();
    }
    conn_.emplace(std::move(*c));
    return {};
}

result<void> redis_link::connect_now() { return open(); }

api_error redis_link::unavailable() const {
    return api_error{503, "store_unavailable",
                     "the job store redis " + url_.display() + " is unavailable (" + last_error_ + "); nothing was changed by this request, retry later",
                     1};
}

api_result<redis::reply> redis_link::command(std::span<const std::string> args) {
    last_reply_lost_ = false;
    if (!conn_) return unavailable();
    try {
        return conn_->command(args);
    } catch (const redis::redis_error& e) {
        // An error reply leaves hiredis usable (and the connection open); an I/O error or a
        // timeout closes it, and then nothing more can be sent on it.
        const std::string why = e.what();
        if (!conn_->is_open()) {
            last_reply_lost_ = true;
            lost(why);
            api_error err = unavailable();
            // The command may or may not have been applied when the reply was lost.
            err.message = "the job store redis " + url_.display() + " did not answer (" + why +
                          "); the request may or may not have been applied: retry it (submissions with an id are idempotent)";
            return err;
        }
        return api_error{500, "store_error", why};
    }
}

void redis_link::lost(const std::string& why) {
    conn_.reset();
    last_error_ = why;
    log::warn("lost the connection to redis; reconnecting with back-off", {{"redis", url_.display()}, {"error", why}});
    backoff_ = kFirstBackoff;
    attempt_ = 0;
    schedule_reconnect();
}

void redis_link::schedule_reconnect() {
    if (reconnecting_) return;
    reconnecting_ = true;
    timer_.expires_after(backoff_);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;  // cancelled: the link may be gone
        reconnecting_ = false;
        ++attempt_;
        auto opened = open();
        if (opened) {
            log::info("reconnected to redis", {{"redis", url_.display()}, {"attempts", attempt_}});
            backoff_ = kFirstBackoff;
            if (on_reconnected) on_reconnected();
            return;
        }
        last_error_ = opened.error().text();
        backoff_ = std::min(backoff_ * 2, kMaxBackoff);
        log::warn("cannot reconnect to redis yet", {{"redis", url_.display()},
                                                     {"attempt", attempt_},
                                                     {"error", last_error_},
                                                     {"next_attempt_ms", static_cast<std::int64_t>(backoff_.count())}});
        schedule_reconnect();
    });
}

}  // namespace jobrouter
