#include "connectors/local_simulation_connector.hpp"

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
struct simulation_run {
    explicit simulation_run(asio::io_context& io) : timer(io) {}

    asio::steady_timer timer;
    connector_callbacks callbacks;
    std::int64_t steps = 0;
    std::int64_t duration_ms = 0;
    bool started = false;
    bool done = false;  ///< finished or cancelled: no callback may follow
};

}  // namespace detail

namespace {

using run_ptr = std::shared_ptr<detail::simulation_run>;

std::string range_rule(std::int64_t min, std::int64_t max) {
    return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

// A payload value must be a JSON integer: the client wrote it, so a string is a mistake.
result<std::optional<std::int64_t>> payload_int(const json::object* payload, std::string_view key, std::int64_t min,
                                                std::int64_t max) {
    const json::value* v = payload ? payload->if_contains(key) : nullptr;
    if (!v) return std::optional<std::int64_t>();
    const auto n = as_integer(*v);
    if (!n || *n < min || *n > max)
        return make_error("payload." + std::string(key), range_rule(min, max) + ", got " + describe(*v));
    return std::optional<std::int64_t>(*n);
}

// A service value may be a string of digits: ${VAR} substitution always leaves strings.
result<std::optional<std::int64_t>> config_int(const json::object* config, std::string_view key,
                                               const std::string& path, std::int64_t min, std::int64_t max) {
    const json::value* v = config ? config->if_contains(key) : nullptr;
    if (!v) return std::optional<std::int64_t>();
    std::optional<std::int64_t> n = as_integer(*v);
    if (!n && v->is_string()) {
        const std::string_view s = v->get_string();
        std::int64_t parsed = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
        if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) n = parsed;
    }
    if (!n || *n < min || *n > max) return make_error(path, range_rule(min, max) + ", got " + describe(*v));
    return n;
}

result<void> read_settings(const connector_job& job, detail::simulation_run& run) {
    using self = local_simulation_connector;
    const json::object* payload = job.payload.if_object();
    const json::value* sim = job.service_config.if_contains("simulation_config");
    const json::object* config = sim ? sim->if_object() : nullptr;
    const std::string config_path = "services." + job.service + ".simulation_config.";

    auto steps = payload_int(payload, "steps", 1, self::kMaxSteps);
    if (!steps) return steps.error();
    if (!*steps) {
        steps = config_int(config, "steps", config_path + "steps", 1, self::kMaxSteps);
        if (!steps) return steps.error();
    }
    auto duration = payload_int(payload, "duration_ms", 0, self::kMaxDurationMs);
    if (!duration) return duration.error();
    if (!*duration) {
        duration = config_int(config, "processing_time_ms", config_path + "processing_time_ms", 0, self::kMaxDurationMs);
        if (!duration) return duration.error();
    }
    run.steps = steps->value_or(self::kDefaultSteps);
    run.duration_ms = duration->value_or(self::kDefaultDurationMs);
    return {};
}

void report_fail(const run_ptr& run, json::value error, bool retryable) {
    if (run->done) return;
    run->done = true;
    // Moved out first: the callback may destroy the connector, and with it nothing we still use.
    auto done = std::move(run->callbacks.on_fail);
    if (done) done(std::move(error), retryable);
}

// Step `step` (1-based) ends at duration * step / steps from the start, so the steps add up
// to exactly duration_ms whatever the rounding.
void run_step(const run_ptr& run, std::int64_t step) {
    const auto end_of = [&](std::int64_t k) { return run->duration_ms * k / run->steps; };
    run->timer.expires_after(std::chrono::milliseconds(end_of(step) - end_of(step - 1)));
    run->timer.async_wait([run, step](boost::system::error_code ec) {
        if (ec || run->done) return;
        if (run->callbacks.on_progress) {
            // A copy: the callback may cancel, and cancel() drops the stored one while it runs.
            auto progress = run->callbacks.on_progress;
            progress(step * 100 / run->steps, "step " + std::to_string(step) + " of " + std::to_string(run->steps));
            if (run->done) return;
        }
        if (step < run->steps) {
            run_step(run, step + 1);
            return;
        }
        run->done = true;
        json::object result;
        result["simulated"] = true;
        result["steps"] = run->steps;
        result["duration_ms"] = run->duration_ms;
        auto done = std::move(run->callbacks.on_complete);
        if (done) done(std::move(result));
    });
}

}  // namespace

local_simulation_connector::local_simulation_connector(asio::io_context& io, std::string name)
    : name_(std::move(name)), run_(std::make_shared<detail::simulation_run>(io)) {}

local_simulation_connector::~local_simulation_connector() { cancel(); }

void local_simulation_connector::start(connector_job job, connector_callbacks callbacks) {
    BOOST_ASSERT_MSG(!run_->started, "a connector runs one job");
    run_->started = true;
    run_->callbacks = std::move(callbacks);
    if (auto ok = read_settings(job, *run_); !ok) {
        // The input cannot change between attempts, so retrying would only fail again.
        json::object error;
        error["message"] = ok.error().text();
        asio::post(run_->timer.get_executor(),
                   [run = run_, error = std::move(error)]() mutable { report_fail(run, std::move(error), false); });
        return;
    }
    // Posted, like every callback: start() returns before anything is reported.
    asio::post(run_->timer.get_executor(), [run = run_] {
        if (!run->done) run_step(run, 1);
    });
}

void local_simulation_connector::cancel() {
    run_->done = true;
    run_->timer.cancel();
    // Drop the callbacks now: they may hold the caller's state, which need not outlive us.
    run_->callbacks = {};
}

}  // namespace jobrouter
