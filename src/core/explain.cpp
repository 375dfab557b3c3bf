#include "core/explain.hpp"

#include "core/json_util.hpp"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

namespace jobrouter {

namespace {

std::string count_of(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The verdict of a pending (or retrying) job, from the per-worker answers.
std::string pending_verdict(std::string_view service_required, std::span<const worker_verdict> workers, const strategy& strat) {
    if (workers.empty()) return "no worker is registered";
    const std::string what = strat.name() == "service-name" ? "service" : "job type";
    std::size_t matching = 0, busy = 0, offering = 0;
    for (const auto& v : workers) {
        if (v.matches()) {
            ++matching;
            if (v.busy) ++busy;
        }
        if (offers(strat.offered_keys(*v.caps), service_required)) ++offering;
    }
    if (matching > 0) {
        std::string out = count_of(matching, "worker", "workers") + " could run it; ";
        if (busy == matching) return out + (matching == 1 ? "it is busy" : "all busy");
        return out + std::to_string(matching - busy) + " not busy (each takes the best-ranked job it matches at its next claim)";
    }
    if (offering == 0) {
        std::set<std::string> keys;
        for (const auto& v : workers)
            for (const auto& k : strat.offered_keys(*v.caps)) keys.insert(k);
        std::string list;
        for (const auto& k : keys) list += (list.empty() ? "" : ", ") + quoted(k);
        return "no registered worker offers " + what + " " + quoted(service_required) + " (" +
               (keys.empty() ? std::string("they offer none") : "they offer " + list) + ")";
    }
    // Some offer the key, none passes the requirements: group them by the rule that fails.
    std::vector<std::pair<std::string, std::string>> by_rule;  // rule -> worker ids, in first-seen order
    for (const auto& v : workers) {
        if (!v.why || v.why->rule == "R2") continue;
        auto it = std::find_if(by_rule.begin(), by_rule.end(), [&](const auto& e) { return e.first == v.why->rule; });
        if (it == by_rule.end()) by_rule.emplace_back(std::string(v.why->rule), v.caps->worker_id);
        else it->second += ", " + v.caps->worker_id;
    }
    std::string rules;
    for (const auto& [rule, ids] : by_rule)
        rules += (rules.empty() ? "" : "; ") + rule + " " + std::string(rule_title(rule)) + " (" + ids + ")";
    return "no registered worker meets the job's requirements: " + count_of(offering, "worker offers", "workers offer") + " " +
           what + " " + quoted(service_required) + (offering == 1 ? " but fails " : " but fail ") + rules;
}

}  // namespace

worker_verdict judge_worker(const job_class& c, const worker_capabilities& caps, bool busy, const strategy& strat) {
    return worker_verdict{&caps, find_rejection(c, caps, strat.offered_keys(caps), true), busy};
}

std::string explain_verdict(job_status status, std::string_view holder, std::string_view service_required,
                            std::span<const worker_verdict> workers, const strategy& strat) {
    const std::string name(to_string(status));
    switch (status) {
    case job_status::assigned: return "job is " + name + " to worker " + quoted(holder);
    case job_status::in_progress: return "job is " + name + " on worker " + quoted(holder);
    case job_status::completed:
    case job_status::failed:
    case job_status::cancelled: return "job is " + name + "; nothing to route";
    case job_status::retrying:
        return "job is retrying (waiting out its back-off); then: " + pending_verdict(service_required, workers, strat);
    case job_status::pending: break;
    }
    return pending_verdict(service_required, workers, strat);
}

std::optional<job_status> parse_job_status(std::string_view s) {
    for (job_status st : {job_status::pending, job_status::assigned, job_status::in_progress, job_status::retrying,
                          job_status::completed, job_status::failed, job_status::cancelled})
        if (to_string(st) == s) return st;
    return std::nullopt;
}

std::string_view rule_title(std::string_view rule) {
    if (rule == "R1") return "workflow";
    if (rule == "R2") return "service";
    if (rule == "R3a") return "hardware";
    if (rule == "R3b") return "isolation";
    if (rule == "R3c") return "customer";
    if (rule == "R3d") return "models";
    if (rule == "R3e") return "capability";
    if (rule == "R4") return "negative";
    return "rule";
}

}  // namespace jobrouter
