#include "bench/store.hpp"

#include "core/scheduler.hpp"

#include <stdexcept>

namespace jobrouter::bench {

namespace {

class memory_store final : public bench_store {
public:
    explicit memory_store(const store_context& ctx) : scheduler_(ctx.mapping, ctx.strat) {}

    std::string_view name() const override { return "memory"; }
    void advance(time_ms t) override { scheduler_.advance(t); }

    void submit(job_spec spec) override {
        if (auto r = scheduler_.submit(std::move(spec)); !r) throw std::runtime_error("submit: " + r.error().text());
    }

    void register_worker(worker_capabilities caps) override {
        if (auto r = scheduler_.register_worker(std::move(caps)); !r)
            throw std::runtime_error("register: " + r.error().text());
    }

    std::string_view claim(std::string_view worker_id) override {
        auto r = scheduler_.claim(worker_id);
        if (!r) throw std::runtime_error("claim: " + r.error().text());
        return *r ? std::string_view((*r)->id) : std::string_view{};
    }

    void complete(std::string_view job_id) override {
        if (auto r = scheduler_.complete(job_id); !r) throw std::runtime_error("complete: " + r.error().text());
    }

    std::size_t pending() const override { return scheduler_.pending_count(); }

    void for_each_pending(const std::function<void(const job_class&)>& f) const override {
        scheduler_.for_each_job([&](const job& j) {
            if (j.status == job_status::pending) f(*j.cls);
        });
    }

private:
    scheduler scheduler_;
};

// The memory store is always first; other stores append themselves at start-up.
std::vector<store_entry>& store_registry() {
    static std::vector<store_entry> entries{{"memory", make_memory_store}};
    return entries;
}

}  // namespace

void bench_store::claim_each(std::span<const std::string> worker_ids, std::vector<std::string>& ids) {
    ids.clear();
    for (const std::string& w : worker_ids) ids.emplace_back(claim(w));
}

void bench_store::complete_each(std::span<const std::string> job_ids) {
    for (const std::string& id : job_ids) complete(id);
}

std::unique_ptr<bench_store> make_memory_store(const store_context& ctx) { return std::make_unique<memory_store>(ctx); }

void register_store(store_entry e) { store_registry().push_back(std::move(e)); }

std::vector<const store_entry*> registered_stores() {
    std::vector<const store_entry*> out;
    for (const store_entry& e : store_registry()) out.push_back(&e);
    return out;
}

}  // namespace jobrouter::bench
