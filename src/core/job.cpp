#include "core/job.hpp"

#include <algorithm>

namespace jobrouter {

namespace {

constexpr std::int64_t kScoreShift = std::int64_t{1} << 42;
constexpr std::int64_t kEpoch2020Ms = 1577836800000;

// An integer field must be a JSON integer literal (Boost.JSON keeps 1.0 and 1e2 as doubles).
result<std::int64_t> integer_field(const json::value& v, const std::string& path, std::int64_t lo, std::int64_t hi) {
    auto n = as_integer(v);
    if (!n || *n < lo || *n > hi) {
        const std::string got = n ? std::to_string(*n) : describe(v);
        return make_error(path, "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + got);
    }
    return *n;
}

result<std::string> string_field(const json::value& v, const std::string& path, bool non_empty) {
    if (!v.is_string()) return make_error(path, std::string("must be a ") + (non_empty ? "non-empty " : "") + "string, got " + describe(v));
    if (non_empty && v.get_string().empty()) return make_error(path, "must be a non-empty string");
    return std::string(v.get_string());
}

}  // namespace

result<job_spec> parse_job_spec(const json::value& v, const std::string& path) {
    if (!v.is_object()) return make_error(path, "must be an object, got " + describe(v));
    const json::object& o = v.get_object();
    job_spec spec;
    auto field = [&](std::string_view name) { return path + "." + std::string(name); };

    const json::value* id = o.if_contains("id");
    if (!id) return make_error(field("id"), "is required");
    auto id_r = string_field(*id, field("id"), true);
    if (!id_r) return id_r.error();
    spec.id = std::move(*id_r);

    // D7: service_required is required; no fallback from job_type or type.
    const json::value* sr = o.if_contains("service_required");
    if (!sr) return make_error(field("service_required"), "is required (there is no fallback from job_type)");
    auto sr_r = string_field(*sr, field("service_required"), true);
    if (!sr_r) return sr_r.error();
    spec.service_required = std::move(*sr_r);

    for (const auto& kv : o) {
        std::string_view key = kv.key();
        const json::value& value = kv.value();
        if (key == "id" || key == "service_required") continue;
        if (key == "priority") {
            auto r = integer_field(value, field(key), 0, kMaxPriority);
            if (!r) return r.error();
            spec.priority = *r;
        } else if (key == "workflow_priority") {
            auto r = integer_field(value, field(key), 0, kMaxPriority);
            if (!r) return r.error();
            spec.workflow_priority = *r;
        } else if (key == "workflow_datetime") {
            auto r = integer_field(value, field(key), INT64_MIN, INT64_MAX);
            if (!r) return r.error();
            spec.workflow_datetime = *r;
        } else if (key == "max_retries") {
            auto r = integer_field(value, field(key), 1, 2147483647);
            if (!r) return r.error();
            spec.max_retries = *r;
        } else if (key == "customer_id") {
            auto r = string_field(value, field(key), false);
            if (!r) return r.error();
            spec.customer_id = std::move(*r);
        } else if (key == "workflow_id") {
            auto r = string_field(value, field(key), false);
            if (!r) return r.error();
            spec.workflow_id = std::move(*r);
        } else if (key == "requirements") {
            if (auto r = validate_requirements(value, field(key)); !r) return r.error();
            spec.requirements = value.get_object();
        } else if (key == "payload") {
            spec.payload = value;
        } else {
            spec.extras.emplace(key, value);
        }
    }
    return spec;
}

double job_score(const job_spec& spec, time_ms submitted_at) {
    const std::int64_t p = spec.workflow_priority.value_or(spec.priority);
    const std::int64_t when = spec.workflow_datetime.value_or(submitted_at);
    // Clamp before subtracting so that extreme datetimes cannot overflow.
    const std::int64_t offset =
        when <= kEpoch2020Ms ? 0 : std::min<std::int64_t>(when - kEpoch2020Ms, kScoreShift - 1);
    return static_cast<double>(p * kScoreShift + (kScoreShift - 1 - offset));
}

std::string_view to_string(job_status s) {
    switch (s) {
    case job_status::pending: return "pending";
    case job_status::assigned: return "assigned";
    case job_status::in_progress: return "in_progress";
    case job_status::retrying: return "retrying";
    case job_status::completed: return "completed";
    case job_status::failed: return "failed";
    case job_status::cancelled: return "cancelled";
    }
    return "unknown";
}

}  // namespace jobrouter
