#include "bench/soak/event_log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <functional>

namespace jobrouter::soak {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using namespace std::chrono_literals;

struct event_log::impl {
    asio::io_context io;
    websocket::stream<beast::tcp_stream> ws{io};
    beast::flat_buffer buffer;
    asio::steady_timer stop_timer{io};
};

event_log::event_log(std::string host, std::string port) : host_(std::move(host)), port_(std::move(port)) {}

event_log::~event_log() { stop(); }

bool event_log::start() {
    impl_ = new impl;
    thread_ = std::thread([this] { run(); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (state_.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    if (state_.load() == 1) return true;
    std::lock_guard lock(mutex_);
    if (error_.empty()) error_ = "/ws/events: no handshake within 10 s";
    return false;
}

void event_log::stop() {
    if (!impl_) return;
    stopping_ = true;
    asio::post(impl_->io, [this] {
        impl_->ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
        impl_->stop_timer.expires_after(2s);
        impl_->stop_timer.async_wait([this](beast::error_code) { impl_->io.stop(); });
    });
    if (thread_.joinable()) thread_.join();
    delete impl_;
    impl_ = nullptr;
}

void event_log::run() {
    auto fail = [this](const std::string& what) {
        if (stopping_) return;
        std::lock_guard lock(mutex_);
        if (error_.empty()) error_ = "/ws/events: " + what;
        state_ = -1;
    };
    impl& m = *impl_;
    const asio::ip::tcp::endpoint ep(asio::ip::make_address(host_), static_cast<unsigned short>(std::stoi(port_)));
    beast::get_lowest_layer(m.ws).expires_after(10s);
    std::function<void()> read_next;
    read_next = [&] {
        m.ws.async_read(m.buffer, [&](beast::error_code ec, std::size_t) {
            if (ec) return fail("the stream ended: " + ec.message());
            const std::string text = beast::buffers_to_string(m.buffer.data());
            m.buffer.consume(m.buffer.size());
            boost::system::error_code jec;
            const json::value v = json::parse(text, jec);
            if (jec || !v.is_object() || !v.get_object().contains("event")) return fail("not an event: " + text);
            const std::string kind(v.at("event").as_string());
            std::string job_id;
            if (const auto* id = v.get_object().if_contains("job_id"); id && id->is_string()) job_id = std::string(id->get_string());
            {
                std::lock_guard lock(mutex_);
                ++totals_[kind];
                // A requeued event that names a worker: its heartbeat handed the job back.
                if (kind == "requeued" && v.get_object().contains("worker_id")) ++totals_["requeued_by_heartbeat"];
                if (!job_id.empty()) {
                    job_events& j = jobs_[job_id];
                    j.last = kind;
                    if (kind == "submitted") ++j.submitted;
                    if (kind == "assigned") ++j.assigned;
                    if (kind == "retried") ++j.retried;
                    if (kind == "completed") ++j.completed;
                    if (kind == "failed") ++j.failed;
                    if (kind == "cancelled") ++j.cancelled;
                    if (kind == "completed" || kind == "failed" || kind == "cancelled") ++finals_;
                }
            }
            read_next();
        });
    };
    beast::get_lowest_layer(m.ws).async_connect(ep, [&](beast::error_code ec) {
        if (ec) return fail("connect: " + ec.message());
        m.ws.async_handshake(host_ + ":" + port_, "/ws/events", [&](beast::error_code hec) {
            if (hec) return fail("handshake: " + hec.message());
            // From here the stream's own timeouts apply (it may be quiet for long).
            beast::get_lowest_layer(m.ws).expires_never();
            m.ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
            state_ = 1;
            read_next();
        });
    });
    m.io.run();
    if (state_.load() == 0) fail("the thread ended before the handshake");
}

std::map<std::string, std::uint64_t> event_log::totals() {
    std::lock_guard lock(mutex_);
    return totals_;
}

job_events event_log::of(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(job_id);
    return it == jobs_.end() ? job_events{} : it->second;
}

std::string event_log::error() {
    std::lock_guard lock(mutex_);
    return error_;
}

}  // namespace jobrouter::soak
