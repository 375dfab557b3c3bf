#include "core/job_index.hpp"

#include "core/matcher.hpp"

#include <algorithm>
#include <queue>

namespace jobrouter {

namespace {

constexpr std::size_t kArity = 4;
/// How far before a run's back a job may be put (it ties on score with the last ones: the same
/// millisecond, a larger id); further goes to the heap.
constexpr unsigned kMaxShift = 8;
/// A run is closed up once its holes outnumber its jobs by this much.
constexpr std::uint32_t kMaxHoles = 16;

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

void job_index::erase_from_heap(bucket& b, std::size_t i) {
    const entry last = b.heap.back();
    b.heap.pop_back();
    if (i == b.heap.size()) return;
    if (i == 0) {
        pop_front(b, last);
    } else {
        place(b, i, last);
        if (before(last, b.heap[(i - 1) / kArity])) sift_up(b, i);
        else sift_down(b, i);
    }
}

void job_index::grow(run& r) {
    // Grown by a quarter, not doubled: a million pending jobs leave less slack (memory target).
    // Positions are logical, so no job record changes: the entries only move to new slots.
    std::vector<entry> ring;
    ring.reserve(r.ring.size() + r.ring.size() / 4 + 4);
    for (std::uint32_t p = r.first; p != r.end; ++p) ring.push_back(r.at(p));
    ring.resize(ring.capacity());
    r.ring = std::move(ring);
    r.first_slot = 0;
}

void job_index::compact(run& r) {
    std::uint32_t to = r.first;
    for (std::uint32_t p = r.first; p != r.end; ++p) {
        const entry e = r.at(p);
        if (e.j) place(r, to++, e);
    }
    r.end = to;
}

bool job_index::add_to_run(run& r, const entry& e) {
    // Before every entry: e becomes the front (nothing moves).
    auto push_front = [&r, &e] {
        if (r.span() == r.ring.size()) grow(r);
        r.first_slot = r.first_slot == 0 ? static_cast<std::uint32_t>(r.ring.size() - 1) : r.first_slot - 1;
        --r.first;
        place(r, r.first, e);
        ++r.live;
    };
    // Usually e ranks after the back (a newer submission): it is appended. A submission of the
    // same millisecond with a larger id ranks before the last ones: it goes a few places back.
    std::uint32_t pos = r.end;
    for (unsigned steps = 0; pos != r.first; --pos, ++steps) {
        const entry& prev = r.at(pos - 1);
        if (!prev.j || steps == kMaxShift) {
            // A hole, or too far back: only the front is still cheap.
            if (!before(e, r.front())) return false;
            push_front();
            return true;
        }
        if (!before(e, prev)) break;
    }
    if (pos == r.first && r.span() > 0) {
        push_front();
        return true;
    }
    if (r.span() == r.ring.size()) grow(r);
    ++r.end;
    for (std::uint32_t q = r.end - 1; q != pos; --q) place(r, q, r.at(q - 1));
    place(r, pos, e);
    ++r.live;
    return true;
}

void job_index::add(bucket& b, const entry& e) {
    const double band = band_of(e.score);
    auto it = b.runs.begin();
    while (it != b.runs.end() && it->band > band) ++it;
    if (it == b.runs.end() || it->band != band) {
        run r;
        r.band = band;
        it = b.runs.insert(it, std::move(r));
    }
    if (add_to_run(*it, e)) return;
    // Out of order: the heap takes it.
    if (b.heap.size() == b.heap.capacity()) b.heap.reserve(b.heap.size() + b.heap.size() / 4 + 4);
    b.heap.push_back(e);
    sift_up(b, b.heap.size() - 1);
}

bool job_index::remove_from_run(run& r, std::uint32_t pos) {
    --r.live;
    if (r.live == 0) return true;
    r.at(pos).j = nullptr;
    // The front and back are never holes.
    while (!r.front().j) {
        ++r.first;
        r.first_slot = r.first_slot + 1 == r.ring.size() ? 0 : r.first_slot + 1;
    }
    while (!r.at(r.end - 1).j) --r.end;
    if (r.span() - r.live > r.live + kMaxHoles) compact(r);
    return false;
}

void job_index::reorder(bucket_list& list, const entry& old_head, const bucket& b) {
    // Find b. A claim takes from one of the first buckets, so look there first, by pointer (no
    // ranks to compare); else search by the old head (heads are distinct jobs, so the order is
    // strict and the old head finds b exactly).
    auto pos = list.begin();
    const auto near = list.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(list.size(), 8));
    while (pos != near && pos->b != &b) ++pos;
    if (pos == near)
        pos = std::lower_bound(list.begin(), list.end(), old_head,
                               [](const head& h, const entry& e) { return before(h.top, e); });
    const head moved{b.front(), pos->b};
    auto ranks_before_moved = [&moved](const head& h, const head&) { return before(h.top, moved.top); };
    if (before(moved.top, old_head)) {
        // Better than before (an insert): it goes up, before the first head it ranks before.
        const auto to = std::lower_bound(list.begin(), pos, moved, ranks_before_moved);
        std::move_backward(to, pos, std::next(pos));
        *to = moved;
        return;
    }
    // Worse (a claim took its head): usually a step or two down; binary search past that.
    const auto next = std::next(pos);
    if (next == list.end() || !before(next->top, moved.top)) {
        *pos = moved;
        return;
    }
    const auto to = std::lower_bound(std::next(next), list.end(), moved, ranks_before_moved);
    std::move(next, to, pos);
    *std::prev(to) = moved;
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
        b.cls = j.cls.get();
        add(b, e);
        bucket_list& list = *b.list;
        const head h{e, &b};
        list.insert(std::lower_bound(list.begin(), list.end(), h,
                                     [](const head& a, const head& x) { return before(a.top, x.top); }),
                    h);
    } else {
        const entry old_head = b.front();
        add(b, e);
        if (b.front().j != old_head.j) reorder(*b.list, old_head, b);
    }
    ++size_;
}

void job_index::erase(job& j) {
    auto it = buckets_.find(j.cls.get());
    if (it == buckets_.end()) return;
    bucket& b = *it->second;
    const std::uint32_t pos = j.index_pos;
    auto run_it = b.runs.end();
    if (j.index_in_run) {
        const double band = band_of(j.score);
        run_it = std::find_if(b.runs.begin(), b.runs.end(), [band](const run& r) { return r.band == band; });
        if (run_it == b.runs.end() || !run_it->holds(pos) || run_it->at(pos).j != &j) return;
    } else if (pos >= b.heap.size() || b.heap[pos].j != &j) {
        return;
    }
    --size_;
    const entry old_head = b.front();
    if (run_it == b.runs.end()) erase_from_heap(b, pos);
    else if (remove_from_run(*run_it, pos)) b.runs.erase(run_it);
    bucket_list& list = *b.list;
    if (b.empty()) {
        // Empty buckets go, so the claim cost follows the live classes, not history.
        auto at = std::lower_bound(list.begin(), list.end(), old_head,
                                   [](const head& h, const entry& e) { return before(h.top, e); });
        list.erase(at);
        buckets_.erase(it);
        return;
    }
    if (b.front().j != old_head.j) reorder(list, old_head, b);
}

job* job_index::best_match(std::span<const std::string> keys, const worker_profile& w) const {
    return best_match_if(keys, [&w](const job_class& c) { return passes_requirements(c, w); });
}

std::vector<const job*> job_index::top(std::size_t n) const {
    // Best-first walk of every bucket's runs and heap (in a run each entry follows the one
    // before; in the heap a child never ranks before its parent); explain only, so O(buckets x
    // bands) set-up is fine.
    struct cursor {
        entry e;
        const bucket* b;
        const run* r;   ///< nullptr: a heap entry
        std::size_t i;  ///< heap: the index; run: the logical position
    };
    auto worse = [](const cursor& a, const cursor& b) { return before(b.e, a.e); };
    std::priority_queue<cursor, std::vector<cursor>, decltype(worse)> frontier(worse);
    for (const auto& [cls, b] : buckets_) {
        if (!b->heap.empty()) frontier.push({b->heap.front(), b.get(), nullptr, 0});
        for (const run& r : b->runs) frontier.push({r.front(), b.get(), &r, r.first});
    }
    std::vector<const job*> out;
    while (out.size() < n && !frontier.empty()) {
        const cursor c = frontier.top();
        frontier.pop();
        out.push_back(c.e.j);
        if (c.r) {
            for (std::uint32_t p = static_cast<std::uint32_t>(c.i) + 1; p != c.r->end; ++p) {
                if (!c.r->at(p).j) continue;
                frontier.push({c.r->at(p), c.b, c.r, p});
                break;
            }
            continue;
        }
        const std::size_t first = c.i * kArity + 1;
        for (std::size_t k = first; k < std::min(first + kArity, c.b->heap.size()); ++k)
            frontier.push({c.b->heap[k], c.b, nullptr, k});
    }
    return out;
}

}  // namespace jobrouter
