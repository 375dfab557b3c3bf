#include "core/job_index.hpp"

#include "core/matcher.hpp"

#include <algorithm>
#include <queue>

namespace jobrouter {

void job_index::insert(job& j) {
    auto [it, created] = buckets_.try_emplace(j.cls.get());
    bucket& b = it->second;
    bucket_list& list = by_service_[j.cls->service_required];
    if (created) {
        b.cls = j.cls.get();
        b.jobs.insert(&j);
        list.insert(&b);
    } else if (ranks_before(j, *b.head())) {
        list.erase(&b);  // its head changes: re-sort it
        b.jobs.insert(&j);
        list.insert(&b);
    } else {
        b.jobs.insert(&j);
    }
    ++size_;
}

void job_index::erase(job& j) {
    auto it = buckets_.find(j.cls.get());
    if (it == buckets_.end()) return;
    bucket& b = it->second;
    auto pos = b.jobs.find(&j);
    if (pos == b.jobs.end()) return;
    --size_;
    if (pos != b.jobs.begin()) {
        b.jobs.erase(pos);
        return;
    }
    auto list_it = by_service_.find(j.cls->service_required);
    list_it->second.erase(&b);  // its head changes (or it empties)
    b.jobs.erase(pos);
    if (!b.jobs.empty()) {
        list_it->second.insert(&b);
        return;
    }
    // Empty buckets go, so the claim cost follows the live classes, not history.
    if (list_it->second.empty()) by_service_.erase(list_it);
    buckets_.erase(it);
}

job* job_index::best_match(std::span<const std::string> keys, const worker_capabilities& w) const {
    job* best = nullptr;
    for (const std::string& key : keys) {
        auto it = by_service_.find(key);
        if (it == by_service_.end()) continue;
        for (const bucket* b : it->second) {
            // Heads come in rank order: once one cannot beat the best, none after it can.
            if (best && !ranks_before(*b->head(), *best)) break;
            if (passes_requirements(*b->cls, w)) {
                best = b->head();
                break;
            }
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
