#include "connectors/simulation_http_connector.hpp"

#include "connectors/outcome.hpp"

#include "core/json_util.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/assert.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>

namespace jobrouter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace detail {

// Hand-written rather than Boost.URL: connectors live in jobrouter_core, which links only
// Boost.JSON, and the two shapes accepted here (scheme, host, port, path prefix) need no more.
result<simple_url> parse_simple_url(std::string_view text, std::string_view scheme, const std::string& path) {
    const auto bad = [&](const std::string& why) {
        return make_error(path, "must be a URL like " + std::string(scheme) + "://127.0.0.1:8299, got " +
                                    quoted(text) + " (" + why + ")");
    };
    simple_url u;
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) return bad("no scheme");
    u.scheme = std::string(text.substr(0, sep));
    if (u.scheme != scheme) return bad("the scheme must be " + std::string(scheme));
    std::string_view rest = text.substr(sep + 3);
    const auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
    while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
    if (authority.empty()) return bad("no host");
    if (authority.front() == '[') {  // [v6]:port
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("unclosed '['");
        u.host = std::string(authority.substr(1, close - 1));
        authority = authority.substr(close + 1);
        if (!authority.empty() && authority.front() != ':') return bad("junk after ']'");
        if (!authority.empty()) u.port = std::string(authority.substr(1));
    } else {
        const auto colon = authority.rfind(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
    }
    if (u.host.empty()) return bad("no host");
    if (u.port.empty()) u.port = scheme == "ws" || scheme == "http" ? "80" : "443";
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(u.port.data(), u.port.data() + u.port.size(), port);
    if (ec != std::errc() || end != u.port.data() + u.port.size() || port == 0 || port > 65535)
        return bad("the port must be from 1 to 65535");
    return u;
}

result<std::optional<std::int64_t>> config_integer(const json::object* object, std::string_view key,
                                                   const std::string& path, std::int64_t min, std::int64_t max) {
    const json::value* v = object ? object->if_contains(key) : nullptr;
    if (!v) return std::optional<std::int64_t>();
    std::optional<std::int64_t> n = as_integer(*v);
    if (!n && v->is_string()) {
        const std::string_view s = v->get_string();
        std::int64_t parsed = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
        if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) n = parsed;
    }
    if (!n || *n < min || *n > max)
        return make_error(path, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                                    " (a number or a string of digits), got " + describe(*v));
    return n;
}

result<simple_url> service_url(const connector_job& job, std::string_view url_key, std::string_view scheme) {
    const std::string base = "services." + job.service + ".";
    const json::value* api = job.service_config.if_contains("api_config");
    if (api && !api->is_object()) return make_error(base + "api_config", "must be an object, got " + describe(*api));
    const json::object* config = api ? api->if_object() : nullptr;
    if (const json::value* u = config ? config->if_contains(url_key) : nullptr) {
        const std::string path = base + "api_config." + std::string(url_key);
        if (!u->is_string()) return make_error(path, "must be a string, got " + describe(*u));
        return parse_simple_url(u->get_string(), scheme, path);
    }
    const json::value* ports = job.service_config.if_contains("ports");
    const json::array* list = ports ? ports->if_array() : nullptr;
    if (!list || list->empty())
        return make_error(base + "api_config." + std::string(url_key),
                          "missing, and services." + job.service + ".ports has no port to fall back on");
    json::object holder;
    holder["port"] = (*list)[0];
    auto port = config_integer(&holder, "port", base + "ports[0]", 1, 65535);
    if (!port) return port.error();
    simple_url u;
    u.scheme = std::string(scheme);
    u.host = "127.0.0.1";
    u.port = std::to_string(**port);
    return u;
}

struct sim_http_settings {
    simple_url url;
    std::chrono::milliseconds timeout{simulation_http_connector::kDefaultTimeoutMs};
    std::chrono::milliseconds poll_interval{simulation_http_connector::kDefaultPollIntervalMs};
    json::object simulation_config;
    std::optional<std::int64_t> expected_ms;  ///< for synthesized progress
};

struct sim_http_run {
    explicit sim_http_run(asio::io_context& i) : io(i), resolver(i), timer(i) {}

    using response = http::response<http::string_body>;
    using next_fn = std::function<void(const std::string& error, response* res)>;

    asio::io_context& io;
    tcp::resolver resolver;
    asio::steady_timer timer;  ///< the resolve deadline, then the poll interval
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::string_body>> parser;
    http::request<http::string_body> request;
    connector_callbacks callbacks;
    connector_job job;
    sim_http_settings settings;
    std::chrono::steady_clock::time_point started_at;
    std::int64_t last_percent = -1;
    bool started = false;
    bool done = false;  ///< finished or cancelled: no callback may follow
};

}  // namespace detail

namespace {

using run_ptr = std::shared_ptr<detail::sim_http_run>;
using detail::sim_http_run;

constexpr std::size_t kMaxResponseBytes = 16 * 1024 * 1024;

json::object message_error(std::string message) {
    json::object o;
    o["message"] = std::move(message);
    return o;
}

result<detail::sim_http_settings> read_settings(const connector_job& job) {
    detail::sim_http_settings s;
    auto url = detail::service_url(job, "base_url", "http");
    if (!url) return url.error();
    s.url = std::move(*url);
    const std::string base = "services." + job.service + ".";
    const json::value* api = job.service_config.if_contains("api_config");
    const json::object* config = api ? api->if_object() : nullptr;
    auto timeout = detail::config_integer(config, "timeout_ms", base + "api_config.timeout_ms", 1, 86400000);
    if (!timeout) return timeout.error();
    if (*timeout) s.timeout = std::chrono::milliseconds(**timeout);
    auto poll = detail::config_integer(config, "poll_interval_ms", base + "api_config.poll_interval_ms", 1, 3600000);
    if (!poll) return poll.error();
    if (*poll) s.poll_interval = std::chrono::milliseconds(**poll);

    const json::value* sc = job.service_config.if_contains("simulation_config");
    const json::object* sim = sc ? sc->if_object() : nullptr;
    for (const char* key : {"processing_time_ms", "steps", "progress_interval_ms"}) {
        auto n = detail::config_integer(sim, key, base + "simulation_config." + key, 0, 86400000);
        if (!n) return n.error();
        if (*n) s.simulation_config[key] = **n;
    }
    if (const json::object* p = job.payload.if_object(); p && p->contains("duration_ms")) {
        if (auto d = as_integer(p->at("duration_ms")); d && *d >= 0) s.expected_ms = *d;
    }
    if (!s.expected_ms && s.simulation_config.contains("processing_time_ms"))
        s.expected_ms = s.simulation_config.at("processing_time_ms").as_int64();
    return s;
}

void report_progress(const run_ptr& run, std::int64_t percent, std::string message) {
    if (run->done || percent <= run->last_percent) return;
    run->last_percent = percent;
    deliver_progress(*run, percent, std::move(message));
}

void report_complete(const run_ptr& run, json::value result) { deliver_complete(*run, std::move(result)); }

void report_fail(const run_ptr& run, json::object error, bool retryable) {
    if (run->done) return;
    error["connector"] = std::string(simulation_http_connector::kName);
    error["url"] = run->request.target().empty()
                       ? std::string()
                       : "http://" + run->settings.url.host + ":" + run->settings.url.port + std::string(run->request.target());
    deliver_fail(*run, std::move(error), retryable);
}

std::string describe_network_error(const run_ptr& run, const beast::error_code& ec, std::string_view step) {
    const std::string where = run->settings.url.host + ":" + run->settings.url.port;
    if (ec == beast::error::timeout || ec == asio::error::timed_out)
        return "timed out after " + std::to_string(run->settings.timeout.count()) + " ms while " + std::string(step) + " " + where;
    return std::string(step) + " " + where + " failed: " + ec.message();
}

void close_stream(const run_ptr& run) {
    if (!run->stream) return;
    beast::error_code ignored;
    run->stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    run->stream->socket().close(ignored);
}

// One request on a fresh connection (Connection: close): each step has its own deadline.
// `next` gets "" and the response, or a message saying which step failed.
void exchange(const run_ptr& run, http::verb verb, const std::string& target, std::string body,
              sim_http_run::next_fn next) {
    auto& req = run->request;
    req = {};
    req.method(verb);
    req.target(run->settings.url.path + target);
    req.version(11);
    req.set(http::field::host, run->settings.url.host + ":" + run->settings.url.port);
    req.set(http::field::user_agent, "jobrouter");
    req.keep_alive(false);
    if (verb == http::verb::post) {
        req.set(http::field::content_type, "application/json");
        req.body() = std::move(body);
    }
    req.prepare_payload();

    // The resolver has no deadline of its own: a timer cancels it.
    run->timer.expires_after(run->settings.timeout);
    run->timer.async_wait([run](boost::system::error_code ec) {
        if (!ec) run->resolver.cancel();
    });
    run->resolver.async_resolve(
        run->settings.url.host, run->settings.url.port,
        [run, next = std::move(next)](beast::error_code ec, tcp::resolver::results_type results) mutable {
            if (run->done) return;
            const bool timed_out = run->timer.expiry() <= std::chrono::steady_clock::now();
            run->timer.cancel();
            if (ec) return next(timed_out ? describe_network_error(run, beast::error::timeout, "resolving")
                                           : describe_network_error(run, ec, "resolving"), nullptr);
            run->stream.emplace(run->io);
            run->stream->expires_after(run->settings.timeout);
            run->stream->async_connect(results, [run, next = std::move(next)](beast::error_code ec, const tcp::endpoint&) mutable {
                if (run->done) return;
                if (ec) return next(describe_network_error(run, ec, "connecting to"), nullptr);
                run->stream->expires_after(run->settings.timeout);
                http::async_write(*run->stream, run->request, [run, next = std::move(next)](beast::error_code ec, std::size_t) mutable {
                    if (run->done) return;
                    if (ec) return next(describe_network_error(run, ec, "sending to"), nullptr);
                    run->buffer.clear();
                    run->parser.emplace();
                    run->parser->body_limit(kMaxResponseBytes);
                    run->stream->expires_after(run->settings.timeout);
                    http::async_read(*run->stream, run->buffer, *run->parser,
                                     [run, next = std::move(next)](beast::error_code ec, std::size_t) {
                                         if (run->done) return;
                                         close_stream(run);
                                         if (ec) return next(describe_network_error(run, ec, "reading from"), nullptr);
                                         auto res = run->parser->release();
                                         next("", &res);
                                     });
                });
            });
        });
}

// What the service said, for messages: its "error" field when its body has one.
std::string service_said(const sim_http_run::response& res) {
    boost::system::error_code ec;
    const json::value v = json::parse(res.body(), ec);
    if (!ec && v.is_object())
        if (const json::value* e = v.get_object().if_contains("error"))
            return e->is_string() ? std::string(e->get_string()) : json::serialize(*e);
    return res.body().substr(0, 200);
}

void poll(const run_ptr& run);

void on_history(const run_ptr& run, const std::string& error, sim_http_run::response* res) {
    if (error.size()) return report_fail(run, message_error("polling the simulation service: " + error), true);
    const unsigned status = res->result_int();
    if (status == 404)
        return report_fail(run, message_error("the simulation service no longer knows job " + quoted(run->job.job_id) +
                                              " (404: " + service_said(*res) + ")"), true);
    if (status < 200 || status > 299)
        return report_fail(run, message_error("the simulation service answered " + std::to_string(status) +
                                              " to GET /history: " + service_said(*res)), status >= 500);
    boost::system::error_code ec;
    json::value v = json::parse(res->body(), ec);
    if (ec || !v.is_object())
        return report_fail(run, message_error("the simulation service's /history reply is not a JSON object: " +
                                              res->body().substr(0, 200)), true);
    json::object& o = v.get_object();
    const json::value* st = o.if_contains("status");
    const std::string state = st && st->is_string() ? std::string(st->get_string()) : std::string();
    if (state == "success") {
        report_progress(run, 100, "simulation: done");
        if (run->done) return;
        json::value outputs = o.contains("outputs") ? o["outputs"] : json::value(json::object());
        return report_complete(run, std::move(outputs));
    }
    if (state == "error") {
        const json::value* e = o.if_contains("error");
        json::object err = message_error("the simulation service reports an error: " +
                                         (e && e->is_string() ? std::string(e->get_string()) : e ? json::serialize(*e) : std::string("(none)")));
        if (e) err["service_error"] = *e;
        // Retryable: a simulated (random) failure need not recur on another attempt.
        return report_fail(run, std::move(err), true);
    }
    // Still running: the service's progress when it reports one, else an estimate from the time.
    const json::value* p = o.if_contains("progress");
    const json::value* percent = p && p->is_object() ? p->get_object().if_contains("percent") : nullptr;
    if (auto n = percent ? as_integer(*percent) : std::nullopt) {
        const json::object& po = p->get_object();
        std::string message = "simulation: " + std::to_string(*n) + "%";
        if (po.contains("current_step") && po.contains("total_steps"))
            message = "step " + json::serialize(po.at("current_step")) + " of " + json::serialize(po.at("total_steps"));
        report_progress(run, std::clamp<std::int64_t>(*n, 0, 99), std::move(message));
    } else if (run->settings.expected_ms && *run->settings.expected_ms > 0) {
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                   run->started_at).count();
        report_progress(run, std::min<std::int64_t>(95, elapsed * 100 / *run->settings.expected_ms),
                        "simulation: running (estimated)");
    }
    if (run->done) return;
    poll(run);
}

void poll(const run_ptr& run) {
    run->timer.expires_after(run->settings.poll_interval);
    run->timer.async_wait([run](boost::system::error_code ec) {
        if (ec || run->done) return;
        exchange(run, http::verb::get, "/history/" + run->job.job_id, "",
                 [run](const std::string& error, sim_http_run::response* res) { on_history(run, error, res); });
    });
}

void submit(const run_ptr& run) {
    json::object body;
    body["job_id"] = run->job.job_id;
    body["job_type"] = run->job.job_type;
    body["payload"] = run->job.payload;
    body["simulation_config"] = run->settings.simulation_config;
    run->started_at = std::chrono::steady_clock::now();
    exchange(run, http::verb::post, "/process", json::serialize(body),
             [run](const std::string& error, sim_http_run::response* res) {
                 if (error.size()) return report_fail(run, message_error("submitting to the simulation service: " + error), true);
                 const unsigned status = res->result_int();
                 if (status < 200 || status > 299)
                     // A 4xx means the service refused this input: another attempt would be refused too.
                     return report_fail(run, message_error("the simulation service refused the job (" +
                                                           std::to_string(status) + "): " + service_said(*res)),
                                        status >= 500);
                 report_progress(run, 0, "simulation: submitted");
                 if (!run->done) poll(run);
             });
}

}  // namespace

simulation_http_connector::simulation_http_connector(asio::io_context& io)
    : run_(std::make_shared<detail::sim_http_run>(io)) {}

simulation_http_connector::~simulation_http_connector() { cancel(); }

void simulation_http_connector::start(connector_job job, connector_callbacks callbacks) {
    BOOST_ASSERT_MSG(!run_->started, "a connector runs one job");
    run_->started = true;
    run_->callbacks = std::move(callbacks);
    auto settings = read_settings(job);
    if (!settings) {
        // The config cannot change between attempts, so retrying would only fail again.
        asio::post(run_->io, [run = run_, e = settings.error()] { report_fail(run, message_error(e.text()), false); });
        return;
    }
    run_->settings = std::move(*settings);
    run_->job = std::move(job);
    // Posted, like every callback: start() returns before anything is reported.
    asio::post(run_->io, [run = run_] {
        if (!run->done) submit(run);
    });
}

void simulation_http_connector::cancel() {
    run_->done = true;
    run_->timer.cancel();
    run_->resolver.cancel();
    close_stream(run_);
    // Drop the callbacks now: they may hold the caller's state, which need not outlive us.
    run_->callbacks = {};
}

}  // namespace jobrouter
