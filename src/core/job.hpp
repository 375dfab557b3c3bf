// job: a submission (job_spec, validated from JSON), its score, and the scheduler's record.
//
// Field rules are trace-format.md "Job object" and "Types"; the score is matching.md
// section 1. The record is owned by the scheduler; the job index only points at it.
#pragma once

#include "core/compact_fields.hpp"
#include "core/error.hpp"
#include "core/job_class.hpp"
#include "core/json_util.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

namespace jobrouter {

using time_ms = std::int64_t;  ///< ms since the Unix epoch (virtual in replay, wall clock in serve)

inline constexpr std::int64_t kDefaultPriority = 50;
inline constexpr std::int64_t kMaxPriority = 1023;
inline constexpr std::int64_t kDefaultMaxRetries = 3;

/// A validated submission.
struct job_spec {
    std::string id;
    std::string service_required;
    std::int64_t priority = kDefaultPriority;
    std::optional<std::int64_t> workflow_priority;
    std::optional<std::int64_t> workflow_datetime;
    std::string customer_id;
    std::string workflow_id;
    std::int64_t max_retries = kDefaultMaxRetries;
    json::object requirements;
    json::value payload;  ///< carried untouched (null when absent)
    json::object extras;  ///< unknown top-level fields, kept and returned (EMP sends job_type...)
};

/// Validates a job object. `path` prefixes field names in errors ("job" gives
/// "job.requirements.hardware.gpu_memory_gb: must be a number or \"all\", got string \"16\"").
result<job_spec> parse_job_spec(const json::value& v, const std::string& path = "job");

/// matching.md section 1: p * 2^42 + (2^42 - 1 - offset_ms); exact in a double.
double job_score(const job_spec& spec, time_ms submitted_at);

/// pending -> assigned -> in_progress -> completed | failed | cancelled; a failed attempt with
/// attempts left goes to retrying, then back to pending. Replay never reports progress, so its
/// jobs go straight from assigned to their end.
enum class job_status : std::uint8_t { pending, assigned, in_progress, retrying, completed, failed, cancelled };

std::string_view to_string(job_status s);

inline std::ostream& operator<<(std::ostream& os, job_status s) { return os << to_string(s); }

/// An optional time (never negative: the scheduler's clock starts at 0 and only moves on).
using optional_time = compact_optional<time_ms, INT64_MIN>;

/// The scheduler's record of one job. A million pending jobs must fit in a few hundred MB
/// (the bench's memory target), so fields that are usually empty take 8 bytes
/// (compact_fields.hpp), and the fields are ordered so that nothing is padded.
struct job {
    std::string id;
    shared_string worker_id;         ///< holder while running; who ran it last once finished
    json::value payload;
    class_ref cls;
    double score = 0;
    std::uint64_t seq = 0;           ///< submission order, unique (listing, pagination)
    time_ms created_at = 0;
    boxed_optional<std::int64_t> workflow_datetime;
    compact_optional<std::int64_t, INT64_MIN> workflow_priority;  ///< 0..kMaxPriority when set
    object_box extras;               ///< unknown top-level fields, as submitted
    json_box result;                 ///< from complete
    json_box last_error;             ///< from the last fail
    time_ms lease_deadline = 0;      ///< while assigned: expires at the first event after it
    optional_time assigned_at, completed_at, failed_at, cancelled_at;
    optional_time started_at;        ///< first progress of the current attempt
    std::int32_t priority = kDefaultPriority;
    std::int32_t max_retries = kDefaultMaxRetries;
    std::int32_t attempts = 0;       ///< claims so far
    std::int32_t progress = 0;       ///< 0..100, last reported for the current attempt

    static constexpr std::uint32_t kNoPos = UINT32_MAX;
    std::uint32_t index_pos = kNoPos;  ///< the job index's: its place in its bucket (see index_in_run)
    std::uint32_t timer_pos = kNoPos;  ///< the scheduler's timer heap: its place, kNoPos without a timer
    job_status status = job_status::pending;
    bool index_in_run = false;         ///< the job index's: index_pos is in a run (else in the heap)
    std::uint32_t holder_slot = 0;     ///< while running: the scheduler's handle of its worker (worker::slot)

    const std::string& service_required() const { return cls->service_required; }
    /// Held by a worker: assigned or in progress.
    bool is_running() const { return status == job_status::assigned || status == job_status::in_progress; }
    bool is_final() const {
        return status == job_status::completed || status == job_status::failed || status == job_status::cancelled;
    }
};

}  // namespace jobrouter
