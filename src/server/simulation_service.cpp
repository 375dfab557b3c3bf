#include "server/simulation_service.hpp"

#include "core/json_util.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <charconv>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <vector>

namespace jobrouter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace detail {

struct ws_conn;

struct sim_job {
    explicit sim_job(asio::io_context& io) : timer(io) {}

    std::string id;
    std::string job_type;
    std::int64_t steps = 0;
    std::int64_t duration_ms = 0;
    std::int64_t current_step = 0;
    std::int64_t fail_at_step = 0;  ///< 0: never
    std::string status = "running";
    json::object outputs;
    std::string error;
    asio::steady_timer timer;
    std::weak_ptr<ws_conn> listener;  ///< the WebSocket client following it, if any
};

using job_ptr = std::shared_ptr<sim_job>;

struct simulation_state : std::enable_shared_from_this<simulation_state> {
    simulation_state(asio::io_context& i, simulation_settings s)
        : io(i), settings(std::move(s)), http_acceptor(i), ws_acceptor(i), rng(settings.seed) {}

    asio::io_context& io;
    simulation_settings settings;
    tcp::acceptor http_acceptor;
    tcp::acceptor ws_acceptor;
    tcp::endpoint http_bound;
    tcp::endpoint ws_bound;
    std::map<std::string, job_ptr> jobs;
    std::deque<std::string> finished;  ///< finished job ids, oldest first, for eviction
    std::vector<std::weak_ptr<ws_conn>> ws_sessions;
    std::mt19937_64 rng;
    bool stopped = false;
};

}  // namespace detail

namespace {

using detail::job_ptr;
using detail::sim_job;
using state_ptr = std::shared_ptr<detail::simulation_state>;

// ---- job settings ---------------------------------------------------------------------------

struct job_spec {
    std::string job_id;
    std::string job_type;
    std::int64_t steps = 0;
    std::int64_t duration_ms = 0;
    std::optional<bool> should_fail;
    json::value payload;
};

std::string range_rule(std::int64_t min, std::int64_t max) {
    return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

// Config values may be strings of digits: the connectors pass on what ${VAR} substitution left.
result<std::optional<std::int64_t>> read_int(const json::object* o, std::string_view key, const std::string& path,
                                             std::int64_t min, std::int64_t max, bool allow_string) {
    const json::value* v = o ? o->if_contains(key) : nullptr;
    if (!v) return std::optional<std::int64_t>();
    std::optional<std::int64_t> n = as_integer(*v);
    if (!n && allow_string && v->is_string()) {
        const std::string_view s = v->get_string();
        std::int64_t parsed = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
        if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) n = parsed;
    }
    if (!n || *n < min || *n > max) return make_error(path, range_rule(min, max) + ", got " + describe(*v));
    return n;
}

result<job_spec> parse_job(const json::object& req, std::string_view config_key, const simulation_settings& defaults) {
    job_spec spec;
    const json::value* id = req.if_contains("job_id");
    if (!id || !id->is_string() || id->get_string().empty())
        return make_error("job_id", "must be a non-empty string, got " + (id ? describe(*id) : std::string("nothing")));
    spec.job_id = std::string(id->get_string());
    if (const json::value* t = req.if_contains("job_type"); t && t->is_string()) spec.job_type = std::string(t->get_string());
    if (const json::value* p = req.if_contains("payload")) spec.payload = *p;
    const json::object* payload = spec.payload.if_object();
    const json::value* c = req.if_contains(config_key);
    const json::object* config = c ? c->if_object() : nullptr;
    const std::string cpath = std::string(config_key) + ".";

    auto steps = read_int(payload, "steps", "payload.steps", 1, kSimulationMaxSteps, false);
    if (!steps) return steps.error();
    if (!*steps) steps = read_int(config, "steps", cpath + "steps", 1, kSimulationMaxSteps, true);
    if (!steps) return steps.error();
    auto duration = read_int(payload, "duration_ms", "payload.duration_ms", 0, kSimulationMaxDurationMs, false);
    if (!duration) return duration.error();
    if (!*duration)
        duration = read_int(config, "processing_time_ms", cpath + "processing_time_ms", 0, kSimulationMaxDurationMs, true);
    if (!duration) return duration.error();
    spec.steps = steps->value_or(defaults.steps);
    spec.duration_ms = duration->value_or(defaults.duration_ms);
    if (const json::value* f = payload ? payload->if_contains("should_fail") : nullptr) {
        if (!f->is_bool()) return make_error("payload.should_fail", "must be a boolean, got " + describe(*f));
        spec.should_fail = f->get_bool();
    }
    return spec;
}

json::object progress_json(const sim_job& j) {
    json::object p;
    p["percent"] = j.steps ? j.current_step * 100 / j.steps : 100;
    p["current_step"] = j.current_step;
    p["total_steps"] = j.steps;
    return p;
}

void notify(const job_ptr& job, json::object message);
void run_step(const state_ptr& st, const job_ptr& job);

void finish(const state_ptr& st, const job_ptr& job, std::string status) {
    job->status = std::move(status);
    st->finished.push_back(job->id);
    while (st->finished.size() > st->settings.max_finished_jobs) {
        auto it = st->jobs.find(st->finished.front());
        // A finished id may have been resubmitted since: evict only what is still finished.
        if (it != st->jobs.end() && it->second->status != "running") st->jobs.erase(it);
        st->finished.pop_front();
    }
}

// Returns the job the client now follows: the running one with that id, else a new one.
job_ptr submit(const state_ptr& st, const job_spec& spec, std::weak_ptr<detail::ws_conn> listener) {
    if (auto it = st->jobs.find(spec.job_id); it != st->jobs.end() && it->second->status == "running") {
        if (!listener.expired()) it->second->listener = std::move(listener);
        return it->second;
    }
    auto job = std::make_shared<sim_job>(st->io);
    job->id = spec.job_id;
    job->job_type = spec.job_type;
    job->steps = spec.steps;
    job->duration_ms = spec.duration_ms;
    job->listener = std::move(listener);
    bool fails = false;
    if (spec.should_fail) {
        fails = *spec.should_fail;
    } else if (st->settings.failure_rate > 0) {
        fails = std::uniform_real_distribution<double>(0.0, 1.0)(st->rng) < st->settings.failure_rate;
    }
    if (fails) job->fail_at_step = (job->steps + 1) / 2;
    job->outputs["simulated"] = true;
    job->outputs["job_id"] = spec.job_id;
    job->outputs["job_type"] = spec.job_type;
    job->outputs["steps"] = spec.steps;
    job->outputs["duration_ms"] = spec.duration_ms;
    st->jobs[spec.job_id] = job;

    json::object started;
    started["type"] = "simulation_started";
    started["job_id"] = job->id;
    started["total_steps"] = job->steps;
    notify(job, std::move(started));
    run_step(st, job);
    return job;
}

// Step k (1-based) ends at duration * k / steps from the start, so the steps add up to exactly
// duration_ms whatever the rounding.
void run_step(const state_ptr& st, const job_ptr& job) {
    const auto end_of = [&](std::int64_t k) { return job->duration_ms * k / job->steps; };
    job->timer.expires_after(std::chrono::milliseconds(end_of(job->current_step + 1) - end_of(job->current_step)));
    std::weak_ptr<detail::simulation_state> weak = st;
    job->timer.async_wait([weak, job](boost::system::error_code ec) {
        auto st = weak.lock();
        if (ec || !st || st->stopped || job->status != "running") return;
        ++job->current_step;
        if (job->current_step == job->fail_at_step) {
            job->error = "simulated failure at step " + std::to_string(job->current_step) + " of " +
                         std::to_string(job->steps);
            finish(st, job, "error");
            json::object m;
            m["type"] = "simulation_error";
            m["job_id"] = job->id;
            m["error"] = job->error;
            notify(job, std::move(m));
            return;
        }
        json::object m;
        m["type"] = "simulation_progress";
        m["job_id"] = job->id;
        m["progress"] = job->current_step * 100 / job->steps;
        m["current_step"] = job->current_step;
        m["total_steps"] = job->steps;
        notify(job, std::move(m));
        if (job->current_step < job->steps) return run_step(st, job);
        finish(st, job, "success");
        json::object done;
        done["type"] = "simulation_complete";
        done["job_id"] = job->id;
        done["results"] = job->outputs;
        notify(job, std::move(done));
    });
}

bool cancel_job(const state_ptr& st, const std::string& id) {
    auto it = st->jobs.find(id);
    if (it == st->jobs.end() || it->second->status != "running") return false;
    it->second->timer.cancel();
    finish(st, it->second, "cancelled");
    return true;
}

// ---- HTTP -----------------------------------------------------------------------------------

class http_conn : public std::enable_shared_from_this<http_conn> {
public:
    http_conn(tcp::socket&& s, const state_ptr& st) : stream_(std::move(s)), state_(st), settings_(st->settings) {}

    void run() { do_read(); }

private:
    using response = http::response<http::string_body>;

    void do_read() {
        parser_.emplace();
        parser_->body_limit(settings_.max_body_bytes);
        stream_.expires_after(settings_.io_timeout);
        http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_conn::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return do_close();
        auto st = state_.lock();
        if (!st || st->stopped) return do_close();
        const auto& req = parser_->get();
        send(answer(st, req), !req.keep_alive());
    }

    static response reply(http::status status, const json::object& body) {
        response res{status, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = json::serialize(body);
        return res;
    }

    static response error_reply(http::status status, std::string message) {
        json::object o;
        o["error"] = std::move(message);
        return reply(status, o);
    }

    response answer(const state_ptr& st, const http::request<http::string_body>& req) {
        const std::string_view target = req.target();
        if (target == "/process") {
            if (req.method() != http::verb::post) return error_reply(http::status::method_not_allowed, "use POST /process");
            boost::system::error_code jec;
            json::value body = json::parse(req.body(), jec);
            if (jec || !body.is_object())
                return error_reply(http::status::bad_request, "the body must be a JSON object");
            auto spec = parse_job(body.get_object(), "simulation_config", st->settings);
            if (!spec) return error_reply(http::status::bad_request, spec.error().text());
            submit(st, *spec, {});
            json::object o;
            o["job_id"] = spec->job_id;
            o["status"] = "processing";
            return reply(http::status::accepted, o);
        }
        constexpr std::string_view kHistory = "/history/";
        if (target.starts_with(kHistory)) {
            if (req.method() != http::verb::get) return error_reply(http::status::method_not_allowed, "use GET");
            const std::string id(target.substr(kHistory.size()));
            auto it = st->jobs.find(id);
            if (it == st->jobs.end() || it->second->status == "cancelled")
                return error_reply(http::status::not_found, "no job " + quoted(id));
            const sim_job& j = *it->second;
            json::object o;
            if (j.status == "success") {
                o["status"] = "success";
                o["outputs"] = j.outputs;
            } else if (j.status == "error") {
                o["status"] = "error";
                o["error"] = j.error;
            }
            o["progress"] = progress_json(j);
            return reply(http::status::ok, o);
        }
        if (target == "/health") {
            json::object o;
            o["status"] = "ok";
            return reply(http::status::ok, o);
        }
        return error_reply(http::status::not_found, "no such endpoint: " + std::string(target));
    }

    void send(response res, bool close) {
        res.keep_alive(!close);
        res.prepare_payload();
        auto sp = std::make_shared<response>(std::move(res));
        stream_.expires_after(settings_.io_timeout);
        http::async_write(stream_, *sp, [self = shared_from_this(), sp, close](beast::error_code ec, std::size_t) {
            if (ec || close) return self->do_close();
            self->do_read();
        });
    }

    void do_close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.socket().close(ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::weak_ptr<detail::simulation_state> state_;
    simulation_settings settings_;
};

}  // namespace

// ---- WebSocket ------------------------------------------------------------------------------

namespace detail {

// One WebSocket client: reads requests, writes notices one at a time from a bounded queue.
struct ws_conn : std::enable_shared_from_this<ws_conn> {
    static constexpr std::size_t kMaxQueue = 4096;

    ws_conn(tcp::socket&& s, const state_ptr& st) : ws(std::move(s)), state(st), max_bytes(st->settings.max_body_bytes) {}

    void run() {
        ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws.read_message_max(max_bytes);
        ws.async_accept([self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->do_read();
        });
    }

    void do_read() {
        ws.async_read(buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            const std::string text = beast::buffers_to_string(self->buffer.data());
            self->buffer.consume(self->buffer.size());
            self->on_message(text);
            if (!self->closed) self->do_read();
        });
    }

    void reply_error(const std::string& job_id, std::string message) {
        json::object m;
        m["type"] = job_id.empty() ? "error" : "simulation_error";
        if (!job_id.empty()) m["job_id"] = job_id;
        m["error"] = std::move(message);
        send(std::move(m));
    }

    void on_message(const std::string& text) {
        auto st = state.lock();
        if (!st || st->stopped) return close();
        boost::system::error_code ec;
        json::value v = json::parse(text, ec);
        if (ec || !v.is_object()) return reply_error("", "a message must be a JSON object");
        const json::object& m = v.get_object();
        const json::value* t = m.if_contains("type");
        const std::string type = t && t->is_string() ? std::string(t->get_string()) : std::string();
        const json::value* idv = m.if_contains("job_id");
        const std::string job_id = idv && idv->is_string() ? std::string(idv->get_string()) : std::string();
        if (st->settings.on_ws_message) st->settings.on_ws_message(type, job_id);

        if (type == "simulation_job") {
            auto spec = parse_job(m, "config", st->settings);
            if (!spec) return reply_error(job_id, spec.error().text());
            const job_ptr job = submit(st, *spec, weak_from_this());
            if (job->current_step > 0) {
                // A client following a job already under way (after a reconnect) learns where it is.
                json::object p;
                p["type"] = "simulation_progress";
                p["job_id"] = job->id;
                p["progress"] = job->current_step * 100 / job->steps;
                p["current_step"] = job->current_step;
                p["total_steps"] = job->steps;
                send(std::move(p));
            }
        } else if (type == "cancel_simulation") {
            const bool cancelled = cancel_job(st, job_id);
            json::object r;
            r["type"] = cancelled ? "simulation_cancelled" : "error";
            r["job_id"] = job_id;
            if (!cancelled) r["error"] = "no running job " + quoted(job_id);
            send(std::move(r));
        } else if (type == "ping") {
            json::object r;
            r["type"] = "pong";
            send(std::move(r));
        } else {
            reply_error("", "unknown message type " + quoted(type));
        }
    }

    void send(json::object message) {
        if (closed) return;
        if (queue.size() >= kMaxQueue) return close();  // a client this far behind is dropped
        queue.push_back(json::serialize(message));
        if (!writing) do_write();
    }

    void do_write() {
        if (queue.empty() || closed) {
            writing = false;
            return;
        }
        writing = true;
        ws.text(true);
        ws.async_write(asio::buffer(queue.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            self->queue.pop_front();
            self->do_write();
        });
    }

    void close() {
        if (closed) return;
        closed = true;
        beast::error_code ignored;
        beast::get_lowest_layer(ws).socket().close(ignored);
    }

    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buffer;
    std::weak_ptr<simulation_state> state;
    std::size_t max_bytes;
    std::deque<std::string> queue;
    bool writing = false;
    bool closed = false;
};

}  // namespace detail

namespace {

void notify(const job_ptr& job, json::object message) {
    if (auto conn = job->listener.lock()) conn->send(std::move(message));
}

void accept_http(const state_ptr& st) {
    std::weak_ptr<detail::simulation_state> weak = st;
    st->http_acceptor.async_accept(st->io, [weak](boost::system::error_code ec, tcp::socket s) {
        auto st = weak.lock();
        if (!st || st->stopped || ec == asio::error::operation_aborted) return;
        if (!ec) std::make_shared<http_conn>(std::move(s), st)->run();
        accept_http(st);
    });
}

void accept_ws(const state_ptr& st) {
    std::weak_ptr<detail::simulation_state> weak = st;
    st->ws_acceptor.async_accept(st->io, [weak](boost::system::error_code ec, tcp::socket s) {
        auto st = weak.lock();
        if (!st || st->stopped || ec == asio::error::operation_aborted) return;
        if (!ec) {
            auto conn = std::make_shared<detail::ws_conn>(std::move(s), st);
            std::erase_if(st->ws_sessions, [](const auto& w) { return w.expired(); });
            st->ws_sessions.push_back(conn);
            conn->run();
        }
        accept_ws(st);
    });
}

void open_acceptor(tcp::acceptor& a, const tcp::endpoint& e) {
    a.open(e.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(e);
    a.listen(asio::socket_base::max_listen_connections);
}

}  // namespace

simulation_service::simulation_service(asio::io_context& io, simulation_settings settings)
    : state_(std::make_shared<detail::simulation_state>(io, std::move(settings))) {}

simulation_service::~simulation_service() { stop(); }

void simulation_service::start() {
    auto& st = *state_;
    try {
        open_acceptor(st.http_acceptor, st.settings.http_endpoint);
        open_acceptor(st.ws_acceptor, st.settings.ws_endpoint);
    } catch (...) {
        boost::system::error_code ignored;
        st.http_acceptor.close(ignored);
        st.ws_acceptor.close(ignored);
        throw;
    }
    st.http_bound = st.http_acceptor.local_endpoint();
    st.ws_bound = st.ws_acceptor.local_endpoint();
    accept_http(state_);
    accept_ws(state_);
}

void simulation_service::stop() {
    auto& st = *state_;
    if (st.stopped) return;
    st.stopped = true;
    boost::system::error_code ignored;
    st.http_acceptor.close(ignored);
    st.ws_acceptor.close(ignored);
    for (auto& [id, job] : st.jobs) job->timer.cancel();
    for (auto& w : st.ws_sessions)
        if (auto conn = w.lock()) conn->close();
    st.ws_sessions.clear();
}

tcp::endpoint simulation_service::http_endpoint() const { return state_->http_bound; }
tcp::endpoint simulation_service::ws_endpoint() const { return state_->ws_bound; }

std::string simulation_service::job_status(const std::string& job_id) const {
    auto it = state_->jobs.find(job_id);
    return it == state_->jobs.end() ? std::string() : it->second->status;
}

std::unique_ptr<simulation_service> start_simulation_service(asio::io_context& io, simulation_settings settings) {
    auto service = std::make_unique<simulation_service>(io, std::move(settings));
    service->start();
    return service;
}

}  // namespace jobrouter
