// job_class: everything matching reads from a job (matching.md section 3), validated.
//
// Jobs with the same service_required, customer, workflow and requirements share one
// job_class: the job index keeps one bucket per class, and a worker is checked against a
// bucket once, not against each job in it (matching.md section 5). Classes are immutable and
// shared (class_ref, below) by all jobs of the class.
#pragma once

#include "core/class_requirements.hpp"
#include "core/error.hpp"
#include "core/json_util.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace jobrouter {

struct job_class;

/// Who interned a class: told when the last reference to it goes (class_ref).
class class_owner {
public:
    virtual void release(const job_class* c) noexcept = 0;

protected:
    ~class_owner() = default;
};

struct job_class {
    std::string service_required;
    std::string customer_id;  ///< "" when none
    std::string workflow_id;  ///< "" when none
    json::object requirements;          ///< as submitted ({} when absent)
    json::object positive;              ///< positive_requirements, or requirements minus negative_requirements
    json::object negative;              ///< requirements.negative_requirements ({} when absent)

    /// The key that identifies a class: equal signatures, equal matching answers.
    std::string signature;

    /// positive and negative compiled for the claim path (class_requirements.hpp).
    class_requirements compiled;

    /// Set by the scheduler that interns the class: a slot no other live class of that
    /// scheduler holds, and a serial no class held in that slot before had (per-worker
    /// verdict caches are indexed by slot and checked by serial).
    static constexpr std::uint32_t kNoSlot = UINT32_MAX;
    std::uint32_t slot = kNoSlot;
    std::uint32_t serial = 0;

    // class_ref's count, and who to tell when it drops to zero (nobody: the class is deleted).
    mutable std::uint32_t refs = 0;
    class_owner* owner = nullptr;
};

/// A counted reference to a heap-allocated, immutable job_class (8 bytes, where a shared_ptr
/// takes 16): jobs of one class share it. Like the scheduler that owns the classes, it is not
/// thread-safe. Reads like a pointer: ->, *, get().
class class_ref {
public:
    class_ref() = default;
    /// Takes a class allocated with new.
    explicit class_ref(const job_class* c) noexcept : p_(c) { acquire(); }
    class_ref(const class_ref& o) noexcept : p_(o.p_) { acquire(); }
    class_ref(class_ref&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    class_ref& operator=(class_ref o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~class_ref() {
        if (p_ && --p_->refs == 0) {
            if (p_->owner) p_->owner->release(p_);
            else delete p_;
        }
    }

    const job_class* get() const noexcept { return p_; }
    const job_class* operator->() const noexcept { return p_; }
    const job_class& operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }

private:
    void acquire() noexcept {
        if (p_) ++p_->refs;
    }
    const job_class* p_ = nullptr;
};

/// Builds a class from validated parts (see validate_requirements).
job_class make_job_class(std::string service_required, std::string customer_id, std::string workflow_id,
                         json::object requirements);

/// The signature make_job_class would give these parts (to find an interned class without
/// building one).
std::string job_class_signature(std::string_view service_required, std::string_view customer_id,
                                std::string_view workflow_id, const json::object& requirements);

/// Validates a job's `requirements` value per trace-format.md "Types": an object; its
/// positive_requirements / negative_requirements objects when present; wherever matching reads
/// `hardware` it is an object whose gpu_memory_gb, cpu_cores and ram_gb are numbers or "all".
/// `path` names the value in messages (e.g. "job.requirements").
result<void> validate_requirements(const json::value& requirements, const std::string& path);

}  // namespace jobrouter
