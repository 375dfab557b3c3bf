// The memory scheduler behind replay_store: every call goes straight to the scheduler.
#include "app/replay_store.hpp"

namespace jobrouter {

namespace {

class memory_replay_store final : public replay_store {
public:
    memory_replay_store(const service_mapping& mapping, const strategy& strat, scheduler_options options)
        : sched_(mapping, strat, options) {}

    void advance(time_ms t) override { sched_.advance(t); }
    result<void> submit(job_spec spec) override {
        auto r = sched_.submit(std::move(spec));
        if (!r) return r.error();
        return {};
    }
    result<void> register_worker(worker_capabilities caps) override { return sched_.register_worker(std::move(caps)); }
    result<void> unregister_worker(std::string_view id) override { return sched_.unregister_worker(id); }
    result<std::optional<std::string>> claim(std::string_view worker_id) override {
        auto r = sched_.claim(worker_id);
        if (!r) return r.error();
        if (!*r) return std::optional<std::string>();
        return std::optional<std::string>((*r)->id);
    }
    result<void> complete(std::string_view id, json::value job_result) override { return sched_.complete(id, std::move(job_result)); }
    result<void> fail(std::string_view id, bool retryable, json::value job_error) override {
        return sched_.fail(id, retryable, std::move(job_error));
    }
    result<void> cancel(std::string_view id) override { return sched_.cancel(id); }
    result<void> heartbeat(std::string_view worker_id) override { return sched_.heartbeat(worker_id); }
    result<std::vector<claim_rejection>> explain_claim(std::string_view worker_id, std::size_t n) override {
        auto r = sched_.explain_claim(worker_id, n);
        if (!r) return r.error();
        std::vector<claim_rejection> out;
        for (const explained_job& e : *r) out.push_back({e.j->id, std::string(e.why.rule), e.why.detail});
        return out;
    }

private:
    scheduler sched_;
};

}  // namespace

std::unique_ptr<replay_store> make_memory_replay_store(const service_mapping& mapping, const strategy& strat,
                                                       scheduler_options options) {
    return std::make_unique<memory_replay_store>(mapping, strat, options);
}

}  // namespace jobrouter
