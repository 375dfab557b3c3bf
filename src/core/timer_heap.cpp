#include "core/timer_heap.hpp"

namespace jobrouter {

void timer_heap::sift_up(std::size_t i) {
    const entry e = heap_[i];
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (!before(e, heap_[parent])) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, e);
}

void timer_heap::sift_down(std::size_t i) {
    const entry e = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
        if (!before(heap_[child], e)) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, e);
}

void timer_heap::fix(std::size_t i) {
    if (i > 0 && before(heap_[i], heap_[(i - 1) / 2])) sift_up(i);
    else sift_down(i);
}

void timer_heap::set(job& j, time_ms at) {
    if (j.timer_pos != job::kNoPos) {
        heap_[j.timer_pos].at = at;
        fix(j.timer_pos);
        return;
    }
    heap_.push_back({at, &j});
    j.timer_pos = static_cast<std::uint32_t>(heap_.size() - 1);
    sift_up(heap_.size() - 1);
}

void timer_heap::clear(job& j) {
    if (j.timer_pos == job::kNoPos) return;
    const std::size_t i = j.timer_pos;
    j.timer_pos = job::kNoPos;
    const entry last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    place(i, last);
    fix(i);
}

}  // namespace jobrouter
