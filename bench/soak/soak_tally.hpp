// soak_tally: what the soak driver itself did and saw, shared by its threads: the ids it got
// accepted, the reports the server took (complete, fail, cancel: 200) or refused (409), the
// faults it injected, and every answer that should not have come (a 5xx, a stale report
// accepted, a job completed twice). The checks at the end compare it with the server's counters
// and the event stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace jobrouter::soak {

struct tally {
    std::mutex mutex;
    std::vector<std::string> submitted_ids;                 ///< accepted (201) ids, in order
    std::unordered_map<std::string, int> completes_by_job;  ///< 200 answers to complete, per job
    std::vector<std::string> unexpected;                    ///< first problems, for the report

    /// Jobs a driver worker received from a claim (200) and has not finished with: the rest of
    /// what serve says workers hold was handed to claims whose client hung up.
    std::set<std::string> holding;

    // Counts by name (submit_refused_429, complete_409, fault_vanish, ...), printed as they are.
    std::map<std::string, std::uint64_t> counts;

    void count(const std::string& what, std::uint64_t n = 1) {
        std::lock_guard lock(mutex);
        counts[what] += n;
    }
    void problem(const std::string& what) {
        std::lock_guard lock(mutex);
        ++counts["unexpected"];
        if (unexpected.size() < 30) unexpected.push_back(what);
    }
    void accepted(const std::string& id) {
        std::lock_guard lock(mutex);
        submitted_ids.push_back(id);
        ++counts["submit_accepted"];
    }
    /// A 200 to complete (counted as complete_200 by the caller): a second one for a job is a problem.
    void completed(const std::string& id) {
        std::lock_guard lock(mutex);
        if (++completes_by_job[id] == 2) {
            ++counts["unexpected"];
            if (unexpected.size() < 30) unexpected.push_back("job " + id + " was completed twice (two 200 answers)");
        }
    }
    void hold(const std::string& job_id) {
        std::lock_guard lock(mutex);
        holding.insert(job_id);
    }
    void drop(const std::string& job_id) {
        std::lock_guard lock(mutex);
        holding.erase(job_id);
    }
    bool holds(const std::string& job_id) {
        std::lock_guard lock(mutex);
        return holding.count(job_id) != 0;
    }
    std::uint64_t get(const std::string& what) {
        std::lock_guard lock(mutex);
        auto it = counts.find(what);
        return it == counts.end() ? 0 : it->second;
    }
    std::size_t submitted() {
        std::lock_guard lock(mutex);
        return submitted_ids.size();
    }
    // A random accepted id (for cancels), from the most recent `recent`.
    std::string recent_id(std::uint64_t random, std::size_t recent) {
        std::lock_guard lock(mutex);
        if (submitted_ids.empty()) return {};
        const std::size_t n = std::min(recent, submitted_ids.size());
        return submitted_ids[submitted_ids.size() - 1 - random % n];
    }
};

/// When the actors stop: `load` ends the load phase (submitters, cancellers, faults stop;
/// workers only complete), `all` ends the workers too.
struct phase_flags {
    std::atomic<bool> load_over{false};
    std::atomic<bool> all_over{false};
};

}  // namespace jobrouter::soak
