#include "connectors/mock_connector.hpp"

#include "connectors/outcome.hpp"

#include "core/json_util.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/assert.hpp>

#include <charconv>
#include <chrono>
#include <optional>
#include <string>

namespace jobrouter {

namespace asio = boost::asio;

namespace detail {

// The state of one run, shared by the connector and its queued handlers: a handler that runs
// after cancel() (its timer had already fired) or after the connector is gone must still find
// `done` to know it may not call back.
struct mock_run {
    explicit mock_run(asio::io_context& io) : timer(io) {}

    asio::steady_timer timer;
    connector_callbacks callbacks;
    bool started = false;
    bool done = false;  ///< finished or cancelled: no callback may follow
};

}  // namespace detail

namespace {

using run_ptr = std::shared_ptr<detail::mock_run>;

struct mock_settings {
    std::int64_t delay_ms = mock_connector::kDefaultDelayMs;
    bool should_fail = false;
};

std::string delay_rule() {
    return "must be a non-negative integer of milliseconds (at most " + std::to_string(mock_connector::kMaxDelayMs) +
           ")";
}

// The service default may be a string: ${MOCK_DELAY_MS:-100} always substitutes to one.
result<std::int64_t> config_delay(const json::value& v, const std::string& path) {
    std::optional<std::int64_t> n = as_integer(v);
    if (!n && v.is_string()) {
        const std::string_view s = v.get_string();
        std::int64_t parsed = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
        if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) n = parsed;
    }
    if (!n || *n < 0 || *n > mock_connector::kMaxDelayMs) return make_error(path, delay_rule() + ", got " + describe(v));
    return *n;
}

result<mock_settings> read_settings(const connector_job& job) {
    mock_settings s;
    const json::object* payload = job.payload.if_object();
    if (const json::value* d = payload ? payload->if_contains("delay_ms") : nullptr) {
        const auto n = as_integer(*d);
        if (!n || *n < 0 || *n > mock_connector::kMaxDelayMs)
            return make_error("payload.delay_ms", delay_rule() + ", got " + describe(*d));
        s.delay_ms = *n;
    } else if (const json::value* api = job.service_config.if_contains("api_config"); api && api->is_object()) {
        if (const json::value* d = api->get_object().if_contains("delay_ms")) {
            auto n = config_delay(*d, "services." + job.service + ".api_config.delay_ms");
            if (!n) return n.error();
            s.delay_ms = *n;
        }
    }
    if (const json::value* f = payload ? payload->if_contains("should_fail") : nullptr) {
        if (!f->is_bool()) return make_error("payload.should_fail", "must be a boolean, got " + describe(*f));
        s.should_fail = f->get_bool();
    }
    return s;
}

void report_progress(const run_ptr& run, std::int64_t percent, std::string message) {
    deliver_progress(*run, percent, std::move(message));
}
void report_complete(const run_ptr& run, json::value result) { deliver_complete(*run, std::move(result)); }
void report_fail(const run_ptr& run, json::value error, bool retryable) { deliver_fail(*run, std::move(error), retryable); }

json::object message_error(std::string message) {
    json::object o;
    o["message"] = std::move(message);
    return o;
}

}  // namespace

mock_connector::mock_connector(asio::io_context& io) : run_(std::make_shared<detail::mock_run>(io)) {}

mock_connector::~mock_connector() { cancel(); }

void mock_connector::start(connector_job job, connector_callbacks callbacks) {
    BOOST_ASSERT_MSG(!run_->started, "a connector runs one job");
    run_->started = true;
    run_->callbacks = std::move(callbacks);
    auto settings = read_settings(job);
    if (!settings) {
        // The input cannot change between attempts, so retrying would only fail again.
        asio::post(run_->timer.get_executor(),
                   [run = run_, e = settings.error()] { report_fail(run, message_error(e.text()), false); });
        return;
    }
    json::object result;
    result["mock"] = true;
    result["job_id"] = job.job_id;
    result["payload"] = std::move(job.payload);
    result["delay_ms"] = settings->delay_ms;

    // Two timers rather than one, so "80" arrives while the job is still running, as EMP's does.
    const std::int64_t first = settings->delay_ms * 8 / 10;
    const std::int64_t second = settings->delay_ms - first;
    const bool should_fail = settings->should_fail;
    asio::post(run_->timer.get_executor(), [run = run_, first, second, should_fail, result = std::move(result)]() mutable {
        report_progress(run, 10, "mock: started");
        if (run->done) return;
        run->timer.expires_after(std::chrono::milliseconds(first));
        run->timer.async_wait([run, second, should_fail, result = std::move(result)](boost::system::error_code ec) mutable {
            if (ec || run->done) return;
            report_progress(run, 80, "mock: almost done");
            if (run->done) return;
            run->timer.expires_after(std::chrono::milliseconds(second));
            run->timer.async_wait([run, should_fail, result = std::move(result)](boost::system::error_code ec) mutable {
                if (ec || run->done) return;
                if (should_fail) {
                    report_fail(run, message_error("mock failure (payload.should_fail)"), true);
                    return;
                }
                report_progress(run, 100, "mock: done");
                report_complete(run, std::move(result));
            });
        });
    });
}

void mock_connector::cancel() {
    run_->done = true;
    run_->timer.cancel();
    // Drop the callbacks now: they may hold the caller's state, which need not outlive us.
    run_->callbacks = {};
}

}  // namespace jobrouter
