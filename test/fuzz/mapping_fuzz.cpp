// Fuzz target mapping: a service-mapping.json document through load_mapping (both shapes,
// ${VAR} substitution against a fixed environment); an accepted mapping then goes through
// what uses it: check-config's analysis under both strategies (with and without a WORKERS
// value), WORKERS parsing, route resolution for every offered key, and registering a worker
// of each type.
#include "connectors/connector_names.hpp"
#include "core/json_util.hpp"
#include "core/mapping_check.hpp"
#include "core/worker.hpp"
#include "core/workers_spec.hpp"
#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace jobrouter;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = load_mapping(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz-mapping.json",
                          fuzz::fixed_env);
    if (!m) {
        fuzz::require(!m.error().message.empty(), "a rejected mapping says what is wrong");
        return 0;
    }
    const strategy* both[] = {&fuzz::job_type(), &fuzz::service_name()};

    std::string spec;  // every worker type, one each: "a:1,b:1"
    for (const auto& [name, type] : m->workers) {
        spec += (spec.empty() ? "" : ",") + name + ":1";
        for (const strategy* s : both) {
            for (const auto& key : s->offered_keys(type)) (void)s->resolve_route(type, *m, key);
            (void)s->resolve_route(type, *m, "simulation");
        }
        json::object caps{{"worker_id", "fuzz-worker"}, {"worker_type", name}};
        (void)parse_worker(json::value(std::move(caps)), *m, "worker");
    }
    (void)parse_workers_spec(spec, *m, "WORKERS");
    (void)parse_workers_spec("simulation:2, mock:0", *m, "WORKERS");

    check_options options;
    options.strategies.assign(std::begin(both), std::end(both));
    const auto& built = built_in_connector_names();
    options.built_connectors.insert(built.begin(), built.end());
    (void)check_mapping(*m, options);
    options.workers_spec = spec;
    (void)check_mapping(*m, options);
    return 0;
}
