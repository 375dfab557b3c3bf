#include "server/job_json.hpp"

#include <chrono>
#include <cstdio>
#include <cstdint>
#include <ctime>

namespace jobrouter {

namespace {

// Two decimal digits of v (0..99) at p.
void put2(char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
}

std::string iso_time_slow(time_ms t) {
    const std::time_t seconds = static_cast<std::time_t>(t / 1000);
    const int millis = static_cast<int>(t % 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return buf;
}

}  // namespace

// Every assignment and job reply formats a few of these: civil_from_days (H. Hinnant's
// algorithm) and fixed digit positions instead of gmtime_r + snprintf, which were a few percent
// of serve's time per job (bench http). Times before 1970 or after 9999 take the old path.
std::string iso_time(time_ms t) {
    if (t < 0) return iso_time_slow(t);
    const std::int64_t millis = t % 1000;
    const std::int64_t secs = t / 1000;
    const std::int64_t sod = secs % 86400;
    const std::int64_t days = secs / 86400 + 719468;  // days since 0000-03-01
    const std::int64_t era = days / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned day = doy - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
    if (year > 9999) return iso_time_slow(t);
    std::string out = "0000-00-00T00:00:00.000Z";
    char* p = out.data();
    put2(p, static_cast<unsigned>(year / 100));
    put2(p + 2, static_cast<unsigned>(year % 100));
    put2(p + 5, month);
    put2(p + 8, day);
    put2(p + 11, static_cast<unsigned>(sod / 3600));
    put2(p + 14, static_cast<unsigned>(sod / 60 % 60));
    put2(p + 17, static_cast<unsigned>(sod % 60));
    p[20] = static_cast<char>('0' + millis / 100);
    put2(p + 21, static_cast<unsigned>(millis % 100));
    return out;
}

boost::json::value iso_time_or_null(const std::optional<time_ms>& t) {
    return t ? boost::json::value(iso_time(*t)) : boost::json::value(nullptr);
}

boost::json::object job_to_json(const job& j) {
    namespace json = boost::json;
    json::object o;
    o.reserve(24 + j.extras.size());  // one allocation instead of a rehash every few fields
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
