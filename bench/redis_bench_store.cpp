// The `redis` store: every claim goes through the jobrouter Functions library
// (src/redis/jobrouter.lua) on a private redis-server that the store starts on a free loopback
// port and stops when it is destroyed (redis::local_server), so a row never depends on a Redis
// someone else runs. Each call is one synchronous round trip over loopback, as a server's
// claim would be.
//
// With `emp_scan` set, claims use jobrouter_emp_claim instead: EMP's algorithm (the top
// max_scan of jobs:pending, first fit, rules per job) in Lua over the same keys, so the
// head-of-line comparison in Redis is Lua against Lua (redis_head_of_line.cpp).
#include "bench/redis_bench_store.hpp"

#include "redis/function_library.hpp"
#include "redis/local_server.hpp"
#include "redis/redis_store.hpp"

#include <stdexcept>
#include <unordered_map>

namespace jobrouter::bench {

namespace {

class redis_bench_store final : public bench_store {
public:
    redis_bench_store(const store_context& ctx, std::optional<std::size_t> emp_scan) : strategy_(ctx.strat), emp_scan_(emp_scan) {
        auto server = redis::local_server::start();
        if (!server) throw std::runtime_error("redis store: " + server.error().text());
        server_ = std::move(*server);
        redis::connection c = server_->connect(0);
        if (auto loaded = redis::load_function_library(c); !loaded) throw std::runtime_error(loaded.error().text());
        store_.emplace(std::move(c), ctx.mapping, ctx.strat, scheduler_options{});
    }

    std::string_view name() const override { return "redis"; }
    void advance(time_ms t) override { store_->advance(t); }

    void submit(job_spec spec) override {
        if (auto r = store_->submit(spec); !r) throw std::runtime_error("submit: " + r.error().text());
    }

    void register_worker(worker_capabilities caps) override {
        if (auto r = store_->register_worker(caps); !r) throw std::runtime_error("register: " + r.error().text());
        std::string id = caps.worker_id;
        workers_.insert_or_assign(std::move(id), std::move(caps));
    }

    std::string_view claim(std::string_view worker_id) override {
        if (emp_scan_) {
            auto w = workers_.find(std::string(worker_id));
            if (w == workers_.end()) throw std::runtime_error("claim: unknown worker " + std::string(worker_id));
            last_ = store_->emp_claim(w->second, *emp_scan_).value_or("");
            return last_;
        }
        auto r = store_->claim(worker_id);
        if (!r) throw std::runtime_error("claim: " + r.error().text());
        last_ = r->value_or("");
        return last_;
    }

    void complete(std::string_view job_id) override {
        if (auto r = store_->complete(job_id, nullptr); !r) throw std::runtime_error("complete: " + r.error().text());
    }

    std::size_t pending() const override { return store_->pending_count(); }

    std::optional<std::size_t> external_bytes() const override {
        const std::string info = store_->conn().command({"INFO", "memory"}).text();
        const std::string key = "used_memory:";
        const auto at = info.find(key);
        if (at == std::string::npos) return std::nullopt;
        return static_cast<std::size_t>(std::stoull(info.substr(at + key.size())));
    }

    void for_each_pending(const std::function<void(const job_class&)>& f) const override {
        // Classes are interned by signature, so count_matchable_pending evaluates each once.
        redis::connection& c = store_->conn();
        const redis::reply ids = c.command({"ZRANGE", "jobs:pending", "0", "-1"});
        for (const redis::reply& id : ids.elements) {
            const redis::reply f4 =
                c.command({"HMGET", "job:" + id.str, "service_required", "customer_id", "workflow_id", "requirements"});
            auto req = json::parse(f4.elements[3].str);
            job_class cls = make_job_class(f4.elements[0].str, f4.elements[1].str, f4.elements[2].str, req.as_object());
            auto [it, fresh] = classes_.try_emplace(cls.signature);
            if (fresh) it->second = std::make_unique<job_class>(std::move(cls));
            f(*it->second);
        }
    }

private:
    const strategy& strategy_;
    std::optional<std::size_t> emp_scan_;
    std::unique_ptr<redis::local_server> server_;
    // Mutable: for_each_pending is const in the interface but talks to Redis.
    mutable std::optional<redis::redis_store> store_;
    mutable std::unordered_map<std::string, std::unique_ptr<job_class>> classes_;
    std::unordered_map<std::string, worker_capabilities> workers_;
    std::string last_;
};

}  // namespace

std::unique_ptr<bench_store> make_redis_store(const store_context& ctx) {
    return std::make_unique<redis_bench_store>(ctx, std::nullopt);
}

std::unique_ptr<bench_store> make_redis_emp_scan_store(const store_context& ctx, std::size_t max_scan) {
    return std::make_unique<redis_bench_store>(ctx, max_scan);
}

JOBROUTER_BENCH_STORE(redis, "redis", make_redis_store);

}  // namespace jobrouter::bench
