#include "core/job_table.hpp"

#include "core/string_hash.hpp"

#include <cassert>
#include <new>

namespace jobrouter {

namespace {

// Grown by half when more than this share of the slots is used: linear probing stays short,
// and the table takes 10-16 bytes a job.
constexpr std::size_t kMaxLoadPercent = 80;

}  // namespace

job_table::~job_table() {
    for (std::uintptr_t s : slots_)
        if (s) record(s)->~job();
}

std::uint64_t job_table::hash_of(std::string_view id) { return hash_string(id); }

job* job_table::find(std::string_view id) const {
    if (slots_.empty()) return nullptr;
    const std::uint64_t h = hash_of(id);
    const std::uintptr_t tag = tag_of(h);
    for (std::size_t i = home(h);; i = next(i)) {
        const std::uintptr_t s = slots_[i];
        if (!s) return nullptr;
        if ((s & ~kPointerMask) == tag && record(s)->id == id) return record(s);
    }
}

void job_table::place(std::uintptr_t slot, std::uint64_t hash) {
    std::size_t i = home(hash);
    while (slots_[i]) i = next(i);
    slots_[i] = slot;
}

void job_table::grow() {
    std::vector<std::uintptr_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() + old.size() / 2, 0);
    for (std::uintptr_t s : old)
        if (s) place(s, hash_of(record(s)->id));
}

job* job_table::allocate() {
    if (free_.empty()) {
        static_assert(alignof(job) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
        chunks_.emplace_back(new unsigned char[kChunk * sizeof(job)]);
        job* base = reinterpret_cast<job*>(chunks_.back().get());
        for (std::size_t k = kChunk; k-- > 0;) free_.push_back(base + k);
    }
    job* p = free_.back();
    free_.pop_back();
    return p;
}

job& job_table::insert(job&& j) {
    if ((size_ + 1) * 100 > slots_.size() * kMaxLoadPercent) grow();
    job* p = new (allocate()) job(std::move(j));
    // x86-64 and AArch64 user-space addresses fit in 48 bits; the top 16 hold the tag.
    assert((reinterpret_cast<std::uintptr_t>(p) & ~kPointerMask) == 0);
    const std::uint64_t h = hash_of(p->id);
    place(tag_of(h) | reinterpret_cast<std::uintptr_t>(p), h);
    ++size_;
    return *p;
}

void job_table::erase(job& j) {
    const std::uint64_t h = hash_of(j.id);
    std::size_t i = home(h);
    while (record(slots_[i]) != &j) i = next(i);
    // Backward-shift deletion: move later entries of the probe run into the hole, so that no
    // tombstones are needed and every run stays unbroken.
    for (std::size_t hole = i, k = next(i);; k = next(k)) {
        const std::uintptr_t s = slots_[k];
        if (!s) {
            slots_[hole] = 0;
            break;
        }
        const std::size_t want = home(hash_of(record(s)->id));
        // s may fill the hole unless its home lies cyclically in (hole, k].
        const bool home_after_hole = hole <= k ? (want > hole && want <= k) : (want > hole || want <= k);
        if (!home_after_hole) {
            slots_[hole] = s;
            hole = k;
        }
    }
    --size_;
    j.~job();
    free_.push_back(&j);
}

}  // namespace jobrouter
