#include "connectors/simulation_websocket_connector.hpp"

#include "connectors/outcome.hpp"

#include "connectors/simulation_http_connector.hpp"
#include "core/json_util.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/assert.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <optional>

namespace jobrouter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace detail {

struct sim_ws_settings {
    simple_url url;
    std::chrono::milliseconds timeout{simulation_websocket_connector::kDefaultTimeoutMs};
    std::chrono::milliseconds heartbeat{simulation_websocket_connector::kDefaultHeartbeatMs};
    std::int64_t max_retries = simulation_websocket_connector::kDefaultMaxRetries;
    std::int64_t reconnect_delay_ms = simulation_websocket_connector::kDefaultReconnectDelayMs;
    json::object config;
};

struct sim_ws_run {
    explicit sim_ws_run(asio::io_context& i) : io(i), resolver(i), timer(i) {}

    asio::io_context& io;
    tcp::resolver resolver;
    asio::steady_timer timer;  ///< the resolve deadline, the back-off, the cancel deadline
    std::shared_ptr<websocket::stream<beast::tcp_stream>> ws;  ///< the current connection
    beast::flat_buffer buffer;
    std::deque<std::string> queue;
    bool writing = false;
    std::function<void()> after_write;  ///< cancel()'s goodbye, once the write in flight ends
    bool open = false;           ///< handshake done on the current connection
    bool ever_connected = false;
    std::int64_t reconnects = 0;
    std::int64_t last_percent = -1;
    connector_callbacks callbacks;
    connector_job job;
    sim_ws_settings settings;
    bool started = false;
    bool done = false;  ///< finished or cancelled: no callback may follow
};

}  // namespace detail

namespace {

using run_ptr = std::shared_ptr<detail::sim_ws_run>;
using ws_ptr = std::shared_ptr<websocket::stream<beast::tcp_stream>>;

json::object message_error(std::string message) {
    json::object o;
    o["message"] = std::move(message);
    o["connector"] = std::string(simulation_websocket_connector::kName);
    return o;
}

result<detail::sim_ws_settings> read_settings(const connector_job& job) {
    detail::sim_ws_settings s;
    auto url = detail::service_url(job, "ws_url", "ws");
    if (!url) return url.error();
    s.url = std::move(*url);
    const std::string base = "services." + job.service + ".";
    const json::value* api = job.service_config.if_contains("api_config");
    const json::object* config = api ? api->if_object() : nullptr;
    struct field {
        const char* key;
        std::int64_t min, max;
        std::function<void(std::int64_t)> set;
    };
    const field fields[] = {
        {"timeout_ms", 1, 86400000, [&](std::int64_t n) { s.timeout = std::chrono::milliseconds(n); }},
        {"heartbeat_interval_ms", 1, 86400000, [&](std::int64_t n) { s.heartbeat = std::chrono::milliseconds(n); }},
        {"max_retries", 0, 1000, [&](std::int64_t n) { s.max_retries = n; }},
        {"reconnect_delay_ms", 0, 3600000, [&](std::int64_t n) { s.reconnect_delay_ms = n; }},
    };
    for (const auto& f : fields) {
        auto n = detail::config_integer(config, f.key, base + "api_config." + f.key, f.min, f.max);
        if (!n) return n.error();
        if (*n) f.set(**n);
    }
    const json::value* sc = job.service_config.if_contains("simulation_config");
    const json::object* sim = sc ? sc->if_object() : nullptr;
    for (const char* key : {"processing_time_ms", "steps", "progress_interval_ms"}) {
        auto n = detail::config_integer(sim, key, base + "simulation_config." + key, 0, 86400000);
        if (!n) return n.error();
        if (*n) s.config[key] = **n;
    }
    return s;
}

void report_progress(const run_ptr& run, std::int64_t percent, std::string message) {
    if (run->done || percent <= run->last_percent) return;
    run->last_percent = percent;
    deliver_progress(*run, percent, std::move(message));
}

void close_socket(const ws_ptr& ws) {
    if (!ws) return;
    beast::error_code ignored;
    beast::get_lowest_layer(*ws).socket().close(ignored);
}

// Stops the run's I/O; its cancelled handlers run later and see `done`, which the report sets.
void stop_io(const run_ptr& run) {
    run->timer.cancel();
    run->resolver.cancel();
    close_socket(run->ws);
}

// The run's I/O stops before the caller hears the outcome (the callback may destroy us).
void report_complete(const run_ptr& run, json::value result) {
    if (run->done) return;
    stop_io(run);
    deliver_complete(*run, std::move(result));
}

void report_fail(const run_ptr& run, json::object error, bool retryable) {
    if (run->done) return;
    stop_io(run);
    error["url"] = "ws://" + run->settings.url.host + ":" + run->settings.url.port + run->settings.url.path;
    deliver_fail(*run, std::move(error), retryable);
}

void connect(const run_ptr& run);

// One write at a time (Beast allows no more); each message is owned by its handler, so nothing
// it still reads can be freed by a reconnect or a cancel.
void do_write(const run_ptr& run, const ws_ptr& ws) {
    if (run->queue.empty() || ws != run->ws || !run->open || run->done) return;
    run->writing = true;
    auto text = std::make_shared<std::string>(std::move(run->queue.front()));
    run->queue.pop_front();
    ws->text(true);
    ws->async_write(asio::buffer(*text), [run, ws, text](beast::error_code ec, std::size_t) {
        if (ws != run->ws) return;  // a connection we left behind
        run->writing = false;
        if (run->done) {
            // cancel() waits for us to send its goodbye.
            if (auto goodbye = std::move(run->after_write)) goodbye();
            return;
        }
        if (ec) return;  // the read side sees the loss and reconnects
        do_write(run, ws);
    });
}

void send(const run_ptr& run, json::object message) {
    run->queue.push_back(json::serialize(message));
    if (!run->writing) do_write(run, run->ws);
}

// The connection is gone before the job ended: back off and reconnect, a bounded number of times.
void on_lost(const run_ptr& run, const std::string& why) {
    if (run->done) return;
    run->open = false;
    run->writing = false;
    close_socket(run->ws);
    run->ws.reset();
    if (!run->ever_connected)
        return report_fail(run, message_error("cannot reach the simulation service: " + why), true);
    if (run->reconnects >= run->settings.max_retries)
        return report_fail(run, message_error("lost the simulation service (" + why + ") and could not reconnect after " +
                                              std::to_string(run->reconnects) + " attempts"), true);
    const std::int64_t delay = std::min<std::int64_t>(
        simulation_websocket_connector::kMaxBackoffMs,
        run->settings.reconnect_delay_ms << std::min<std::int64_t>(run->reconnects, 20));
    ++run->reconnects;
    run->timer.expires_after(std::chrono::milliseconds(delay));
    run->timer.async_wait([run](boost::system::error_code ec) {
        if (!ec && !run->done) connect(run);
    });
}

void on_message(const run_ptr& run, const std::string& text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return;  // not ours to judge: the service may add message kinds
    json::object& m = v.get_object();
    const json::value* idv = m.if_contains("job_id");
    if (!idv || !idv->is_string() || idv->get_string() != run->job.job_id) return;
    const json::value* t = m.if_contains("type");
    const std::string type = t && t->is_string() ? std::string(t->get_string()) : std::string();
    if (type == "simulation_started") {
        report_progress(run, 0, "simulation: started");
    } else if (type == "simulation_progress") {
        const json::value* p = m.if_contains("progress");
        std::optional<std::int64_t> n = p ? as_integer(*p) : std::nullopt;
        if (!n && p && p->is_double()) n = static_cast<std::int64_t>(p->get_double());
        // 100 is reported with the result: simulation_complete follows the last step at once.
        if (!n || *n >= 100) return;
        std::string message = "simulation: " + std::to_string(*n) + "%";
        if (m.contains("current_step") && m.contains("total_steps"))
            message = "step " + json::serialize(m.at("current_step")) + " of " + json::serialize(m.at("total_steps"));
        report_progress(run, std::clamp<std::int64_t>(*n, 0, 99), std::move(message));
    } else if (type == "simulation_complete") {
        report_progress(run, 100, "simulation: done");
        json::value results = m.contains("results") ? m["results"] : json::value(json::object());
        report_complete(run, std::move(results));
    } else if (type == "simulation_error") {
        const json::value* e = m.if_contains("error");
        json::object err = message_error("the simulation service reports an error: " +
                                         (e && e->is_string() ? std::string(e->get_string()) : e ? json::serialize(*e) : std::string("(none)")));
        if (e) err["service_error"] = *e;
        report_fail(run, std::move(err), true);
    }
}

void do_read(const run_ptr& run, const ws_ptr& ws) {
    ws->async_read(run->buffer, [run, ws](beast::error_code ec, std::size_t) {
        if (run->done || ws != run->ws) return;
        if (ec) return on_lost(run, ec == beast::error::timeout ? "no message or pong within the heartbeat" : ec.message());
        const std::string text = beast::buffers_to_string(run->buffer.data());
        run->buffer.consume(run->buffer.size());
        on_message(run, text);
        if (!run->done) do_read(run, ws);
    });
}

void connect(const run_ptr& run) {
    const auto& url = run->settings.url;
    // The resolver has no deadline of its own: a timer cancels it.
    run->timer.expires_after(run->settings.timeout);
    run->timer.async_wait([run](boost::system::error_code ec) {
        if (!ec) run->resolver.cancel();
    });
    run->resolver.async_resolve(url.host, url.port, [run](beast::error_code ec, tcp::resolver::results_type results) {
        if (run->done) return;
        const bool timed_out = run->timer.expiry() <= std::chrono::steady_clock::now();
        run->timer.cancel();
        if (ec) return on_lost(run, timed_out ? "resolving timed out" : "resolving failed: " + ec.message());
        auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(run->io);
        run->ws = ws;
        beast::get_lowest_layer(*ws).expires_after(run->settings.timeout);
        beast::get_lowest_layer(*ws).async_connect(results, [run, ws](beast::error_code ec, const tcp::endpoint& ep) {
            if (run->done || ws != run->ws) return;
            const std::string where = run->settings.url.host + ":" + run->settings.url.port;
            if (ec)
                return on_lost(run, ec == beast::error::timeout
                                        ? "connecting to " + where + " timed out after " + std::to_string(run->settings.timeout.count()) + " ms"
                                        : "connecting to " + where + " failed: " + ec.message());
            // From here Beast's own timeouts govern: the tcp_stream's must be off.
            beast::get_lowest_layer(*ws).expires_never();
            websocket::stream_base::timeout t;
            t.handshake_timeout = run->settings.timeout;
            t.idle_timeout = run->settings.heartbeat * 2;
            t.keep_alive_pings = true;
            ws->set_option(t);
            const std::string host = run->settings.url.host + ":" + std::to_string(ep.port());
            const std::string target = run->settings.url.path.empty() ? "/" : run->settings.url.path;
            ws->async_handshake(host, target, [run, ws](beast::error_code ec) {
                if (run->done || ws != run->ws) return;
                if (ec) return on_lost(run, "the WebSocket handshake failed: " + ec.message());
                run->open = true;
                run->ever_connected = true;
                run->queue.clear();
                json::object m;
                m["type"] = "simulation_job";
                m["job_id"] = run->job.job_id;
                m["job_type"] = run->job.job_type;
                m["payload"] = run->job.payload;
                m["config"] = run->settings.config;
                send(run, std::move(m));
                do_read(run, ws);
            });
        });
    });
}

}  // namespace

simulation_websocket_connector::simulation_websocket_connector(asio::io_context& io)
    : run_(std::make_shared<detail::sim_ws_run>(io)) {}

simulation_websocket_connector::~simulation_websocket_connector() { cancel(); }

void simulation_websocket_connector::start(connector_job job, connector_callbacks callbacks) {
    BOOST_ASSERT_MSG(!run_->started, "a connector runs one job");
    run_->started = true;
    run_->callbacks = std::move(callbacks);
    auto settings = read_settings(job);
    if (!settings) {
        // The config cannot change between attempts, so retrying would only fail again.
        asio::post(run_->io, [run = run_, e = settings.error()] { deliver_fail(*run, message_error(e.text()), false); });
        return;
    }
    run_->settings = std::move(*settings);
    run_->job = std::move(job);
    asio::post(run_->io, [run = run_] {
        if (!run->done) connect(run);
    });
}

void simulation_websocket_connector::cancel() {
    auto& run = run_;
    if (run->done) {
        run->callbacks = {};
        return;
    }
    run->done = true;
    run->callbacks = {};
    run->resolver.cancel();
    ws_ptr ws = run->ws;
    if (!ws || !run->open) {
        run->timer.cancel();
        close_socket(ws);
        return;
    }
    // Tell the service, then close; the handlers keep the run (and the stream) alive, and the
    // timer bounds the whole goodbye even if the service stops reading.
    run->timer.expires_after(run->settings.timeout);
    run->timer.async_wait([ws](boost::system::error_code ec) {
        if (!ec) close_socket(ws);
    });
    json::object m;
    m["type"] = "cancel_simulation";
    m["job_id"] = run->job.job_id;
    auto text = std::make_shared<std::string>(json::serialize(m));
    // After any write in flight: Beast allows one outstanding write per stream.
    // Weak: the run stores this until the write in flight ends, and must not own itself.
    std::weak_ptr<detail::sim_ws_run> weak = run_;
    const auto stop_deadline = [](const std::weak_ptr<detail::sim_ws_run>& w) {
        if (auto r = w.lock()) r->timer.cancel();
    };
    auto goodbye = [weak, ws, text, stop_deadline] {
        ws->text(true);
        ws->async_write(asio::buffer(*text), [weak, ws, text, stop_deadline](beast::error_code ec, std::size_t) {
            if (ec) {
                stop_deadline(weak);
                return close_socket(ws);
            }
            ws->async_close(websocket::close_code::normal, [weak, ws, stop_deadline](beast::error_code) {
                stop_deadline(weak);
                close_socket(ws);
            });
        });
    };
    run->queue.clear();
    if (!run->writing) return goodbye();
    run->after_write = std::move(goodbye);
}

}  // namespace jobrouter
