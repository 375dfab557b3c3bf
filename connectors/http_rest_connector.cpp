#include "connectors/http_rest_connector.hpp"

#include "connectors/http_rest_settings.hpp"
#include "connectors/json_path.hpp"
#include "connectors/outcome.hpp"
#include "connectors/request_template.hpp"
#include "core/json_util.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/assert.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>

namespace jobrouter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;

namespace detail {

/// A rendered URL, split for a request.
struct rest_target {
    std::string url;     ///< as rendered, for messages
    std::string host;    ///< without brackets for IPv6
    std::string port;
    std::string target;  ///< path and query
    std::string host_header;
};

struct rest_run {
    explicit rest_run(asio::io_context& i) : io(i), resolver(i), step_timer(i), wait_timer(i), deadline(i) {}

    using response = http::response<http::string_body>;

    asio::io_context& io;
    tcp::resolver resolver;
    asio::steady_timer step_timer;  ///< the resolve deadline (the resolver has none of its own)
    asio::steady_timer wait_timer;  ///< retry back-off and poll interval
    asio::steady_timer deadline;    ///< total_timeout_ms
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::string_body>> parser;
    http::request<http::string_body> request;
    rest_target target;         ///< of the request in flight
    std::string step;           ///< "submit" or "poll", for messages
    std::optional<rest_target> poll_target;
    connector_callbacks callbacks;
    rest_settings settings;
    template_scope scope;
    std::vector<std::pair<std::string, std::string>> headers;  ///< rendered
    std::int64_t last_percent = -1;
    bool started = false;
    bool done = false;  ///< finished or cancelled: no callback may follow
};

}  // namespace detail

namespace {

using run_ptr = std::shared_ptr<detail::rest_run>;
using detail::rest_run;
using detail::rest_target;
using response = rest_run::response;

constexpr std::size_t kSnippetBytes = 512;

std::string snippet(std::string_view body) {
    if (body.size() <= kSnippetBytes) return std::string(body);
    return std::string(body.substr(0, kSnippetBytes)) + "...";
}

// Every way a request can end, as far as retrying goes.
enum class net_outcome {
    reply,       ///< a whole reply arrived
    connect,     ///< resolve or connect failed or timed out: the request never left, so retry
    timeout,     ///< write or read timed out: the service may be working on it
    broken,      ///< the connection broke before the reply was complete
    too_large,   ///< the reply is over max_response_bytes
};

void close_stream(const run_ptr& run) {
    if (!run->stream) return;
    beast::error_code ignored;
    run->stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    run->stream->socket().close(ignored);
}

// Everything asynchronous stops: after an ending, nothing may keep the io_context busy.
void stop_io(const run_ptr& run) {
    run->step_timer.cancel();
    run->wait_timer.cancel();
    run->deadline.cancel();
    run->resolver.cancel();
    close_stream(run);
}

void report_progress(const run_ptr& run, std::int64_t percent, std::string message) {
    if (run->done || percent <= run->last_percent) return;
    run->last_percent = percent;
    deliver_progress(*run, percent, std::move(message));
}

void report_complete(const run_ptr& run, boost::json::value result) {
    if (run->done) return;
    stop_io(run);
    deliver_complete(*run, std::move(result));
}

struct failure {
    std::string message;
    bool retryable = false;
    std::optional<unsigned> status;
    std::optional<std::string> body;
};

void report_fail(const run_ptr& run, failure f) {
    if (run->done) return;
    stop_io(run);
    json::object error;
    error["message"] = std::move(f.message);
    error["connector"] = std::string(http_rest_connector::kName);
    if (!run->step.empty()) error["step"] = run->step;
    if (!run->target.url.empty()) error["url"] = run->target.url;
    if (f.status) error["status"] = static_cast<std::int64_t>(*f.status);
    if (f.body) error["body"] = *f.body;
    deliver_fail(*run, std::move(error), f.retryable);
}

void fail_config(const run_ptr& run, const error& e) { report_fail(run, {e.text(), false, {}, {}}); }

std::string url_encode(std::string_view s) { return urls::encode(s, urls::unreserved_chars); }

result<rest_target> parse_target(const std::string& text, const std::string& field) {
    auto parsed = urls::parse_uri(text);
    if (!parsed) return make_error(field, "not a valid URL: " + quoted(text) + " (" + parsed.error().message() + ")");
    const urls::url_view& u = *parsed;
    if (u.scheme_id() == urls::scheme::https)
        return make_error(field, quoted(text) + ": https is not supported (this build speaks plain http only)");
    if (u.scheme_id() != urls::scheme::http)
        return make_error(field, quoted(text) + ": the scheme must be http, got " + quoted(std::string(u.scheme())));
    rest_target t;
    t.url = text;
    t.host = std::string(u.encoded_host_address());
    if (t.host.empty()) return make_error(field, quoted(text) + ": no host");
    t.port = u.has_port() ? std::string(u.port()) : "80";
    if (u.has_port() && (u.port_number() == 0)) return make_error(field, quoted(text) + ": the port must be from 1 to 65535");
    t.host_header = std::string(u.encoded_host_and_port());
    t.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query()) t.target += "?" + std::string(u.encoded_query());
    return t;
}

result<rest_target> render_target(const run_ptr& run, const std::string& tmpl, const std::string& field) {
    auto text = render_text(tmpl, run->scope, field, url_encode);
    if (!text) return text.error();
    return parse_target(*text, field);
}

std::string network_message(const run_ptr& run, std::string_view doing, const beast::error_code& ec) {
    const std::string where = run->target.host_header;
    if (ec == beast::error::timeout || ec == asio::error::timed_out)
        return "timed out after " + std::to_string(run->settings.request_timeout.count()) + " ms (request_timeout_ms) " +
               std::string(doing) + " " + where;
    return std::string(doing) + " " + where + " failed: " + ec.message();
}

using exchange_fn = std::function<void(net_outcome, const std::string& message, response* res)>;

// One request on a fresh connection (Connection: close); each step has its own deadline.
void exchange(const run_ptr& run, http::verb verb, const rest_target& target, std::optional<std::string> body,
              exchange_fn next) {
    run->target = target;
    auto& req = run->request;
    req = {};
    req.method(verb);
    req.target(target.target);
    req.version(11);
    req.set(http::field::host, target.host_header);
    req.set(http::field::user_agent, "jobrouter");
    req.set(http::field::accept, "application/json");
    if (body) req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : run->headers) req.set(name, value);  // the config's win
    req.keep_alive(false);
    if (body) req.body() = std::move(*body);
    req.prepare_payload();

    const auto timeout = run->settings.request_timeout;
    run->step_timer.expires_after(timeout);
    run->step_timer.async_wait([run](boost::system::error_code ec) {
        if (!ec) run->resolver.cancel();
    });
    run->resolver.async_resolve(target.host, target.port, [run, timeout, next = std::move(next)](
                                                              beast::error_code ec, tcp::resolver::results_type results) mutable {
        if (run->done) return;
        const bool timed_out = run->step_timer.expiry() <= std::chrono::steady_clock::now();
        run->step_timer.cancel();
        if (ec) return next(net_outcome::connect, network_message(run, "resolving", timed_out ? beast::error::timeout : ec), nullptr);
        run->stream.emplace(run->io);
        run->stream->expires_after(timeout);
        run->stream->async_connect(results, [run, timeout, next = std::move(next)](beast::error_code ec, const tcp::endpoint&) mutable {
            if (run->done) return;
            if (ec) return next(net_outcome::connect, network_message(run, "connecting to", ec), nullptr);
            run->stream->expires_after(timeout);
            http::async_write(*run->stream, run->request, [run, timeout, next = std::move(next)](beast::error_code ec, std::size_t) mutable {
                if (run->done) return;
                if (ec) {
                    const bool t = ec == beast::error::timeout;
                    return next(t ? net_outcome::timeout : net_outcome::broken, network_message(run, "sending to", ec), nullptr);
                }
                run->buffer.clear();
                run->parser.emplace();
                run->parser->body_limit(run->settings.max_response_bytes);
                run->parser->header_limit(64 * 1024);
                run->stream->expires_after(timeout);
                http::async_read(*run->stream, run->buffer, *run->parser, [run, next = std::move(next)](beast::error_code ec, std::size_t) {
                    if (run->done) return;
                    close_stream(run);
                    if (ec == http::error::body_limit)
                        return next(net_outcome::too_large,
                                    "the reply of " + run->target.host_header + " is larger than max_response_bytes (" +
                                        std::to_string(run->settings.max_response_bytes) + ")",
                                    nullptr);
                    if (ec == beast::error::timeout)
                        return next(net_outcome::timeout, network_message(run, "waiting for the reply of", ec), nullptr);
                    if (ec)
                        return next(net_outcome::broken,
                                    "the connection to " + run->target.host_header +
                                        " broke before the reply was complete (" + ec.message() + ")",
                                    nullptr);
                    auto res = run->parser->release();
                    next(net_outcome::reply, "", &res);
                });
            });
        });
    });
}

using reply_fn = std::function<void(response& res)>;

// exchange() with the retry rule: a connect error or a 5xx is tried again after a back-off,
// up to max_attempts; anything else ends here or goes to `on_reply` (2xx only).
void send(const run_ptr& run, http::verb verb, rest_target target, std::optional<std::string> body, reply_fn on_reply,
          std::int64_t attempt = 1) {
    exchange(run, verb, target, body,
             [run, verb, target, body, on_reply = std::move(on_reply), attempt](net_outcome outcome, const std::string& message,
                                                                               response* res) mutable {
                 const unsigned status = res ? res->result_int() : 0;
                 const bool retry = outcome == net_outcome::connect || (outcome == net_outcome::reply && status >= 500);
                 if (retry && attempt < run->settings.max_attempts) {
                     auto wait = run->settings.retry_backoff;
                     for (std::int64_t k = 1; k < attempt && wait < run->settings.retry_backoff_max; ++k) wait *= 2;
                     wait = std::min(wait, run->settings.retry_backoff_max);
                     run->wait_timer.expires_after(wait);
                     run->wait_timer.async_wait([run, verb, target = std::move(target), body = std::move(body),
                                                 on_reply = std::move(on_reply), attempt](boost::system::error_code ec) mutable {
                         if (ec || run->done) return;
                         send(run, verb, std::move(target), std::move(body), std::move(on_reply), attempt + 1);
                     });
                     return;
                 }
                 const std::string tries =
                     attempt > 1 ? " (after " + std::to_string(attempt) + " attempts)" : std::string();
                 if (outcome != net_outcome::reply)
                     return report_fail(run, {run->step + ": " + message + tries, outcome != net_outcome::too_large, {}, {}});
                 if (status >= 500)
                     return report_fail(run, {run->step + ": " + target.host_header + " answered " + std::to_string(status) + tries,
                                              true, status, snippet(res->body())});
                 if (status >= 400)
                     // The service refused this input: another attempt would be refused too.
                     return report_fail(run, {run->step + ": " + target.host_header + " refused the request with " +
                                                  std::to_string(status) + ": " + snippet(res->body()),
                                              false, status, snippet(res->body())});
                 if (status < 200 || status > 299)
                     return report_fail(run, {run->step + ": unexpected status " + std::to_string(status) + " from " +
                                                  target.host_header + " (redirects are not followed)",
                                              false, status, snippet(res->body())});
                 on_reply(*res);
             });
}

// The reply as JSON; a reply that is not JSON fails the job (the service does not speak the
// configured protocol, so another attempt would not help).
std::optional<json::value> parse_reply(const run_ptr& run, const response& res) {
    boost::system::error_code ec;
    json::value v = json::parse(res.body(), ec);
    if (!ec) return v;
    report_fail(run, {run->step + ": the reply of " + run->target.host_header + " is not valid JSON (" + ec.message() +
                          "): " + snippet(res.body()),
                      false, res.result_int(), snippet(res.body())});
    return std::nullopt;
}

// The value at the rendered path `path_template` of config field `field`, or nullptr when
// the reply has none; a bad path fails the job.
result<const json::value*> at_path(const run_ptr& run, const json::value& reply, const std::string& path_template,
                                   const std::string& field) {
    auto text = render_text(path_template, run->scope, field);
    if (!text) return text.error();
    auto path = parse_json_path(*text, field);
    if (!path) return path.error();
    return {boost::system::in_place_value, find_json_path(reply, *path)};
}

// The result: the value at result_path (the whole reply when none is configured).
void complete_with(const run_ptr& run, const json::value& reply, const std::optional<std::string>& path_template) {
    json::value result = reply;
    if (path_template) {
        const std::string field = run->settings.field + ".result_path";
        auto v = at_path(run, reply, *path_template, field);
        if (!v) return fail_config(run, v.error());
        if (!*v)
            return report_fail(run, {run->step + ": the reply has nothing at " + field + " " + quoted(*path_template) +
                                         ": " + snippet(json::serialize(reply)),
                                     false, {}, {}});
        result = **v;
    }
    report_progress(run, 100, "done");
    report_complete(run, std::move(result));
}

std::string status_text(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

bool contains(const std::vector<std::string>& list, const std::string& s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

void schedule_poll(const run_ptr& run);

void on_poll_reply(const run_ptr& run, response& res) {
    auto reply = parse_reply(run, res);
    if (!reply) return;
    const rest_poll_settings& poll = *run->settings.poll;
    const std::string field = run->settings.field + ".poll";
    auto status = at_path(run, *reply, poll.status_path, field + ".status_path");
    if (!status) return fail_config(run, status.error());
    if (*status) {
        const std::string state = status_text(**status);
        if (contains(poll.done_values, state)) return complete_with(run, *reply, run->settings.result_path);
        if (contains(poll.failed_values, state)) {
            std::string said;
            if (!poll.error_path.empty()) {
                auto e = at_path(run, *reply, poll.error_path, field + ".error_path");
                if (!e) return fail_config(run, e.error());
                if (*e) said = ": " + status_text(**e);
            }
            return report_fail(run, {"poll: the service reports the job " + quoted(state) + said, poll.failure_retryable,
                                     res.result_int(), snippet(res.body())});
        }
        if (poll.running_values && !contains(*poll.running_values, state))
            return report_fail(run, {"poll: unexpected status " + quoted(state) + " at " + field +
                                         ".status_path (neither done_values, failed_values nor running_values)",
                                     false, res.result_int(), snippet(res.body())});
    }
    if (!poll.progress_path.empty()) {
        auto p = at_path(run, *reply, poll.progress_path, field + ".progress_path");
        if (!p) return fail_config(run, p.error());
        if (*p && (**p).is_number()) {
            const auto percent = static_cast<std::int64_t>(as_double(**p));
            report_progress(run, std::clamp<std::int64_t>(percent, 0, 99), "running: " + std::to_string(percent) + "%");
        }
    }
    if (!run->done) schedule_poll(run);
}

void schedule_poll(const run_ptr& run) {
    run->wait_timer.expires_after(run->settings.poll->interval);
    run->wait_timer.async_wait([run](boost::system::error_code ec) {
        if (ec || run->done) return;
        run->step = "poll";
        send(run, http::verb::get, *run->poll_target, std::nullopt, [run](response& res) { on_poll_reply(run, res); });
    });
}

void on_submit_reply(const run_ptr& run, response& res) {
    auto reply = parse_reply(run, res);
    if (!reply) return;
    if (!run->settings.poll) return complete_with(run, *reply, run->settings.result_path);

    const rest_poll_settings& poll = *run->settings.poll;
    const std::string field = run->settings.field + ".poll.id_path";
    auto id = at_path(run, *reply, poll.id_path, field);
    if (!id) return fail_config(run, id.error());
    if (!*id || !((**id).is_string() || (**id).is_number()))
        return report_fail(run, {"submit: the reply has no id (string or number) at " + field + " " + quoted(poll.id_path) +
                                     ": " + snippet(res.body()),
                                 false, res.result_int(), snippet(res.body())});
    const std::string id_text = status_text(**id);
    run->scope.roots["id"] = id_text;
    auto target = render_target(run, poll.url, run->settings.field + ".poll.url");
    if (!target) return fail_config(run, target.error());
    run->poll_target = std::move(*target);
    report_progress(run, 0, "submitted as " + id_text);
    if (!run->done) schedule_poll(run);
}

void begin(const run_ptr& run, const connector_job& job) {
    run->deadline.expires_after(run->settings.total_timeout);
    run->deadline.async_wait([run](boost::system::error_code ec) {
        if (ec || run->done) return;
        report_fail(run, {run->step + ": no result within total_timeout_ms (" +
                              std::to_string(run->settings.total_timeout.count()) + " ms)",
                          true, {}, {}});
    });

    const std::string& field = run->settings.field;
    for (const auto& [name, value] : run->settings.headers) {
        auto rendered = render_text(value, run->scope, field + ".headers." + name);
        if (!rendered) return fail_config(run, rendered.error());
        run->headers.emplace_back(name, std::move(*rendered));
    }
    auto target = render_target(run, run->settings.url, field + ".url");
    if (!target) return fail_config(run, target.error());

    std::optional<std::string> body;
    if (run->settings.body) {
        auto rendered = render_json(*run->settings.body, run->scope, field + ".body");
        if (!rendered) return fail_config(run, rendered.error());
        body = json::serialize(*rendered);
    } else if (run->settings.method == http::verb::post || run->settings.method == http::verb::put ||
               run->settings.method == http::verb::patch) {
        body = json::serialize(job.payload);
    }
    run->step = "submit";
    send(run, run->settings.method, std::move(*target), std::move(body), [run](response& res) { on_submit_reply(run, res); });
}

}  // namespace

http_rest_connector::http_rest_connector(asio::io_context& io) : run_(std::make_shared<detail::rest_run>(io)) {}

http_rest_connector::~http_rest_connector() { cancel(); }

void http_rest_connector::start(connector_job job, connector_callbacks callbacks) {
    BOOST_ASSERT_MSG(!run_->started, "a connector runs one job");
    run_->started = true;
    run_->callbacks = std::move(callbacks);
    auto settings = read_rest_settings(job);
    if (!settings) {
        // The config cannot change between attempts, so retrying would only fail again.
        asio::post(run_->io, [run = run_, e = settings.error()] { fail_config(run, e); });
        return;
    }
    run_->settings = std::move(*settings);
    auto& roots = run_->scope.roots;
    roots["payload"] = job.payload;
    roots["job_id"] = job.job_id;
    roots["job_type"] = job.job_type;
    roots["service"] = job.service;
    roots["job"] = job.job;
    // Posted, like every callback: start() returns before anything is reported.
    asio::post(run_->io, [run = run_, job = std::move(job)] {
        if (!run->done) begin(run, job);
    });
}

void http_rest_connector::cancel() {
    run_->done = true;
    stop_io(run_);
    // Drop the callbacks now: they may hold the caller's state, which need not outlive us.
    run_->callbacks = {};
}

}  // namespace jobrouter
