// store: where the bench's jobs live and who answers claims. `memory` is the core scheduler
// (src/core/scheduler.hpp) used through its public API; the Redis store will register itself
// here too (JOBROUTER_BENCH_STORE), and every scenario then gets a row for it.
//
// The EMP baseline (emp_scan.hpp) implements the same interface, so a scenario drives the
// index and the baseline with the very same code and data.
#pragma once

#include "core/job.hpp"
#include "core/job_class.hpp"
#include "core/service_mapping.hpp"
#include "core/worker.hpp"
#include "strategies/strategy.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter::bench {

class bench_store {
public:
    virtual ~bench_store() = default;

    /// The "store" column of the rows it produces.
    virtual std::string_view name() const = 0;
    /// Moves the virtual clock (never back).
    virtual void advance(time_ms t) = 0;
    /// Throws std::runtime_error when the job is rejected (a bench bug, not a measurement).
    virtual void submit(job_spec spec) = 0;
    virtual void register_worker(worker_capabilities caps) = 0;
    /// The id of the job now assigned to the worker, or "" when nothing matches. The view stays
    /// valid until the job is completed.
    virtual std::string_view claim(std::string_view worker_id) = 0;
    virtual void complete(std::string_view job_id) = 0;
    /// Claims for each of `worker_ids` (distinct workers) as if they all asked at once, and puts
    /// each claimed job's id, or "", in `ids`. A store that can keep several calls in flight
    /// (redis: pipelined on its connection) does so; the default claims one at a time.
    virtual void claim_each(std::span<const std::string> worker_ids, std::vector<std::string>& ids);
    /// Completes each job of `job_ids` (all assigned), as claim_each.
    virtual void complete_each(std::span<const std::string> job_ids);
    virtual std::size_t pending() const = 0;
    /// Calls f with the class of every pending job (unreached-job counts).
    virtual void for_each_pending(const std::function<void(const job_class&)>& f) const = 0;
    /// Bytes the store's data takes outside this process (a Redis server's used_memory), or
    /// nullopt when the data lives in this process (the memory scenario then measures its RSS).
    virtual std::optional<std::size_t> external_bytes() const { return std::nullopt; }
    /// CPU seconds the store's server has used so far (a Redis server's main thread, INFO cpu),
    /// or nullopt when the store runs in this process.
    virtual std::optional<double> server_cpu_seconds() const { return std::nullopt; }
};

/// What a store is built with. Both must outlive the store.
struct store_context {
    const service_mapping& mapping;
    const strategy& strat;
};

struct store_entry {
    std::string name;
    std::function<std::unique_ptr<bench_store>(const store_context&)> make;
};

void register_store(store_entry e);
/// Every registered store, in registration order ("memory" first).
std::vector<const store_entry*> registered_stores();

/// The core scheduler behind the bench_store interface (the `memory` store).
std::unique_ptr<bench_store> make_memory_store(const store_context& ctx);

template <class F>
struct store_registrar {
    store_registrar(std::string name, F make) { register_store({std::move(name), std::move(make)}); }
};

#define JOBROUTER_BENCH_STORE(ID, NAME, FACTORY) \
    static const ::jobrouter::bench::store_registrar jobrouter_bench_store_##ID { NAME, FACTORY }

}  // namespace jobrouter::bench
