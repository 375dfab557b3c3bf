// job_index: the pending jobs, bucketed so that a claim never walks the backlog
// (matching.md section 5).
//
// Pending jobs are grouped by service_required, then by job_class (same requirements,
// customer and workflow). Each bucket keeps its jobs in a 4-ary heap in rank order (score
// descending, then id descending, as ZREVRANGE); each heap entry carries its job's score, so
// ordering rarely touches a job record (only on equal scores, to compare ids). The buckets of
// one service_required are kept in a vector sorted by their heads' rank. A claim walks, for
// each key the worker offers, the buckets in head order and stops at the first whose class the
// worker passes (or once no head can beat the best found): each class is checked at most
// once, usually only the first, so a claim costs O(keys x buckets skipped + log n), not
// O(backlog). The index points at job records owned by the scheduler; it changes nothing in a
// job but its index_pos.
#pragma once

#include "core/job.hpp"
#include "core/string_hash.hpp"
#include "core/worker.hpp"
#include "core/worker_profile.hpp"

#include <cstddef>
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
        job* j;
    };
    static bool before(const entry& a, const entry& b) {
        if (a.score != b.score) return a.score > b.score;
        return a.j->id > b.j->id;
    }
    struct head;
    using bucket_list = std::vector<head>;  ///< sorted by head rank, best first
    struct bucket {
        const job_class* cls = nullptr;
        bucket_list* list = nullptr;  ///< its service's list
        std::vector<entry> heap;  ///< 4-ary heap, best first; never empty while the bucket exists
    };
    /// A bucket and its head, as kept in a service's list.
    struct head {
        entry top;
        bucket* b;
    };
    /// Walks one service's buckets; updates `best`.
    template <class Passes>
    static void scan(const bucket_list& list, const entry*& best, Passes& passes);

    void sift_up(bucket& b, std::size_t i);
    void sift_down(bucket& b, std::size_t i);
    /// Removes the head; `last` is the entry taken off the end to fill its place.
    void pop_front(bucket& b, entry last);
    void place(bucket& b, std::size_t i, entry e) {
        b.heap[i] = e;
        e.j->index_pos = static_cast<std::uint32_t>(i);
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
