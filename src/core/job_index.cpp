#include "core/job_index.hpp"

#include "core/matcher.hpp"

#include <algorithm>
#include <queue>

namespace jobrouter {

void job_index::insert(job& j) {
    auto [it, created] = buckets_.try_emplace(j.cls.get());
    bucket& b = it->second;
    if (created) {
        b.cls = j.cls.get();
        auto& list = by_service_[j.cls->service_required];
        b.slot = list.size();
        list.push_back(&b);
    }
    b.jobs.insert(&j);
    ++size_;
}

void job_index::erase(job& j) {
    auto it = buckets_.find(j.cls.get());
    if (it == buckets_.end()) return;
    bucket& b = it->second;
    if (b.jobs.erase(&j) == 0) return;
    --size_;
    if (!b.jobs.empty()) return;
    // Empty buckets go, so the claim cost follows the live classes, not history.
    auto list_it = by_service_.find(j.cls->service_required);
    auto& list = list_it->second;
    list[b.slot] = list.back();
    list[b.slot]->slot = b.slot;
    list.pop_back();
    if (list.empty()) by_service_.erase(list_it);
    buckets_.erase(it);
}

job* job_index::best_match(std::span<const std::string> keys, const worker_capabilities& w) const {
    job* best = nullptr;
    for (const std::string& key : keys) {
        auto it = by_service_.find(key);
        if (it == by_service_.end()) continue;
        for (const bucket* b : it->second) {
            job* head = *b->jobs.begin();
            // Check the cheap rank comparison first: a bucket whose head cannot win is skipped.
            if (best && !ranks_before(*head, *best)) continue;
            if (passes_requirements(*b->cls, w)) best = head;
        }
    }
    return best;
}

std::vector<const job*> job_index::top(std::size_t n) const {
    // k-way merge of the buckets' heads; explain only, so O(buckets) set-up is fine.
    using cursor = std::pair<std::set<job*, rank_order>::const_iterator, std::set<job*, rank_order>::const_iterator>;
    auto worse = [](const cursor& a, const cursor& b) { return ranks_before(**b.first, **a.first); };
    std::priority_queue<cursor, std::vector<cursor>, decltype(worse)> heads(worse);
    for (const auto& [cls, b] : buckets_) heads.emplace(b.jobs.begin(), b.jobs.end());
    std::vector<const job*> out;
    while (out.size() < n && !heads.empty()) {
        cursor c = heads.top();
        heads.pop();
        out.push_back(*c.first);
        if (++c.first != c.second) heads.push(c);
    }
    return out;
}

}  // namespace jobrouter
