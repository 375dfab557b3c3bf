// worker: a worker's capabilities (trace-format.md "Capabilities object"), validated, and the
// scheduler's record of a registered worker.
//
// `raw` is the capabilities object exactly as registered: custom requirement keys
// (matching.md R3e) are dotted paths into it. `services` and `job_types` are resolved once
// at registration, filling each from the mapping's worker type only when it is absent, so a
// strategy just picks one of the two lists.
#pragma once

#include "core/compact_fields.hpp"
#include "core/error.hpp"
#include "core/json_util.hpp"
#include "core/service_mapping.hpp"
#include "core/sorted_ids.hpp"
#include "core/worker_profile.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace jobrouter {

struct worker_capabilities {
    std::string worker_id;
    std::string worker_type;             ///< "" when not given
    std::vector<std::string> services;   ///< offered under service-name (deduplicated, in order)
    std::vector<std::string> job_types;  ///< offered under job-type (deduplicated, in order)
    std::string workflow_id;             ///< "" when unrestricted (R1)
    json::value raw;                     ///< the object as registered
};

/// Validates a capabilities object. `path` prefixes field names ("worker.worker_id: ...").
result<worker_capabilities> parse_worker(const json::value& v, const service_mapping& mapping,
                                         const std::string& path = "worker");

/// The scheduler's record of a registered worker.
struct worker {
    worker_capabilities caps;
    sorted_ids assigned;             ///< ids of the jobs it holds (ordered: deterministic replays)
    /// When its last external heartbeat (scheduler::heartbeat with a list or without) came:
    /// a listing heartbeat hands back only jobs assigned before the one before it.
    std::optional<std::int64_t> last_heartbeat;  ///< time_ms
    worker_profile profile;          ///< caps compiled for the claim path (set with caps)
    shared_string id;                ///< caps.worker_id, shared with the jobs it runs
    std::uint32_t slot = 0;          ///< the scheduler's handle of it while registered (job::holder_slot)
    /// The claim path's verdict cache, by job_class::slot: serial * 2 + passes, or 0 when not
    /// known. Cleared with each new profile.
    std::vector<std::uint32_t> verdicts;
    /// The job index's lookup of this worker's offered keys (job_index::key_cache); cleared
    /// with each new profile.
    struct key_cache {
        std::uint64_t version = UINT64_MAX;
        std::vector<const void*> lists;
    } keys;
};

}  // namespace jobrouter
