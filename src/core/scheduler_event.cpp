#include "core/scheduler_event.hpp"

namespace jobrouter {

std::string_view to_string(event_kind k) {
    switch (k) {
    case event_kind::submitted: return "submitted";
    case event_kind::assigned: return "assigned";
    case event_kind::progress: return "progress";
    case event_kind::completed: return "completed";
    case event_kind::failed: return "failed";
    case event_kind::retried: return "retried";
    case event_kind::requeued: return "requeued";
    case event_kind::cancelled: return "cancelled";
    case event_kind::worker_joined: return "worker_joined";
    case event_kind::worker_left: return "worker_left";
    }
    return "unknown";
}

}  // namespace jobrouter
