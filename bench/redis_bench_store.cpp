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

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

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
    void advance(time_ms t) override {
        store_->advance(t);
        now_ = std::max(now_, t);
    }

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

    // Pipelined: every claim is sent before the first reply is read, so the calls are in flight
    // together on the one connection (Redis still runs each FCALL alone, atomically). The FCALLs
    // are the ones redis_store::claim/complete make; their replies are checked here.
    void claim_each(std::span<const std::string> worker_ids, std::vector<std::string>& ids) override {
        if (emp_scan_ || worker_ids.size() < 2) return bench_store::claim_each(worker_ids, ids);
        const std::string now = std::to_string(now_);
        commands_.clear();
        for (const std::string& w : worker_ids) commands_.push_back({"FCALL", "jobrouter_claim", "0", now, w});
        const std::vector<redis::reply> replies = store_->conn().pipeline(commands_);
        ids.clear();
        for (std::size_t i = 0; i < replies.size(); ++i) {
            check_ok("jobrouter_claim", worker_ids[i], replies[i]);
            ids.push_back(replies[i].elements.size() > 1 ? replies[i].elements[1].text() : "");
        }
    }

    void complete_each(std::span<const std::string> job_ids) override {
        if (job_ids.size() < 2) return bench_store::complete_each(job_ids);
        const std::string now = std::to_string(now_);
        commands_.clear();
        for (const std::string& id : job_ids) commands_.push_back({"FCALL", "jobrouter_complete", "0", now, id, "null"});
        const std::vector<redis::reply> replies = store_->conn().pipeline(commands_);
        for (std::size_t i = 0; i < replies.size(); ++i) check_ok("jobrouter_complete", job_ids[i], replies[i]);
    }

    std::size_t pending() const override { return store_->pending_count(); }

    std::optional<std::size_t> external_bytes() const override {
        const std::string info = store_->conn().command({"INFO", "memory"}).text();
        const std::string key = "used_memory:";
        const auto at = info.find(key);
        if (at == std::string::npos) return std::nullopt;
        return static_cast<std::size_t>(std::stoull(info.substr(at + key.size())));
    }

    std::optional<double> server_cpu_seconds() const override {
        const std::string info = store_->conn().command({"INFO", "cpu"}).text();
        double total = 0;
        int found = 0;
        for (const char* key : {"used_cpu_sys_main_thread:", "used_cpu_user_main_thread:"}) {
            const auto at = info.find(key);
            if (at == std::string::npos) continue;
            total += std::stod(info.substr(at + std::char_traits<char>::length(key)));
            ++found;
        }
        if (found != 2) return std::nullopt;
        return total;
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
    static void check_ok(std::string_view function, std::string_view subject, const redis::reply& r) {
        if (r.is_array() && !r.elements.empty() && r.elements[0].text() == "ok") return;
        const std::string got = r.is_array() && !r.elements.empty() ? r.elements[0].text() : "a reply that is not a status array";
        throw std::runtime_error(std::string(function) + " " + std::string(subject) + ": expected ok, got " + got);
    }

    const strategy& strategy_;
    std::optional<std::size_t> emp_scan_;
    std::unique_ptr<redis::local_server> server_;
    // Mutable: for_each_pending is const in the interface but talks to Redis.
    mutable std::optional<redis::redis_store> store_;
    mutable std::unordered_map<std::string, std::unique_ptr<job_class>> classes_;
    std::unordered_map<std::string, worker_capabilities> workers_;
    std::string last_;
    time_ms now_ = 0;
    std::vector<std::vector<std::string>> commands_;
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
