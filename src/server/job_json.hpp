// job_json: the API's view of a job (GET /api/jobs/{id}, claims, events), with EMP's field
// names where EMP has them. Times are ISO 8601 UTC strings with milliseconds, null when unset.
#pragma once

#include "core/job.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>

namespace jobrouter {

/// "2026-11-28T12:59:12.345Z"
std::string iso_time(time_ms t);
boost::json::value iso_time_or_null(const std::optional<time_ms>& t);

/// Everything a client may want to know about a job.
boost::json::object job_to_json(const job& j);

}  // namespace jobrouter
