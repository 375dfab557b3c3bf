// workload: the bench's jobs and workers, generated from --seed.
//
// Job k is a pure function of (seed, k): its type, requirement signature and priority come
// from a hash of k, not from a shared random stream, so any two scenarios (and the index and
// the emp-scan baseline inside one scenario) that submit job k submit the same job. Workers
// likewise.
//
// Jobs: `types` job types ("type-000", ...) x `signatures` requirement signatures (the 8 fixed
// ones below: none, hardware at-least, models, dotted custom key, nested custom object,
// positive + negative requirements), priority 40/50/60/70, a payload string of
// `payload_bytes`. Orphan jobs (head-of-line) need one of 10 job types no worker offers
// ("orphan-0", ...) and have priority 100, so they rank above every normal job.
//
// Workers: each offers `types_per_worker` job types (worker i always offers type i % types,
// so every type is served), as both `services` and `job_service_required_map` (EMP's
// convention, so service-name and job-type see the same keys), with random hardware, region,
// GPU model and models per offered type. Most workers pass 5 or 6 of the 8 signatures.
#pragma once

#include "core/job.hpp"
#include "core/service_mapping.hpp"
#include "core/worker.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace jobrouter::bench {

struct workload_options {
    std::size_t types = 100;
    std::size_t signatures = 8;  ///< 1..8 (kSignatureCount)
    std::size_t types_per_worker = 4;
    std::size_t payload_bytes = 100;
    std::uint64_t seed = 1;
};

enum class job_kind { normal, orphan };

inline constexpr std::size_t kSignatureCount = 8;
inline constexpr std::size_t kOrphanTypes = 10;

class workload {
public:
    explicit workload(const workload_options& options);

    const workload_options& options() const { return options_; }

    /// "j" + 10 digits: fixed width, so id order is index order (ties in score).
    static std::string job_id(std::uint64_t k);
    static std::string worker_id(std::size_t i);

    /// Job k as a validated spec (what parse_job_spec would return for job_json(k, kind)).
    job_spec job(std::uint64_t k, job_kind kind = job_kind::normal) const;
    /// Job k as the JSON object a client would send.
    json::value job_json(std::uint64_t k, job_kind kind = job_kind::normal) const;

    json::value worker_json(std::size_t i) const;
    /// Workers 0..n-1, validated against `mapping` (parse_worker).
    std::vector<worker_capabilities> workers(std::size_t n, const service_mapping& mapping) const;

private:
    struct job_fields {
        std::string service_required;
        std::size_t signature;
        std::int64_t priority;
    };
    job_fields fields(std::uint64_t k, job_kind kind) const;
    std::uint64_t hash(std::uint64_t salt, std::uint64_t k) const;

    workload_options options_;
    std::vector<json::object> signatures_;
    std::vector<std::string> type_names_;
    std::vector<std::string> orphan_names_;
};

/// A mapping for load_mapping-free use: the embedded default (workers register with explicit
/// lists, so its content does not matter to the bench).
service_mapping default_mapping();

}  // namespace jobrouter::bench
