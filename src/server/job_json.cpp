#include "server/job_json.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace jobrouter {

std::string iso_time(time_ms t) {
    const std::time_t seconds = static_cast<std::time_t>(t / 1000);
    const int millis = static_cast<int>(t % 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return buf;
}

boost::json::value iso_time_or_null(const std::optional<time_ms>& t) {
    return t ? boost::json::value(iso_time(*t)) : boost::json::value(nullptr);
}

boost::json::object job_to_json(const job& j) {
    namespace json = boost::json;
    json::object o;
    o["id"] = j.id;
    o["status"] = to_string(j.status);
    o["service_required"] = j.service_required();
    o["priority"] = j.priority;
    o["workflow_priority"] = j.workflow_priority ? json::value(*j.workflow_priority) : json::value(nullptr);
    o["workflow_datetime"] = j.workflow_datetime ? json::value(*j.workflow_datetime) : json::value(nullptr);
    o["customer_id"] = j.cls->customer_id.empty() ? json::value(nullptr) : json::value(j.cls->customer_id);
    o["workflow_id"] = j.cls->workflow_id.empty() ? json::value(nullptr) : json::value(j.cls->workflow_id);
    o["requirements"] = j.cls->requirements;
    o["payload"] = j.payload;
    o["attempts"] = j.attempts;
    o["max_retries"] = j.max_retries;
    o["worker_id"] = j.worker_id.empty() ? json::value(nullptr) : json::value(j.worker_id);
    o["created_at"] = iso_time(j.created_at);
    o["assigned_at"] = iso_time_or_null(j.assigned_at);
    o["started_at"] = iso_time_or_null(j.started_at);
    o["completed_at"] = iso_time_or_null(j.completed_at);
    o["failed_at"] = iso_time_or_null(j.failed_at);
    o["cancelled_at"] = iso_time_or_null(j.cancelled_at);
    o["progress"] = j.progress;
    if (j.status == job_status::completed) o["result"] = j.result;
    if (!j.last_error.is_null()) o["error"] = j.last_error;
    // Unknown fields the client sent (EMP's job_type, ...) come back as they were.
    for (const auto& kv : j.extras)
        if (!o.contains(kv.key())) o[kv.key()] = kv.value();
    return o;
}

}  // namespace jobrouter
