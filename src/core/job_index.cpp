#include "core/job_index.hpp"

#include "core/matcher.hpp"

#include <algorithm>
#include <queue>

namespace jobrouter {

namespace {

constexpr std::size_t kArity = 4;

}  // namespace

void job_index::sift_up(bucket& b, std::size_t i) {
    const entry e = b.heap[i];
    while (i > 0) {
        const std::size_t parent = (i - 1) / kArity;
        if (!before(e, b.heap[parent])) break;
        place(b, i, b.heap[parent]);
        i = parent;
    }
    place(b, i, e);
}

void job_index::sift_down(bucket& b, std::size_t i) {
    const entry e = b.heap[i];
    const std::size_t n = b.heap.size();
    for (;;) {
        const std::size_t first = i * kArity + 1;
        if (first >= n) break;
        std::size_t best = first;
        const std::size_t last = std::min(first + kArity, n);
        for (std::size_t c = first + 1; c < last; ++c)
            if (before(b.heap[c], b.heap[best])) best = c;
        if (!before(b.heap[best], e)) break;
        place(b, i, b.heap[best]);
        i = best;
    }
    place(b, i, e);
}

void job_index::pop_front(bucket& b, entry last) {
    // The claim path: the head went and `last` (the old last entry) must be placed. It almost
    // always belongs near the bottom, so the hole goes down along the best children first, and
    // `last` then rises from there (Floyd): one comparison per level fewer than sifting it down.
    std::size_t hole = 0;
    const std::size_t n = b.heap.size();
    for (;;) {
        const std::size_t first = hole * kArity + 1;
        if (first >= n) break;
        std::size_t best = first;
        const std::size_t end = std::min(first + kArity, n);
        for (std::size_t c = first + 1; c < end; ++c)
            if (before(b.heap[c], b.heap[best])) best = c;
        place(b, hole, b.heap[best]);
        hole = best;
    }
    place(b, hole, last);
    sift_up(b, hole);
}

void job_index::reorder(bucket_list& list, const entry& old_head, const bucket& b) {
    // The heads are distinct jobs, so the order is strict and the old head finds b exactly.
    auto pos = std::lower_bound(list.begin(), list.end(), old_head,
                                [](const head& h, const entry& e) { return before(h.top, e); });
    pos->top = b.heap.front();
    const head moved = *pos;
    // One insertion-sort step, up or down.
    while (pos != list.begin() && before(moved.top, std::prev(pos)->top)) {
        *pos = *std::prev(pos);
        --pos;
    }
    while (std::next(pos) != list.end() && before(std::next(pos)->top, moved.top)) {
        *pos = *std::next(pos);
        ++pos;
    }
    *pos = moved;
}

void job_index::insert(job& j) {
    auto [it, created] = buckets_.try_emplace(j.cls.get());
    if (created) it->second = std::make_unique<bucket>();
    bucket& b = *it->second;
    const entry e{j.score, &j};
    if (created) {
        auto [list_it, new_service] = by_service_.try_emplace(j.cls->service_required);
        if (new_service) ++version_;
        b.list = &list_it->second;
    }
    bucket_list& list = *b.list;
    if (created) {
        b.cls = j.cls.get();
        b.heap.push_back(e);
        j.index_pos = 0;
        const head h{e, &b};
        list.insert(std::lower_bound(list.begin(), list.end(), h,
                                     [](const head& a, const head& x) { return before(a.top, x.top); }),
                    h);
    } else {
        const entry old_head = b.heap.front();
        // Grown by a quarter, not doubled: a million pending jobs leave less slack (memory target).
        if (b.heap.size() == b.heap.capacity()) b.heap.reserve(b.heap.size() + b.heap.size() / 4 + 4);
        b.heap.push_back(e);
        sift_up(b, b.heap.size() - 1);
        if (b.heap.front().j != old_head.j) reorder(list, old_head, b);
    }
    ++size_;
}

void job_index::erase(job& j) {
    auto it = buckets_.find(j.cls.get());
    if (it == buckets_.end()) return;
    bucket& b = *it->second;
    const std::size_t i = j.index_pos;
    if (i >= b.heap.size() || b.heap[i].j != &j) return;
    --size_;
    const entry old_head = b.heap.front();
    const entry last = b.heap.back();
    b.heap.pop_back();
    if (i < b.heap.size()) {
        if (i == 0) {
            pop_front(b, last);
        } else {
            place(b, i, last);
            if (before(last, b.heap[(i - 1) / kArity])) sift_up(b, i);
            else sift_down(b, i);
        }
    }
    bucket_list& list = *b.list;
    if (b.heap.empty()) {
        // Empty buckets go, so the claim cost follows the live classes, not history.
        auto pos = std::lower_bound(list.begin(), list.end(), old_head,
                                    [](const head& h, const entry& e) { return before(h.top, e); });
        list.erase(pos);
        buckets_.erase(it);
        return;
    }
    if (b.heap.front().j != old_head.j) reorder(list, old_head, b);
}

job* job_index::best_match(std::span<const std::string> keys, const worker_profile& w) const {
    return best_match_if(keys, [&w](const job_class& c) { return passes_requirements(c, w); });
}

std::vector<const job*> job_index::top(std::size_t n) const {
    // Best-first walk of every bucket's heap (a child never ranks before its parent); explain
    // only, so O(buckets) set-up is fine.
    struct cursor {
        entry e;
        const bucket* b;
        std::size_t i;
    };
    auto worse = [](const cursor& a, const cursor& b) { return before(b.e, a.e); };
    std::priority_queue<cursor, std::vector<cursor>, decltype(worse)> frontier(worse);
    for (const auto& [cls, b] : buckets_) frontier.push({b->heap.front(), b.get(), 0});
    std::vector<const job*> out;
    while (out.size() < n && !frontier.empty()) {
        const cursor c = frontier.top();
        frontier.pop();
        out.push_back(c.e.j);
        const std::size_t first = c.i * kArity + 1;
        for (std::size_t k = first; k < std::min(first + kArity, c.b->heap.size()); ++k) frontier.push({c.b->heap[k], c.b, k});
    }
    return out;
}

}  // namespace jobrouter
