// The Redis store behind replay_store (src/redis/redis_store.hpp); Redis failures throw
// redis::redis_error, which the replay command reports.
#include "app/replay_store.hpp"

#include "redis/redis_store.hpp"

namespace jobrouter {

namespace {

class redis_replay_store final : public replay_store {
public:
    explicit redis_replay_store(redis::redis_store& store) : store_(store) {}

    void advance(time_ms t) override { store_.advance(t); }
    result<void> submit(job_spec spec) override { return store_.submit(spec); }
    result<void> register_worker(worker_capabilities caps) override { return store_.register_worker(caps); }
    result<void> unregister_worker(std::string_view id) override { return store_.unregister_worker(id); }
    result<std::optional<std::string>> claim(std::string_view worker_id) override { return store_.claim(worker_id); }
    result<void> complete(std::string_view id, json::value job_result) override { return store_.complete(id, job_result); }
    result<void> fail(std::string_view id, bool retryable, json::value job_error) override {
        return store_.fail(id, retryable, job_error);
    }
    result<void> cancel(std::string_view id) override { return store_.cancel(id); }
    result<void> heartbeat(std::string_view worker_id) override { return store_.heartbeat(worker_id); }
    result<std::vector<claim_rejection>> explain_claim(std::string_view worker_id, std::size_t n) override {
        auto r = store_.explain_claim(worker_id, n);
        if (!r) return r.error();
        std::vector<claim_rejection> out;
        for (auto& e : *r) out.push_back({std::move(e.job_id), std::move(e.rule), std::move(e.detail)});
        return out;
    }

private:
    redis::redis_store& store_;
};

}  // namespace

std::unique_ptr<replay_store> make_redis_replay_store(redis::redis_store& store) {
    return std::make_unique<redis_replay_store>(store);
}

}  // namespace jobrouter
