// class_requirements: a job class's requirements (matching.md section 3) compiled once, when
// the class is made, into flat fields, so that the claim path never walks the class's JSON.
//
// It answers the same question as the JSON rules in matcher.cpp (passes_requirements), only
// faster; the two must agree for every class and worker (compiled_match_test). find_rejection
// (explain, with rule details) keeps reading the JSON: it is not on the claim path.
#pragma once

#include "core/json_util.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace jobrouter {

/// A requirement on the value at a dotted path of the worker (R3e, R4): the path with its empty
/// segments dropped ("a..b." -> "a.b"), and the required value.
struct path_requirement {
    std::string path;
    json::value required;
};

/// The hardware limits of R3a, in this order.
inline constexpr std::array<std::string_view, 3> kHardwareLimitKeys{"gpu_memory_gb", "cpu_cores", "ram_gb"};

struct class_requirements {
    bool never = false;                    ///< a hardware limit that is neither a number nor "all" (R3a, D3)
    std::uint8_t hardware_mask = 0;        ///< bit i: hardware limit i is a number ...
    std::array<double, 3> hardware_min{};  ///< ... and the worker needs at least this
    bool strict_isolation = false;         ///< R3b
    std::vector<std::string> model_strings;  ///< R3d: the string models ...
    std::vector<json::value> model_others;   ///< ... and any others (deep equality)
    bool needs_models = false;               ///< some model is required (a models array that is not empty)
    std::vector<path_requirement> custom;    ///< R3e, document order
    std::vector<std::pair<std::string, json::value>> negative_hardware;  ///< R4 hardware sub-keys (literal)
    std::vector<path_requirement> negative_custom;                        ///< R4 other keys
};

/// Compiles the positive and negative requirement objects of a class (job_class.hpp).
class_requirements compile_requirements(const json::object& positive, const json::object& negative);

/// "a..b." -> "a.b": a dotted key as matching.md's check() reads it (empty segments dropped).
std::string canonical_path(std::string_view dotted);

}  // namespace jobrouter
