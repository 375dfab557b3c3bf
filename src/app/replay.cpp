#include "app/replay.hpp"

#include <istream>
#include <ostream>
#include <string>

namespace jobrouter {

namespace {

constexpr std::int64_t kMaxEventTime = std::int64_t{1} << 53;
constexpr std::size_t kExplainedJobs = 10;  // trace-format.md --explain: the first 10 pending jobs

result<std::string> required_string(const json::object& event, std::string_view key) {
    const json::value* v = event.if_contains(key);
    if (!v) return make_error(std::string(key), "is required");
    if (!v->is_string() || v->get_string().empty())
        return make_error(std::string(key), "must be a non-empty string, got " + describe(*v));
    return std::string(v->get_string());
}

json::value optional_value(const json::object& event, std::string_view key) {
    const json::value* v = event.if_contains(key);
    return v ? *v : json::value(nullptr);
}

// Applies one event (whose time has been taken) to the store; writes its answer, if any.
class event_runner {
public:
    event_runner(replay_store& s, const service_mapping& m, const replay_options& o, std::ostream& out)
        : store_(s), mapping_(m), options_(o), out_(out) {}

    result<void> apply(const json::object& event) {
        const json::value* op = event.if_contains("op");
        if (!op) return make_error("op", "is required");
        if (!op->is_string()) return make_error("op", "must be a string, got " + describe(*op));
        const std::string_view name = op->get_string();
        if (name == "register") return on_register(event);
        if (name == "unregister") return with_string(event, "worker_id", [&](auto& id) { return store_.unregister_worker(id); });
        if (name == "submit") return on_submit(event);
        if (name == "claim") return on_claim(event);
        if (name == "complete") return with_string(event, "job_id", [&](auto& id) { return store_.complete(id, optional_value(event, "result")); });
        if (name == "fail") return on_fail(event);
        if (name == "cancel") return with_string(event, "job_id", [&](auto& id) { return store_.cancel(id); });
        if (name == "heartbeat") return with_string(event, "worker_id", [&](auto& id) { return store_.heartbeat(id); });
        if (name == "advance") return {};
        return make_error("op", "unknown op " + quoted(name) +
                                    " (known: register, unregister, submit, claim, complete, fail, cancel, heartbeat, advance)");
    }

private:
    template <class F>
    result<void> with_string(const json::object& event, std::string_view key, F&& f) {
        auto id = required_string(event, key);
        if (!id) return id.error();
        return f(*id);
    }

    result<void> on_register(const json::object& event) {
        const json::value* w = event.if_contains("worker");
        if (!w) return make_error("worker", "is required");
        auto caps = parse_worker(*w, mapping_, "worker");
        if (!caps) return caps.error();
        return store_.register_worker(std::move(*caps));
    }

    result<void> on_submit(const json::object& event) {
        const json::value* j = event.if_contains("job");
        if (!j) return make_error("job", "is required");
        auto spec = parse_job_spec(*j, "job");
        if (!spec) return spec.error();
        return store_.submit(std::move(*spec));
    }

    result<void> on_fail(const json::object& event) {
        bool retryable = true;
        if (const json::value* r = event.if_contains("retryable")) {
            if (!r->is_bool()) return make_error("retryable", "must be a boolean, got " + describe(*r));
            retryable = r->get_bool();
        }
        return with_string(event, "job_id", [&](auto& id) { return store_.fail(id, retryable, optional_value(event, "error")); });
    }

    result<void> on_claim(const json::object& event) {
        auto worker_id = required_string(event, "worker_id");
        if (!worker_id) return worker_id.error();
        auto claimed = store_.claim(*worker_id);
        if (!claimed) return claimed.error();
        json::object line;
        line["op"] = "claim";
        line["worker_id"] = *worker_id;
        line["job_id"] = *claimed ? json::value(**claimed) : json::value(nullptr);
        if (!*claimed && options_.explain) {
            json::array why;
            for (const claim_rejection& e : store_.explain_claim(*worker_id, kExplainedJobs).value()) {
                json::object entry;
                entry["job_id"] = e.job_id;
                entry["rule"] = e.rule;
                entry["detail"] = e.detail;
                why.push_back(std::move(entry));
            }
            line["why"] = std::move(why);
        }
        out_ << json::serialize(line) << '\n';
        return {};
    }

    replay_store& store_;
    const service_mapping& mapping_;
    const replay_options& options_;
    std::ostream& out_;
};

void write_error(std::ostream& out, std::size_t line_number, const error& e) {
    json::object line;
    line["op"] = "error";
    line["line"] = line_number;
    line["error"] = e.text();
    out << json::serialize(line) << '\n';
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos; }

}  // namespace

void run_replay(std::istream& in, std::ostream& out, const service_mapping& mapping, const strategy& strat,
                const replay_options& options) {
    auto store = make_memory_replay_store(mapping, strat, options.scheduling);
    run_replay(in, out, *store, mapping, options);
}

void run_replay(std::istream& in, std::ostream& out, replay_store& store, const service_mapping& mapping,
                const replay_options& options) {
    event_runner runner(store, mapping, options, out);
    std::string text;
    for (std::size_t line_number = 1; std::getline(in, text); ++line_number) {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        if (blank(text)) continue;
        auto parsed = parse_strict(text);
        if (!parsed) {
            write_error(out, line_number, make_error("event", parsed.error().message));
            continue;
        }
        if (!parsed->is_object()) {
            write_error(out, line_number, make_error("event", "must be a JSON object, got " + describe(*parsed)));
            continue;
        }
        const json::object& event = parsed->get_object();
        // The time is checked before anything else: a bad t changes nothing, not even the clock.
        if (const json::value* t = event.if_contains("t")) {
            auto ms = as_integer(*t);
            if (!ms || *ms < 0 || *ms > kMaxEventTime) {
                write_error(out, line_number, make_error("t", "must be an integer in 0..2^53, got " + describe(*t)));
                continue;
            }
            store.advance(*ms);
        }
        if (auto applied = runner.apply(event); !applied) write_error(out, line_number, applied.error());
    }
    out.flush();
}

}  // namespace jobrouter
