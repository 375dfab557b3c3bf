#include "server/redis_explain.hpp"

#include "core/json_util.hpp"

#include <algorithm>

namespace jobrouter {

namespace json = boost::json;

namespace {

api_error store_error(std::string what) { return api_error{500, "store_error", std::move(what)}; }

// A stored JSON array of strings (a worker's services or job_types).
std::vector<std::string> string_list(const std::string& text) {
    std::vector<std::string> out;
    auto v = parse_strict(text.empty() ? "[]" : text);
    if (v && v->is_array())
        for (const auto& s : v->get_array())
            if (s.is_string()) out.emplace_back(s.get_string());
    return out;
}

}  // namespace

api_result<worker_roster> parse_worker_roster(const redis::reply& r, const service_mapping& mapping) {
    constexpr std::size_t kFields = 6;  // id, capabilities, serve_kind, busy, services, job_types
    if (!r.is_array() || r.elements.empty() || (r.elements.size() - 1) % kFields != 0)
        return store_error("jobrouter function jobrouter_serve_capabilities: unexpected reply");
    worker_roster roster;
    roster.generation = r.elements[0].text();
    for (std::size_t i = 1; i + kFields <= r.elements.size(); i += kFields) {
        const std::string id = r.elements[i].text();
        const std::string where = "worker:" + id + " capabilities: ";
        auto raw = parse_strict(r.elements[i + 1].text());
        if (!raw) return store_error(where + raw.error().text());
        auto caps = parse_worker(*raw, mapping, "worker");
        if (!caps) return store_error(where + caps.error().text());
        // What the claim in Lua offers: the keys resolved when the worker registered.
        caps->services = string_list(r.elements[i + 4].text());
        caps->job_types = string_list(r.elements[i + 5].text());
        const std::string kind = r.elements[i + 2].text();
        roster.workers.push_back({std::move(*caps), kind.empty() ? "external" : kind, r.elements[i + 3].integer != 0});
    }
    return roster;
}

api_result<job_class> stored_job_class(std::string service_required, std::string customer_id, std::string workflow_id,
                                       const std::string& requirements, const std::string& where) {
    json::object req;
    if (!requirements.empty()) {
        auto v = parse_strict(requirements);
        if (!v || !v->is_object())
            return store_error(where + " requirements: " + (v ? "not a JSON object, got " + describe(*v) : v.error().text()));
        req = std::move(v->get_object());
    }
    return make_job_class(std::move(service_required), std::move(customer_id), std::move(workflow_id), std::move(req));
}

bool anyone_can_take(const worker_roster& roster, const job_class& c, const strategy& strat) {
    return std::any_of(roster.workers.begin(), roster.workers.end(), [&](const worker_roster::entry& w) {
        return !find_rejection(c, w.caps, strat.offered_keys(w.caps), false);
    });
}

std::vector<worker_verdict> judge_roster(const worker_roster& roster, const job_class& c, const strategy& strat) {
    std::vector<worker_verdict> out;
    out.reserve(roster.workers.size());
    for (const auto& w : roster.workers) out.push_back(judge_worker(c, w.caps, w.busy, strat));
    return out;
}

void routability_cache::replace(worker_roster roster) {
    roster_ = std::move(roster);
    by_signature_.clear();
}

void routability_cache::clear() {
    roster_.reset();
    by_signature_.clear();
}

const std::string* routability_cache::unroutable_verdict(const std::string& signature,
                                                         const std::function<job_class()>& make_class, const strategy& strat) {
    if (!roster_) return nullptr;
    auto it = by_signature_.find(signature);
    if (it == by_signature_.end()) {
        if (by_signature_.size() >= kMaxClasses) by_signature_.clear();
        const job_class c = make_class();
        std::optional<std::string> verdict;
        if (!anyone_can_take(*roster_, c, strat))
            verdict = explain_verdict(job_status::pending, "", c.service_required, judge_roster(*roster_, c, strat), strat);
        it = by_signature_.emplace(signature, std::move(verdict)).first;
    }
    return it->second ? &*it->second : nullptr;
}

}  // namespace jobrouter
