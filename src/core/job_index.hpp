// job_index: the pending jobs, bucketed so that a claim never walks the backlog
// (matching.md section 5).
//
// Pending jobs are grouped by service_required, then by job_class (same requirements,
// customer and workflow). A bucket keeps its jobs in rank order (score descending, then id
// descending, as ZREVRANGE) in two places:
//
// - runs: one per priority band (score / 2^42, the job's priority for scores this project
//   makes), each a ring of entries in rank order. Within a band, a newer submission ranks
//   after the older ones, so a submission is appended at the tail (or a few places before it
//   when it ties on score with the last ones) and a claim takes the front: both touch one or
//   two cache lines whatever the backlog.
// - a 4-ary heap for the jobs that do not arrive in rank order (a retried or released job
//   keeps its old score; a workflow_datetime from the past), so no insert costs more than
//   O(log n).
//
// The bucket's head is the better of its first run's front and the heap's top. Each entry
// carries its job's score, so ordering rarely touches a job record (only on equal scores, to
// compare ids). A job knows where it sits (index_pos, and index_in_run: which of the two), so
// removing any job is O(1) (a run leaves a hole, closed up later) or O(log n) (heap).
//
// The buckets of one service_required are kept in a vector sorted by their heads' rank. A
// claim walks, for each key the worker offers, the buckets in head order and stops at the
// first whose class the worker passes (or once no head can beat the best found): each class is
// checked at most once, usually only the first, so a claim costs O(keys x buckets skipped +
// log n), not O(backlog). The index points at job records owned by the scheduler; it changes
// nothing in a job but index_pos and index_in_run.
#pragma once

#include "core/job.hpp"
#include "core/string_hash.hpp"
#include "core/worker.hpp"
#include "core/worker_profile.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace jobrouter {

/// matching.md section 1: true when `a` ranks before `b`.
inline bool ranks_before(const job& a, const job& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.id > b.id;  // std::string compares bytes as unsigned char, as memcmp does
}

class job_index {
public:
    job_index() = default;
    job_index(const job_index&) = delete;
    job_index& operator=(const job_index&) = delete;

    /// Adds a pending job (it must not be in the index already).
    void insert(job& j);
    /// Removes a job; nothing happens when it is not in the index.
    void erase(job& j);

    std::size_t size() const { return size_; }
    std::size_t bucket_count() const { return buckets_.size(); }

    /// The highest-ranked pending job whose service_required is one of `keys` and whose class
    /// passes `passes` (all rules but R2, asked at most once per class), or nullptr.
    template <class Passes>
    job* best_match_if(std::span<const std::string> keys, Passes&& passes) const;

    /// The same, with `keys` resolved to the index's lists once and kept in `cache` until a
    /// service_required the index never saw arrives (the claim path: no hashing of keys).
    /// `cache` must belong to these keys (cleared when they change).
    template <class Passes>
    job* best_match_if(std::span<const std::string> keys, worker::key_cache& cache, Passes&& passes) const;

    /// The same with the compiled check of worker_profile (matcher.hpp).
    job* best_match(std::span<const std::string> keys, const worker_profile& w) const;

    /// The first `n` pending jobs in rank order, across all buckets.
    std::vector<const job*> top(std::size_t n) const;

private:
    struct entry {
        double score;
        job* j;  ///< nullptr: a hole left in a run by an erased job (its score stays)
    };
    static bool before(const entry& a, const entry& b) {
        if (a.score != b.score) return a.score > b.score;
        return a.j->id > b.j->id;
    }
    /// The priority band of a score: entries of a higher band all rank before those of a lower.
    static double band_of(double score) { return std::floor(score * 0x1p-42); }

    /// One band's jobs of a bucket in rank order, in a ring. Positions are logical (they count
    /// up, modulo 2^32) so that a job's index_pos stays valid as the front is taken and the
    /// ring grows; the front and back entries are never holes.
    struct run {
        double band = 0;
        std::uint32_t first = 0;       ///< logical position of the front
        std::uint32_t end = 0;         ///< one past the back
        std::uint32_t first_slot = 0;  ///< where the front sits in `ring`
        std::uint32_t live = 0;        ///< entries that are not holes
        std::vector<entry> ring;       ///< its size is the capacity

        std::uint32_t span() const { return end - first; }
        bool holds(std::uint32_t pos) const { return pos - first < span(); }
        std::size_t slot(std::uint32_t pos) const {
            std::size_t s = first_slot + static_cast<std::size_t>(pos - first);
            return s >= ring.size() ? s - ring.size() : s;
        }
        entry& at(std::uint32_t pos) { return ring[slot(pos)]; }
        const entry& at(std::uint32_t pos) const { return ring[slot(pos)]; }
        const entry& front() const { return ring[first_slot]; }
    };

    struct head;
    using bucket_list = std::vector<head>;  ///< sorted by head rank, best first
    struct bucket {
        const job_class* cls = nullptr;
        bucket_list* list = nullptr;  ///< its service's list
        std::vector<run> runs;        ///< by band, best first; none empty
        std::vector<entry> heap;      ///< 4-ary heap, best first: jobs that came out of order
        bool empty() const { return runs.empty() && heap.empty(); }
        /// The best entry (not empty()).
        const entry& front() const {
            if (runs.empty()) return heap.front();
            const entry& r = runs.front().front();
            return !heap.empty() && before(heap.front(), r) ? heap.front() : r;
        }
    };
    /// A bucket and its head, as kept in a service's list.
    struct head {
        entry top;
        bucket* b;
    };
    /// Walks one service's buckets; updates `best`.
    template <class Passes>
    static void scan(const bucket_list& list, const entry*& best, Passes& passes);

    /// Adds e to its band's run when it fits at (or near) the back, else to the heap.
    void add(bucket& b, const entry& e);
    /// Puts e into run r if it belongs at most kMaxShift places before the back (or at the
    /// front); false when it does not.
    bool add_to_run(run& r, const entry& e);
    /// Takes the job at logical position pos out of run r; true when r is then empty (the
    /// caller removes it).
    bool remove_from_run(run& r, std::uint32_t pos);
    static void grow(run& r);
    /// Closes up the holes of r (its live jobs get new positions).
    static void compact(run& r);
    static void place(run& r, std::uint32_t pos, entry e) {
        r.at(pos) = e;
        e.j->index_pos = pos;
        e.j->index_in_run = true;
    }

    void sift_up(bucket& b, std::size_t i);
    void sift_down(bucket& b, std::size_t i);
    /// Removes the heap's top; `last` is the entry taken off the end to fill its place.
    void pop_front(bucket& b, entry last);
    /// Removes the heap entry at i.
    void erase_from_heap(bucket& b, std::size_t i);
    void place(bucket& b, std::size_t i, entry e) {
        b.heap[i] = e;
        e.j->index_pos = static_cast<std::uint32_t>(i);
        e.j->index_in_run = false;
    }
    /// Moves bucket `b`, whose head was `old_head`, to its place for its current head.
    static void reorder(bucket_list& list, const entry& old_head, const bucket& b);

    std::unordered_map<const job_class*, std::unique_ptr<bucket>> buckets_;
    /// Lists are never removed (an empty one costs a few bytes), so pointers to them stay valid
    /// and key caches only go stale when a new service_required arrives (version_).
    std::unordered_map<std::string, bucket_list, string_hash, std::equal_to<>> by_service_;
    std::uint64_t version_ = 0;
    std::size_t size_ = 0;
};

template <class Passes>
void job_index::scan(const bucket_list& list, const entry*& best, Passes& passes) {
    for (const head& h : list) {
        // Heads come in rank order: once one cannot beat the best, none after it can.
        if (best && !before(h.top, *best)) return;
        if (passes(*h.b->cls)) {
            best = &h.top;
            return;
        }
    }
}

template <class Passes>
job* job_index::best_match_if(std::span<const std::string> keys, Passes&& passes) const {
    const entry* best = nullptr;
    for (const std::string& key : keys)
        if (auto it = by_service_.find(std::string_view(key)); it != by_service_.end()) scan(it->second, best, passes);
    return best ? best->j : nullptr;
}

template <class Passes>
job* job_index::best_match_if(std::span<const std::string> keys, worker::key_cache& cache, Passes&& passes) const {
    if (cache.version != version_) {
        cache.lists.clear();
        for (const std::string& key : keys) {
            auto it = by_service_.find(std::string_view(key));
            cache.lists.push_back(it == by_service_.end() ? nullptr : &it->second);
        }
        cache.version = version_;
    }
    const entry* best = nullptr;
    for (const void* list : cache.lists)
        if (list) scan(*static_cast<const bucket_list*>(list), best, passes);
    return best ? best->j : nullptr;
}

}  // namespace jobrouter
