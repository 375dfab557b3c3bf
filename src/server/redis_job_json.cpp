#include "server/redis_job_json.hpp"

#include "core/json_util.hpp"
#include "server/job_json.hpp"

#include <charconv>
#include <optional>

namespace jobrouter {

namespace json = boost::json;

namespace {

std::optional<std::int64_t> integer(const std::map<std::string, std::string>& h, const char* field) {
    auto it = h.find(field);
    if (it == h.end() || it->second.empty()) return std::nullopt;
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc()) return std::nullopt;
    return v;
}

std::string text(const std::map<std::string, std::string>& h, const char* field) {
    auto it = h.find(field);
    return it == h.end() ? std::string() : it->second;
}

json::value text_or_null(const std::map<std::string, std::string>& h, const char* field) {
    auto it = h.find(field);
    return it == h.end() || it->second.empty() ? json::value(nullptr) : json::value(it->second);
}

json::value time_or_null(const std::map<std::string, std::string>& h, const char* field) {
    auto t = integer(h, field);
    return t ? json::value(iso_time(*t)) : json::value(nullptr);
}

// JSON text as stored (requirements, payload, result, error, extras); what does not parse is
// returned as the text itself rather than lost.
json::value stored_json(const std::map<std::string, std::string>& h, const char* field, json::value fallback) {
    auto it = h.find(field);
    if (it == h.end() || it->second.empty()) return fallback;
    auto v = parse_strict(it->second);
    return v ? std::move(*v) : json::value(it->second);
}

}  // namespace

std::map<std::string, std::string> hash_fields(const redis::reply& flat) {
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i + 1 < flat.elements.size(); i += 2) out[flat.elements[i].text()] = flat.elements[i + 1].text();
    return out;
}

json::object redis_job_to_json(const std::map<std::string, std::string>& h) {
    json::object o;
    o.reserve(24);
    const std::string status = text(h, "status");
    o["id"] = text(h, "id");
    o["status"] = status;
    o["service_required"] = text(h, "service_required");
    o["priority"] = integer(h, "priority").value_or(0);
    auto wp = integer(h, "workflow_priority");
    o["workflow_priority"] = wp ? json::value(*wp) : json::value(nullptr);
    auto wd = integer(h, "workflow_datetime");
    o["workflow_datetime"] = wd ? json::value(*wd) : json::value(nullptr);
    o["customer_id"] = text_or_null(h, "customer_id");
    o["workflow_id"] = text_or_null(h, "workflow_id");
    o["requirements"] = stored_json(h, "requirements", json::object());
    o["payload"] = stored_json(h, "payload", json::object());
    o["attempts"] = integer(h, "attempts").value_or(0);
    o["max_retries"] = integer(h, "max_retries").value_or(0);
    o["worker_id"] = text_or_null(h, "worker_id");
    o["created_at"] = time_or_null(h, "created_at");
    o["assigned_at"] = time_or_null(h, "assigned_at");
    o["started_at"] = time_or_null(h, "started_at");
    o["completed_at"] = time_or_null(h, "completed_at");
    o["failed_at"] = time_or_null(h, "failed_at");
    o["cancelled_at"] = time_or_null(h, "cancelled_at");
    o["progress"] = integer(h, "progress").value_or(0);
    if (status == "completed") o["result"] = stored_json(h, "result", nullptr);
    if (auto e = stored_json(h, "error", nullptr); !e.is_null()) o["error"] = std::move(e);
    auto extras = stored_json(h, "extras", json::object());
    if (extras.is_object())
        for (const auto& kv : extras.get_object())
            if (!o.contains(kv.key())) o[kv.key()] = kv.value();
    return o;
}

}  // namespace jobrouter
