#include "bench/http_load.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <charconv>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace jobrouter::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* kService = "bench-http";
constexpr std::size_t kMaxReplyBytes = 1 << 20;

using response = http::response<http::string_body>;

// One keep-alive connection and the request/reply it is exchanging.
struct connection {
    std::string name;  ///< "submitter 2", "worker bench-http-w3": for error messages
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    std::optional<http::response_parser<http::string_body>> parser;

    connection(asio::io_context& io, std::string n) : name(std::move(n)), stream(io) {}
};

struct worker {
    std::string id;
    std::string claim_target;
    connection conn;

    worker(asio::io_context& io, std::string worker_id, std::chrono::milliseconds wait)
        : id(std::move(worker_id)),
          claim_target("/api/workers/" + id + "/claim?wait_ms=" + std::to_string(wait.count())),
          conn(io, "worker " + id) {}
};

std::string snippet(const std::string& body) { return body.size() > 300 ? body.substr(0, 300) + "..." : body; }

}  // namespace

struct http_load::impl {
    http_load_options opt;
    asio::io_context io{1};
    std::vector<std::unique_ptr<connection>> submitters;
    std::vector<std::unique_ptr<worker>> workers;
    std::string host;
    std::string body_prefix, body_suffix;  ///< a submit body is prefix + k + suffix

    // The run in progress: jobs [run_begin, run_end).
    std::uint64_t next_job = 0, run_begin = 0, run_end = 0;
    std::size_t acked = 0, assigned = 0, completed = 0;
    std::vector<bench_clock::time_point> sent_at;  ///< by k - run_begin
    std::vector<connection*> paused;               ///< submitters waiting for the window
    bench_clock::time_point started, last_ack, last_complete;
    http_run_stats stats;
    std::string failure;  ///< the first error; ends the run
    bool stopping = false;

    explicit impl(const http_load_options& o) : opt(o) {
        host = opt.server.address().to_string() + ":" + std::to_string(opt.server.port());
        body_prefix = R"({"id":"h)";
        body_suffix = std::string(R"(","service_required":")") + kService + R"(","payload":{"data":")" +
                      std::string(opt.payload_bytes, 'x') + R"("}})";
    }

    void fail(const std::string& what) {
        if (failure.empty() && !stopping) failure = what;
    }

    void prepare(connection& c, const std::string& target, std::string body) {
        c.req = {};
        c.req.method(http::verb::post);
        c.req.target(target);
        c.req.version(11);
        c.req.set(http::field::host, host);
        c.req.set(http::field::content_type, "application/json");
        c.req.keep_alive(true);
        c.req.body() = std::move(body);
        c.req.prepare_payload();
    }

    // Writes c.req, reads the reply within `read_timeout`, and calls on_reply(reply).
    template <class F>
    void exchange(connection& c, std::chrono::milliseconds read_timeout, F on_reply) {
        c.stream.expires_after(opt.io_timeout);
        http::async_write(c.stream, c.req, [this, &c, read_timeout, f = std::move(on_reply)](beast::error_code ec, std::size_t) mutable {
            if (ec) return fail(c.name + ": " + std::string(c.req.target()) + ": cannot send: " + ec.message());
            c.parser.emplace();
            c.parser->body_limit(kMaxReplyBytes);
            c.stream.expires_after(read_timeout);
            http::async_read(c.stream, c.buffer, *c.parser, [this, &c, f = std::move(f)](beast::error_code ec, std::size_t) mutable {
                if (ec) return fail(c.name + ": " + std::string(c.req.target()) + ": no reply: " + ec.message());
                f(c.parser->get());
            });
        });
    }

    void unexpected(connection& c, const response& res) {
        fail(c.name + ": POST " + std::string(c.req.target()) + " -> " + std::to_string(res.result_int()) + " " +
             snippet(res.body()));
    }

    // ---- submitters ---------------------------------------------------------------------------

    void submit_next(connection& c) {
        if (!failure.empty() || next_job == run_end) return;
        if (next_job - run_begin - assigned >= opt.window) {
            ++stats.window_waits;
            paused.push_back(&c);
            return;
        }
        const std::uint64_t k = next_job++;
        prepare(c, "/api/jobs", body_prefix + std::to_string(k) + body_suffix);
        const auto sent = bench_clock::now();
        sent_at[k - run_begin] = sent;
        exchange(c, opt.io_timeout, [this, &c, sent](const response& res) {
            if (res.result_int() != 201) return unexpected(c, res);
            last_ack = bench_clock::now();
            stats.submit_rtt.add(last_ack - sent);
            ++acked;
            submit_next(c);
        });
    }

    void resume_paused() {
        while (!paused.empty() && next_job - run_begin - assigned < opt.window) {
            connection* c = paused.back();
            paused.pop_back();
            submit_next(*c);
        }
    }

    // ---- workers ------------------------------------------------------------------------------

    void claim(worker& w) {
        if (!failure.empty() || stopping) return;
        prepare(w.conn, w.claim_target, "{}");
        exchange(w.conn, opt.wait + opt.io_timeout, [this, &w](const response& res) {
            if (res.result_int() == 204) {
                ++stats.empty_claims;
                return claim(w);
            }
            if (res.result_int() != 200) return unexpected(w.conn, res);
            const auto arrived = bench_clock::now();
            std::string job_id, token;
            if (!read_assignment(res.body(), job_id, token))
                return fail(w.conn.name + ": claim reply without job.id and lease_token: " + snippet(res.body()));
            std::uint64_t k = 0;
            const char* first = job_id.data() + 1;
            const char* last = job_id.data() + job_id.size();
            if (job_id.size() < 2 || job_id[0] != 'h' || std::from_chars(first, last, k).ptr != last || k < run_begin ||
                k >= next_job)
                return fail(w.conn.name + ": claim returned job " + job_id + ", which this run did not submit");
            stats.submit_to_assign.add(arrived - sent_at[k - run_begin]);
            ++assigned;
            resume_paused();
            complete(w, job_id, token);
        });
    }

    static bool read_assignment(const std::string& body, std::string& job_id, std::string& token) {
        boost::system::error_code ec;
        json::value v = json::parse(body, ec);
        if (ec || !v.is_object()) return false;
        const json::value* job = v.get_object().if_contains("job");
        const json::value* lease = v.get_object().if_contains("lease_token");
        const json::value* id = job && job->is_object() ? job->get_object().if_contains("id") : nullptr;
        if (!id || !id->is_string() || !lease || !lease->is_string()) return false;
        job_id = std::string(id->get_string());
        token = std::string(lease->get_string());
        return true;
    }

    void complete(worker& w, const std::string& job_id, const std::string& token) {
        prepare(w.conn, "/api/jobs/" + job_id + "/complete", R"({"lease_token":")" + token + R"("})");
        exchange(w.conn, opt.io_timeout, [this, &w](const response& res) {
            if (res.result_int() != 200) return unexpected(w.conn, res);
            last_complete = bench_clock::now();
            ++completed;
            claim(w);
        });
    }

    // ---- set-up and runs ----------------------------------------------------------------------

    // Runs the io_context until `done()` holds; throws on failure or when `deadline` passes.
    template <class Done>
    void run_until(Done done, bench_clock::time_point deadline, const std::string& what) {
        while (failure.empty() && !done()) {
            if (bench_clock::now() >= deadline) throw std::runtime_error("http: " + what + ": deadline passed" + progress());
            io.run_one_until(deadline);
        }
        if (!failure.empty()) throw std::runtime_error("http: " + failure + progress());
    }

    std::string progress() const {
        return " (submitted " + std::to_string(next_job - run_begin) + ", acknowledged " + std::to_string(acked) +
               ", assigned " + std::to_string(assigned) + ", completed " + std::to_string(completed) + " of " +
               std::to_string(run_end - run_begin) + ")";
    }

    void connect_all(const std::vector<connection*>& conns) {
        std::size_t connected = 0;
        for (connection* c : conns) {
            c->stream.expires_after(opt.io_timeout);
            c->stream.async_connect(opt.server, [this, c, &connected](beast::error_code ec) {
                if (ec) return fail(c->name + ": cannot connect to " + host + ": " + ec.message());
                c->stream.socket().set_option(tcp::no_delay(true), ec);
                ++connected;
            });
        }
        run_until([&] { return connected == conns.size(); }, bench_clock::now() + opt.io_timeout, "connecting");
    }

    void register_workers() {
        // One after another on the first worker's connection: registration is not measured.
        std::size_t registered = 0;
        connection& c = workers.front()->conn;
        std::function<void()> next = [&] {
            if (registered == workers.size()) return;
            const std::string& id = workers[registered]->id;
            prepare(c, "/api/workers",
                    R"({"worker_id":")" + id + R"(","services":[")" + kService + R"("],"job_service_required_map":[")" +
                        kService + R"("]})");
            exchange(c, opt.io_timeout, [this, &c, &registered, &next](const response& res) {
                if (res.result_int() != 201) return unexpected(c, res);
                ++registered;
                next();
            });
        };
        next();
        run_until([&] { return registered == workers.size(); },
                  bench_clock::now() + opt.io_timeout * static_cast<long>(1 + workers.size() / 100), "registering workers");
    }

    void close_all() {
        stopping = true;
        beast::error_code ignored;
        for (auto& c : submitters) c->stream.socket().close(ignored);
        for (auto& w : workers) w->conn.stream.socket().close(ignored);
        // Lets the aborted operations finish (their handlers see `stopping` and return).
        io.restart();
        io.run_for(std::chrono::seconds(2));
    }
};

http_load::http_load(const http_load_options& options) : impl_(std::make_unique<impl>(options)) {
    impl& m = *impl_;
    if (options.submitters == 0 || options.workers == 0) throw std::invalid_argument("http: --http-clients and --http-workers must be at least 1");
    std::vector<connection*> conns;
    for (std::size_t i = 0; i < options.submitters; ++i) {
        m.submitters.push_back(std::make_unique<connection>(m.io, "submitter " + std::to_string(i)));
        conns.push_back(m.submitters.back().get());
    }
    for (std::size_t i = 0; i < options.workers; ++i) {
        m.workers.push_back(std::make_unique<worker>(m.io, "bench-http-w" + std::to_string(i), options.wait));
        conns.push_back(&m.workers.back()->conn);
    }
    try {
        m.connect_all(conns);
        m.register_workers();
    } catch (...) {
        m.close_all();
        throw;
    }
    for (auto& w : m.workers) m.claim(*w);
}

http_load::~http_load() { impl_->close_all(); }

http_run_stats http_load::run(std::size_t jobs, std::chrono::milliseconds deadline) {
    impl& m = *impl_;
    m.stats = {};
    m.stats.jobs = jobs;
    m.run_begin = m.next_job;
    m.run_end = m.next_job + jobs;
    m.acked = m.assigned = m.completed = 0;
    m.paused.clear();
    m.sent_at.assign(jobs, {});
    m.started = bench_clock::now();
    for (auto& c : m.submitters) m.submit_next(*c);
    m.run_until([&] { return m.completed == jobs && m.acked == jobs; }, m.started + deadline, "run");
    m.stats.submit_seconds = std::chrono::duration<double>(m.last_ack - m.started).count();
    m.stats.total_seconds = std::chrono::duration<double>(m.last_complete - m.started).count();
    return std::move(m.stats);
}

}  // namespace jobrouter::bench
