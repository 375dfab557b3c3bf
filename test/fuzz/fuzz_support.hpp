// fuzz_support: what the fuzz targets share: the embedded default mapping, the two strategies,
// a fixed environment, and a check that aborts (so libFuzzer reports a crash) when a property
// the code promises does not hold.
#pragma once

#include "core/embedded_mapping.hpp"
#include "core/service_mapping.hpp"
#include "strategies/strategy_registry.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

namespace jobrouter::fuzz {

/// Aborts with `what` when `ok` is false: a broken promise is a crash for libFuzzer.
inline void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz property violated: %s\n", what);
        std::abort();
    }
}

/// A fixed environment: a few variables set (one empty), the rest unset.
inline std::optional<std::string> fixed_env(const std::string& name) {
    if (name == "HOME") return std::string("/home/fuzz");
    if (name == "EMPTY") return std::string();
    if (name == "SIMULATION_HTTP_PORT") return std::string("8299");
    return std::nullopt;
}

/// config/service-mapping.json as compiled in; loaded once.
inline const service_mapping& default_mapping() {
    static const service_mapping m = [] {
        auto loaded = load_mapping(kEmbeddedMapping, kEmbeddedMappingName, fixed_env);
        require(loaded.has_value(), "the embedded mapping loads");
        return std::move(*loaded);
    }();
    return m;
}

inline std::unique_ptr<strategy> build_strategy(const char* name) {
    auto s = make_strategy(name);
    require(s.has_value(), "the strategy exists");
    return std::move(*s);
}

/// The two strategies, built once.
inline const strategy& job_type() {
    static const std::unique_ptr<strategy> s = build_strategy("job-type");
    return *s;
}
inline const strategy& service_name() {
    static const std::unique_ptr<strategy> s = build_strategy("service-name");
    return *s;
}

}  // namespace jobrouter::fuzz
