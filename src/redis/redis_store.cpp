#include "redis/redis_store.hpp"

#include "strategies/strategy_registry.hpp"

namespace jobrouter::redis {

namespace {

// The memory scheduler's error texts (src/core/scheduler.cpp), for the same states.
error unknown_job(std::string_view id) { return make_error("job_id", "unknown job " + quoted(id)); }
error unknown_worker(std::string_view id) { return make_error("worker_id", "unknown worker " + quoted(id)); }
error not_assigned(std::string_view id, const std::string& status) {
    return make_error("job_id", "job " + quoted(id) + " is " + status + ", not assigned");
}
error already_final(std::string_view id, const std::string& status) {
    return make_error("job_id", "job " + quoted(id) + " is already " + status);
}
error duplicate_job(std::string_view id) {
    return make_error("job.id", "duplicate job id " + quoted(id) + " (a job with this id already exists)");
}

std::string json_list(std::span<const std::string> items) {
    json::array a;
    for (const auto& s : items) a.emplace_back(s);
    return json::serialize(a);
}

std::string status_of(const reply& r) { return r.is_array() && !r.elements.empty() ? r.elements[0].text() : r.text(); }
std::string detail_of(const reply& r) { return r.is_array() && r.elements.size() > 1 ? r.elements[1].text() : std::string(); }

[[noreturn]] void unexpected(const std::string& function, const reply& r) {
    throw redis_error("jobrouter function " + function + ": unexpected reply " + quoted(status_of(r)));
}

}  // namespace

redis_store::redis_store(connection c, const service_mapping& mapping, const strategy& strat, scheduler_options options)
    : conn_(std::move(c)), mapping_(mapping), strategy_(strat), options_(options) {
    call("jobrouter_configure", {std::to_string(options_.lease_ms), std::to_string(options_.retry_backoff_ms),
                                 std::to_string(options_.retry_backoff_max_ms), std::string(strategy_.name())});
    // findMatchingJob always matches under job-type; a worker that sends only worker_type gets
    // that type's job types from here.
    auto job_type = make_strategy("job-type");
    std::vector<std::string> types;
    for (const auto& [name, t] : mapping_.workers) {
        types.push_back(name);
        types.push_back(json_list((*job_type)->offered_keys(t)));
    }
    call("jobrouter_set_worker_types", std::move(types));
    // Continue the stored clock (a replay starts on an empty database, at 0).
    now_ = std::stoll(call("jobrouter_advance", {"0"}).elements.at(1).text());
}

reply redis_store::call(std::string_view function, std::vector<std::string> args) {
    std::vector<std::string> argv{"FCALL", std::string(function), "0"};
    argv.reserve(args.size() + 3);
    for (auto& a : args) argv.push_back(std::move(a));
    return conn_.command(argv);
}

result<void> redis_store::job_status_reply(const reply& r, std::string_view job_id) {
    const std::string status = status_of(r);
    if (status == "ok") return {};
    if (status == "unknown_job") return unknown_job(job_id);
    if (status == "not_assigned") return not_assigned(job_id, detail_of(r));
    if (status == "already_final") return already_final(job_id, detail_of(r));
    unexpected("for job " + quoted(job_id), r);
}

result<void> redis_store::worker_status_reply(const reply& r, std::string_view worker_id) {
    const std::string status = status_of(r);
    if (status == "ok") return {};
    if (status == "unknown_worker") return unknown_worker(worker_id);
    unexpected("for worker " + quoted(worker_id), r);
}

void redis_store::advance(time_ms t) {
    now_ = std::max(now_, t);
    call("jobrouter_advance", {std::to_string(now_)});
}

std::vector<std::string> submit_arguments(const job_spec& spec, time_ms now) {
    const double score = job_score(spec, now);
    const job_class cls = make_job_class(spec.service_required, spec.customer_id, spec.workflow_id, spec.requirements);
    std::vector<std::string> args{spec.id, std::to_string(static_cast<std::int64_t>(score)), cls.signature, spec.service_required};
    auto field = [&args](std::string name, std::string value) {
        args.push_back(std::move(name));
        args.push_back(std::move(value));
    };
    // EMP's field names (job:{id}); JSON fields hold JSON text.
    field("priority", std::to_string(spec.priority));
    if (spec.workflow_priority) field("workflow_priority", std::to_string(*spec.workflow_priority));
    if (spec.workflow_datetime) field("workflow_datetime", std::to_string(*spec.workflow_datetime));
    field("customer_id", spec.customer_id);
    field("workflow_id", spec.workflow_id);
    field("max_retries", std::to_string(spec.max_retries));
    field("requirements", json::serialize(spec.requirements));
    field("payload", json::serialize(spec.payload));
    if (!spec.extras.empty()) field("extras", json::serialize(spec.extras));
    return args;
}

result<void> redis_store::submit(const job_spec& spec) {
    std::vector<std::string> args{std::to_string(now_)};
    for (auto& a : submit_arguments(spec, now_)) args.push_back(std::move(a));
    const reply r = call("jobrouter_submit", std::move(args));
    const std::string status = status_of(r);
    if (status == "ok") return {};
    if (status == "duplicate") return duplicate_job(spec.id);
    unexpected("jobrouter_submit", r);
}

result<void> redis_store::register_worker(const worker_capabilities& caps) {
    return worker_status_reply(call("jobrouter_register", {std::to_string(now_), caps.worker_id, json::serialize(caps.raw),
                                                           json_list(caps.services), json_list(caps.job_types), caps.workflow_id,
                                                           caps.worker_type}),
                               caps.worker_id);
}

result<void> redis_store::unregister_worker(std::string_view worker_id) {
    return worker_status_reply(call("jobrouter_unregister", {std::to_string(now_), std::string(worker_id)}), worker_id);
}

result<std::optional<std::string>> redis_store::claim(std::string_view worker_id) {
    const reply r = call("jobrouter_claim", {std::to_string(now_), std::string(worker_id)});
    if (auto s = worker_status_reply(r, worker_id); !s) return s.error();
    if (r.elements.size() < 2) return std::optional<std::string>();
    return std::optional<std::string>(r.elements[1].text());
}

result<void> redis_store::complete(std::string_view job_id, const json::value& job_result) {
    return job_status_reply(call("jobrouter_complete", {std::to_string(now_), std::string(job_id), json::serialize(job_result)}),
                            job_id);
}

result<void> redis_store::fail(std::string_view job_id, bool retryable, const json::value& job_error) {
    return job_status_reply(
        call("jobrouter_fail", {std::to_string(now_), std::string(job_id), retryable ? "1" : "0", json::serialize(job_error)}),
        job_id);
}

result<void> redis_store::cancel(std::string_view job_id) {
    return job_status_reply(call("jobrouter_cancel", {std::to_string(now_), std::string(job_id)}), job_id);
}

result<void> redis_store::heartbeat(std::string_view worker_id) {
    return worker_status_reply(call("jobrouter_heartbeat", {std::to_string(now_), std::string(worker_id)}), worker_id);
}

result<void> redis_store::progress(std::string_view job_id, std::int64_t percent) {
    return job_status_reply(call("jobrouter_progress", {std::to_string(now_), std::string(job_id), std::to_string(percent)}),
                            job_id);
}

result<void> redis_store::release(std::string_view job_id) {
    return job_status_reply(call("jobrouter_release", {std::to_string(now_), std::string(job_id)}), job_id);
}

std::optional<std::string> redis_store::emp_claim(const worker_capabilities& caps, std::size_t max_scan) {
    const reply r = call("jobrouter_emp_claim", {std::to_string(now_), json::serialize(caps.raw), std::to_string(max_scan)});
    if (r.elements.size() < 2) return std::nullopt;
    return r.elements[1].text();
}

std::size_t redis_store::pending_count() {
    return static_cast<std::size_t>(conn_.command({"ZCARD", "jobs:pending"}).integer);
}

result<std::vector<explained_pending_job>> redis_store::explain_claim(std::string_view worker_id, std::size_t n) {
    const reply stored = conn_.command({"HGET", "worker:" + std::string(worker_id), "capabilities"});
    if (stored.is_nil()) return unknown_worker(worker_id);
    // The worker as registered, resolved against the same mapping as at registration.
    auto raw = parse_strict(stored.text());
    if (!raw) throw redis_error("worker:" + std::string(worker_id) + " capabilities: " + raw.error().text());
    auto caps = parse_worker(*raw, mapping_, "worker");
    if (!caps) throw redis_error("worker:" + std::string(worker_id) + " capabilities: " + caps.error().text());
    const auto keys = strategy_.offered_keys(*caps);

    const reply top = conn_.command({"FCALL_RO", "jobrouter_top_pending", "0", std::to_string(n)});
    std::vector<explained_pending_job> out;
    for (std::size_t i = 0; i + 4 < top.elements.size(); i += 5) {
        const std::string& id = top.elements[i].str;
        auto req = parse_strict(top.elements[i + 4].str.empty() ? "{}" : top.elements[i + 4].str);
        json::object requirements = req && req->is_object() ? req->get_object() : json::object();
        const job_class cls = make_job_class(top.elements[i + 1].str, top.elements[i + 2].str, top.elements[i + 3].str,
                                             std::move(requirements));
        if (auto why = find_rejection(cls, *caps, keys, true))
            out.push_back({id, std::string(why->rule), std::move(why->detail)});
    }
    return out;
}

std::int64_t key_count(connection& c) { return c.command({"DBSIZE"}).integer; }

void flush_database(connection& c) { c.command({"FLUSHDB"}); }

}  // namespace jobrouter::redis
