// job_class: everything matching reads from a job (matching.md section 3), validated.
//
// Jobs with the same service_required, customer, workflow and requirements share one
// job_class: the job index keeps one bucket per class, and a worker is checked against a
// bucket once, not against each job in it (matching.md section 5). Classes are immutable and
// shared (std::shared_ptr<const job_class>) by all jobs of the class.
#pragma once

#include "core/error.hpp"
#include "core/json_util.hpp"

#include <string>

namespace jobrouter {

struct job_class {
    std::string service_required;
    std::string customer_id;  ///< "" when none
    std::string workflow_id;  ///< "" when none
    json::object requirements;          ///< as submitted ({} when absent)
    json::object positive;              ///< positive_requirements, or requirements minus negative_requirements
    json::object negative;              ///< requirements.negative_requirements ({} when absent)

    /// The key that identifies a class: equal signatures, equal matching answers.
    std::string signature;
};

/// Builds a class from validated parts (see validate_requirements).
job_class make_job_class(std::string service_required, std::string customer_id, std::string workflow_id,
                         json::object requirements);

/// Validates a job's `requirements` value per trace-format.md "Types": an object; its
/// positive_requirements / negative_requirements objects when present; wherever matching reads
/// `hardware` it is an object whose gpu_memory_gb, cpu_cores and ram_gb are numbers or "all".
/// `path` names the value in messages (e.g. "job.requirements").
result<void> validate_requirements(const json::value& requirements, const std::string& path);

}  // namespace jobrouter
