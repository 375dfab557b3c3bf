// scheduler_event: what changed, as the scheduler reports it to the shell that drives it
// (serve turns events into WebSocket messages, metrics, log lines and push assignments).
#pragma once

#include "core/job.hpp"

#include <string>
#include <string_view>

namespace jobrouter {

enum class event_kind {
    submitted,      ///< a job was accepted (pending)
    assigned,       ///< a worker took it
    progress,       ///< its worker reported progress
    completed,
    failed,         ///< failed for good
    retried,        ///< a failed attempt with attempts left: now retrying (back-off)
    requeued,       ///< back to pending after its back-off
    cancelled,      ///< worker_id names the worker that held it, if any
    worker_joined,
    worker_left,
};

std::string_view to_string(event_kind k);

struct scheduler_event {
    event_kind kind;
    std::string job_id;     ///< "" for worker events
    std::string worker_id;  ///< the worker involved, if any
    time_ms at = 0;
};

}  // namespace jobrouter
