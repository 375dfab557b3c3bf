// local_workers: the in-process workers of `jobrouter serve`, built from WORKERS (a parsed
// core/workers_spec.hpp list), the machine id and the capabilities the environment gives them
// (service-mapping.md "Worker ids and WORKERS").
//
// - Ids: `<machine id>-worker-<type>-<index>`, index from 0 per worker type.
// - Capabilities (trace-format.md "Capabilities object"): {"worker_id", "worker_type"} plus
//   what capabilities_config holds: "hardware", "models", "customer_access" and custom fields.
//   Services and job types come from the mapping through worker_type.
// - Refusal (service-mapping.md "Which connector runs a claimed job"): create() refuses a
//   worker type whose routes, under the dispatcher's strategy, lead to a service missing from
//   `services`, a service without a connector, a connector missing from a present `connectors`
//   section, or one this build's registry lacks, naming the worker type, the service and the
//   connector.
//
// Executor: the dispatcher's io_context thread, like the workers. Ownership: a local_workers
// owns its workers; the dispatcher (with its mapping and strategy) must outlive it.
#pragma once

#include "core/error.hpp"
#include "core/service_mapping.hpp"
#include "core/workers_spec.hpp"
#include "server/job_service.hpp"
#include "server/local_worker.hpp"
#include "strategies/strategy.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter {

/// What every in-process worker of this process advertises beyond its id and type. Each field
/// is unset (absent from the capabilities) by default.
struct capabilities_config {
    std::optional<double> gpu_memory_gb;  ///< hardware.gpu_memory_gb   (WORKER_GPU_MEMORY_GB)
    std::optional<double> ram_gb;         ///< hardware.ram_gb          (WORKER_RAM_GB)
    std::optional<std::int64_t> cpu_cores;  ///< hardware.cpu_cores     (WORKER_CPU_CORES)
    std::optional<std::string> gpu_model;   ///< hardware.gpu_model     (WORKER_GPU_MODEL)
    std::optional<std::int64_t> gpu_count;  ///< hardware.gpu_count     (WORKER_GPU_COUNT)
    boost::json::object models;  ///< service_required -> [model, ...]  (WORKER_MODELS)
    std::optional<std::string> customer_isolation;  ///< strict|loose|none (WORKER_CUSTOMER_ISOLATION)
    std::optional<std::vector<std::string>> allowed_customers;  ///< (ALLOWED_CUSTOMERS)
    std::optional<std::vector<std::string>> denied_customers;   ///< (DENIED_CUSTOMERS)
    /// Extra top-level capability fields (WORKER_CAPABILITIES), for custom requirements
    /// (matching.md R3e). Its "hardware", "models" and "customer_access" objects are merged
    /// key by key with the fields above, which win.
    boost::json::object custom;
};

/// Reads capabilities_config from the environment (EMP's names):
///   WORKER_GPU_MEMORY_GB, WORKER_RAM_GB    numbers >= 0
///   WORKER_CPU_CORES, WORKER_GPU_COUNT     whole numbers >= 0
///   WORKER_GPU_MODEL                       any text
///   WORKER_CUSTOMER_ISOLATION              strict | loose | none
///   ALLOWED_CUSTOMERS, DENIED_CUSTOMERS    comma-separated customer ids (items trimmed)
///   WORKER_MODELS                          JSON object, e.g. {"comfyui":["sdxl"]}
///   WORKER_CAPABILITIES                    JSON object of custom fields
/// A variable that is unset or blank is not used (so a blank ALLOWED_CUSTOMERS never becomes an
/// allow-list that admits nobody). A malformed value is an error whose path is the variable
/// and whose message says what is wrong: `WORKER_GPU_MEMORY_GB: must be a number, got "lots"`.
result<capabilities_config> capabilities_config_from_env(const env_lookup& env);

/// `<machine id>-worker-<type>-<index>`.
std::string local_worker_id(std::string_view machine_id, std::string_view worker_type, int index);

/// The capabilities object an in-process worker registers with.
boost::json::object local_worker_capabilities(std::string_view worker_id, std::string_view worker_type,
                                              const capabilities_config& config);

/// Whether serve may start workers of type `t`: every route the strategy can pick for a key
/// the type offers must reach a service of `m` with a connector that is listed in `m`'s
/// `connectors` section (when present) and built into this binary. The error's path is the
/// mapping and the route ("mapping.json: workers.mock.job_service_required_map[0]"); its
/// message names the worker type, the service and the connector.
result<void> check_local_worker_type(const worker_type& t, const service_mapping& m, const strategy& s);

class local_workers {
public:
    /// Validates and builds (nothing is registered yet): every worker type of `counts` must be
    /// in the dispatcher's mapping and pass check_local_worker_type, `machine_id` must be
    /// non-empty, and each worker's capabilities must be valid.
    static result<std::unique_ptr<local_workers>> create(boost::asio::io_context& io, job_service& d,
                                                         const std::vector<worker_count>& counts,
                                                         const std::string& machine_id,
                                                         const capabilities_config& config,
                                                         local_worker::log_fn log = {});
    ~local_workers();
    local_workers(const local_workers&) = delete;
    local_workers& operator=(const local_workers&) = delete;

    /// Registers every worker with the dispatcher and lets each ask for jobs. On an error (an
    /// id already registered, e.g. by an external worker) the workers started so far are
    /// stopped again (see local_worker::stop) and the error names the worker.
    result<void> start_all();
    /// Shutdown: no worker asks for another job (see local_worker::stop). Running jobs go on;
    /// the caller waits for running_jobs() or hands them back (dispatcher.release_local_jobs).
    void stop_all();
    /// How many workers are running a job.
    std::size_t running_jobs() const;

    std::vector<std::string> ids() const;
    const std::vector<std::unique_ptr<local_worker>>& workers() const { return workers_; }

private:
    local_workers() = default;

    std::vector<std::unique_ptr<local_worker>> workers_;
    std::vector<boost::json::object> capabilities_;  ///< workers_[i]'s
};

}  // namespace jobrouter
