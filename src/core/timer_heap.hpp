// timer_heap: the scheduler's timed effects (lease expiries, back-off ends), one per job at
// most, in order of due time, ties by job id ascending. A binary heap in a vector whose jobs
// know their position (job::timer_pos), so setting, moving and clearing a job's timer is
// O(log n) with no allocation, unlike a node-based ordered set.
#pragma once

#include "core/job.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace jobrouter {

class timer_heap {
public:
    /// Sets (or moves) the job's timer to `at`.
    void set(job& j, time_ms at);
    /// Clears the job's timer, if it has one.
    void clear(job& j);
    /// When the job's timer is due, if it has one.
    std::optional<time_ms> due(const job& j) const {
        if (j.timer_pos == job::kNoPos) return std::nullopt;
        return heap_[j.timer_pos].at;
    }

    bool empty() const { return heap_.empty(); }
    /// The earliest timer (not empty()).
    time_ms next_at() const { return heap_.front().at; }
    job& next_job() const { return *heap_.front().j; }

private:
    struct entry {
        time_ms at;
        job* j;
    };
    static bool before(const entry& a, const entry& b) { return a.at != b.at ? a.at < b.at : a.j->id < b.j->id; }
    void place(std::size_t i, entry e) {
        heap_[i] = e;
        e.j->timer_pos = static_cast<std::uint32_t>(i);
    }
    void sift_up(std::size_t i);
    void sift_down(std::size_t i);
    /// Puts the entry at i where it belongs after its key changed either way.
    void fix(std::size_t i);

    std::vector<entry> heap_;
};

}  // namespace jobrouter
