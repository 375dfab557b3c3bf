#include "server/job_service.hpp"

#include "server/job_json.hpp"

#include <stdexcept>

namespace jobrouter {

namespace json = boost::json;

api_error bad_request(const error& e) { return api_error{400, "invalid_request", e.text()}; }
api_error not_found(std::string what) { return api_error{404, "not_found", std::move(what)}; }
api_error conflict(std::string what) { return api_error{409, "conflict", std::move(what)}; }

void throw_exception_from_error(const api_error& e, const boost::source_location&) {
    throw std::runtime_error(e.code + ": " + e.message);
}

json::object event_json(const dispatcher_event& e) {
    json::object o;
    o["event"] = to_string(e.event.kind);
    if (!e.event.job_id.empty()) o["job_id"] = e.event.job_id;
    if (!e.service_required.empty()) o["service_required"] = e.service_required;
    if (!e.event.worker_id.empty()) o["worker_id"] = e.event.worker_id;
    if (e.event.kind == event_kind::progress) o["progress"] = e.progress;
    if (!e.message.empty()) o["message"] = e.message;
    o["at"] = iso_time(e.event.at);
    return o;
}

job_service::~job_service() = default;

std::size_t job_service::subscribe(subscriber_fn f) {
    const std::size_t id = next_subscriber_++;
    subscribers_.emplace(id, std::move(f));
    return id;
}

void job_service::unsubscribe(std::size_t id) {
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) return;
    // A subscriber may unsubscribe (or be destroyed) while being notified: erase later.
    if (notifying_) {
        it->second = nullptr;
        return;
    }
    subscribers_.erase(it);
}

void job_service::notify(const dispatcher_event& e) {
    notifying_ = true;
    for (auto& [id, f] : subscribers_)
        if (f) f(e);
    notifying_ = false;
    std::erase_if(subscribers_, [](const auto& entry) { return !entry.second; });
}

void job_service::count(event_kind kind) {
    switch (kind) {
    case event_kind::submitted: ++totals_.submitted; break;
    case event_kind::assigned: ++totals_.claims; break;
    case event_kind::completed: ++totals_.completed; break;
    case event_kind::failed: ++totals_.failed; break;
    case event_kind::retried: ++totals_.retried; break;
    case event_kind::cancelled: ++totals_.cancelled; break;
    default: break;
    }
}

}  // namespace jobrouter
