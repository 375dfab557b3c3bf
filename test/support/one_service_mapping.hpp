// one_service_mapping: the smallest mapping the core tests drive the scheduler with: worker type
// "gpu" offering service "svc", which takes job type "x"; no connectors.
#pragma once

#include "core/service_mapping.hpp"

#include <optional>
#include <string>

namespace jobrouter::test {

inline const service_mapping& one_service_mapping() {
    static const service_mapping m =
        load_mapping(R"({"workers":{"gpu":{"services":["svc"],"job_types_accepted":[{"job_type":"x","service":"svc"}]}},"services":{}})",
                     "test.json", [](const std::string&) { return std::nullopt; })
            .value();
    return m;
}

}  // namespace jobrouter::test
