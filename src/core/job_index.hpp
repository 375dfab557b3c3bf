// job_index: the pending jobs, bucketed so that a claim never walks the backlog
// (matching.md section 5).
//
// Pending jobs are grouped by service_required, then by job_class (same requirements,
// customer and workflow). Each bucket keeps its jobs in rank order (score descending, then
// id descending, as ZREVRANGE), and the buckets of one service_required are kept ordered by
// their heads. A claim walks, for each key the worker offers, the buckets in head order and
// stops at the first whose class the worker passes (or once no head can beat the best found):
// each class is checked at most once, usually only the first, so a claim costs
// O(keys x buckets skipped + log n), not O(backlog). The index points at job records owned by
// the scheduler; it never changes a job.
#pragma once

#include "core/job.hpp"
#include "core/worker.hpp"

#include <cstddef>
#include <set>
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
    /// Removes a job that is in the index.
    void erase(job& j);

    std::size_t size() const { return size_; }
    std::size_t bucket_count() const { return buckets_.size(); }

    /// The highest-ranked pending job whose service_required is one of `keys` and whose class
    /// the worker passes (all rules but R2), or nullptr.
    job* best_match(std::span<const std::string> keys, const worker_capabilities& w) const;

    /// The first `n` pending jobs in rank order, across all buckets.
    std::vector<const job*> top(std::size_t n) const;

private:
    struct rank_order {
        bool operator()(const job* a, const job* b) const { return ranks_before(*a, *b); }
    };
    struct bucket {
        const job_class* cls = nullptr;
        std::set<job*, rank_order> jobs;  ///< never empty while the bucket exists
        job* head() const { return *jobs.begin(); }
    };
    /// Buckets by their heads' rank. Heads are distinct jobs, so the order is strict; a bucket
    /// whose head changes is taken out and put back.
    struct head_order {
        bool operator()(const bucket* a, const bucket* b) const { return ranks_before(*a->head(), *b->head()); }
    };
    using bucket_list = std::set<bucket*, head_order>;

    std::unordered_map<const job_class*, bucket> buckets_;
    std::unordered_map<std::string, bucket_list> by_service_;
    std::size_t size_ = 0;
};

}  // namespace jobrouter
