// sorted_ids: the ids of the jobs a worker holds, in ascending order (deterministic replays),
// as a sorted vector: a worker holds a job or two, so a claim and its complete cost a short
// binary search and no allocation (short ids stay in std::string's inline buffer), where a
// std::set<std::string> allocated a node for each. Reads like that set (begin/end, count,
// empty, size) and converts to one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter {

class sorted_ids {
public:
    using const_iterator = std::vector<std::string>::const_iterator;

    /// Adds an id; false when it was there already.
    bool insert(std::string_view id) {
        auto it = lower(id);
        if (it != ids_.end() && *it == id) return false;
        ids_.emplace(it, id);
        return true;
    }
    /// Removes an id; returns how many were removed (0 or 1).
    std::size_t erase(std::string_view id) {
        auto it = lower(id);
        if (it == ids_.end() || *it != id) return 0;
        ids_.erase(it);
        return 1;
    }
    std::size_t count(std::string_view id) const {
        auto it = std::lower_bound(ids_.begin(), ids_.end(), id, [](const std::string& a, std::string_view b) { return a < b; });
        return it != ids_.end() && *it == id ? 1 : 0;
    }
    bool empty() const noexcept { return ids_.empty(); }
    std::size_t size() const noexcept { return ids_.size(); }
    const_iterator begin() const noexcept { return ids_.begin(); }
    const_iterator end() const noexcept { return ids_.end(); }
    operator std::set<std::string>() const { return {ids_.begin(), ids_.end()}; }

private:
    std::vector<std::string>::iterator lower(std::string_view id) {
        return std::lower_bound(ids_.begin(), ids_.end(), id, [](const std::string& a, std::string_view b) { return a < b; });
    }
    std::vector<std::string> ids_;
};

}  // namespace jobrouter
