// job_table: the scheduler's job records, by id. Records live in fixed chunks (their addresses
// never change, so the index and the timers can point at them) and are found through an
// open-addressing hash table of pointers: 8 bytes a slot, with 16 bits of each key's hash kept
// in the pointer's unused top bits so that a probe rarely reads a record it does not want.
// Compared with std::unordered_map<std::string, job>, a job costs no map node, no second copy
// of its id and no allocation of its own.
#pragma once

#include "core/job.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace jobrouter {

class job_table {
public:
    job_table() = default;
    job_table(const job_table&) = delete;
    job_table& operator=(const job_table&) = delete;
    ~job_table();

    job* find(std::string_view id) const;
    /// Adds a job whose id is not in the table; the reference stays valid until erase.
    job& insert(job&& j);
    /// Removes and destroys a job of this table.
    void erase(job& j);

    std::size_t size() const { return size_; }

    /// Calls f(job&) for every job, in no particular order.
    template <class F>
    void for_each(F&& f) const {
        for (std::uintptr_t s : slots_)
            if (s) f(*record(s));
    }

private:
    static constexpr std::size_t kChunk = 1024;
    static constexpr int kTagShift = 48;
    static constexpr std::uintptr_t kPointerMask = (std::uintptr_t{1} << kTagShift) - 1;

    static job* record(std::uintptr_t slot) { return reinterpret_cast<job*>(slot & kPointerMask); }
    /// The tag comes from the low bits, the home slot from the high ones: keys that share a
    /// probe run rarely share a tag.
    static std::uintptr_t tag_of(std::uint64_t hash) { return static_cast<std::uintptr_t>(hash & 0xffff) << kTagShift; }
    static std::uint64_t hash_of(std::string_view id);
    std::size_t home(std::uint64_t hash) const {
        // hash * size / 2^64: a slot in [0, size) without a division ("fastrange").
        __extension__ using u128 = unsigned __int128;
        return static_cast<std::size_t>((static_cast<u128>(hash) * slots_.size()) >> 64);
    }
    std::size_t next(std::size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }
    void grow();
    void place(std::uintptr_t slot, std::uint64_t hash);
    job* allocate();

    std::vector<std::uintptr_t> slots_;  ///< 0: empty; else tag | pointer
    std::size_t size_ = 0;
    std::vector<std::unique_ptr<unsigned char[]>> chunks_;
    std::vector<job*> free_;  ///< records not in use
};

}  // namespace jobrouter
