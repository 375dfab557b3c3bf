#include "bench/emp_scan.hpp"

#include "bench/claim_bench.hpp"
#include "bench/scenario.hpp"

#include "core/job_index.hpp"
#include "core/matcher.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace jobrouter::bench {

namespace {

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class emp_scan_store final : public bench_store {
public:
    emp_scan_store(const store_context& ctx, std::size_t max_scan) : strategy_(ctx.strat), max_scan_(max_scan) {}

    // The jobs live in this process's memory, like the memory store's; the row's scenario
    // name ("emp-scan", ".../emp-scan") says which algorithm answered.
    std::string_view name() const override { return "memory"; }
    void advance(time_ms t) override { now_ = std::max(now_, t); }

    void submit(job_spec spec) override {
        job j;
        j.id = spec.id;
        j.score = job_score(spec, now_);
        j.cls = intern(make_job_class(std::move(spec.service_required), std::move(spec.customer_id),
                                      std::move(spec.workflow_id), std::move(spec.requirements)));
        j.priority = spec.priority;
        j.payload = std::move(spec.payload);
        j.created_at = now_;
        auto [it, inserted] = jobs_.emplace(j.id, std::move(j));
        if (!inserted) throw std::runtime_error("submit: duplicate job id " + it->first);
        queue_.insert(&it->second);
    }

    void register_worker(worker_capabilities caps) override {
        std::string id = caps.worker_id;
        workers_.insert_or_assign(std::move(id), std::move(caps));
    }

    std::string_view claim(std::string_view worker_id) override {
        auto w = workers_.find(worker_id);
        if (w == workers_.end()) throw std::runtime_error("claim: unknown worker " + std::string(worker_id));
        const worker_capabilities& caps = w->second;
        const auto keys = strategy_.offered_keys(caps);
        auto it = queue_.begin();
        for (std::size_t n = 0; n < max_scan_ && it != queue_.end(); ++n, ++it) {
            if (find_rejection(*(*it)->cls, caps, keys, false)) continue;
            job* j = *it;
            queue_.erase(it);
            j->status = job_status::assigned;
            return j->id;
        }
        return {};
    }

    void complete(std::string_view job_id) override {
        auto it = jobs_.find(job_id);
        if (it == jobs_.end()) throw std::runtime_error("complete: unknown job " + std::string(job_id));
        jobs_.erase(it);
    }

    std::size_t pending() const override { return queue_.size(); }

    void for_each_pending(const std::function<void(const job_class&)>& f) const override {
        for (const job* j : queue_) f(*j->cls);
    }

private:
    struct rank_order {
        bool operator()(const job* a, const job* b) const { return ranks_before(*a, *b); }
    };

    class_ref intern(job_class c) {
        auto [it, inserted] = classes_.try_emplace(c.signature);
        if (inserted) it->second = class_ref(new job_class(std::move(c)));
        return it->second;
    }

    const strategy& strategy_;
    std::size_t max_scan_;
    time_ms now_ = 0;
    std::unordered_map<std::string, class_ref> classes_;
    std::unordered_map<std::string, job, string_hash, std::equal_to<>> jobs_;
    std::unordered_map<std::string, worker_capabilities, string_hash, std::equal_to<>> workers_;
    std::set<job*, rank_order> queue_;
};

// The baseline on the claim-steady workload; head-of-line runs it on its own workload.
class emp_scan_scenario final : public scenario {
public:
    std::string_view name() const override { return "emp-scan"; }
    std::string_view description() const override {
        return "EMP's algorithm (top max_scan jobs in rank order, first fit, rules per job) on the claim-steady "
               "workload; op = claim + complete";
    }
    int order() const override { return 60; }

    std::vector<bench_row> run(const bench_context& ctx) const override {
        const workload w(workload_options_of(ctx.config));
        const std::size_t max_scan = ctx.config.max_scan;
        auto make = [max_scan](const store_context& sc) { return make_emp_scan_store(sc, max_scan); };
        claim_outcome o = run_claim_workload(ctx, w, ctx.config.strategy, make, {"emp-scan", ctx.config.jobs, false, false});
        o.row.metrics.push_back({"max_scan", static_cast<double>(max_scan)});
        return {o.row};
    }

    void add_checks(std::span<const bench_row> rows, std::vector<target_check>& out) const override {
        const bench_row* emp = nullptr;
        for (const bench_row& r : rows)
            if (r.scenario == "emp-scan") emp = &r;
        if (!emp) return;
        for (const bench_row& r : rows)
            if (r.scenario == "claim-steady" && r.strategy == emp->strategy)
                out.push_back({"claim-steady / emp-scan jobs claimed per second (" + r.store + ", info)",
                               r.get("matched_per_s") / emp->get("matched_per_s"), NAN});
    }
};

JOBROUTER_BENCH_SCENARIO(emp_scan_scenario);

}  // namespace

std::unique_ptr<bench_store> make_emp_scan_store(const store_context& ctx, std::size_t max_scan) {
    return std::make_unique<emp_scan_store>(ctx, max_scan);
}

}  // namespace jobrouter::bench
