// worker_profile: what matching reads from a worker's capabilities (matching.md section 3),
// extracted once at registration into flat fields: hardware limits as doubles, isolation,
// customer lists, model lists per service, and every dotted path of the capabilities object
// resolved in advance. Together with class_requirements it lets the claim path decide a
// (class, worker) pair without looking anything up in the worker's JSON by key.
#pragma once

#include "core/json_util.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace jobrouter {

struct worker_capabilities;

class worker_profile {
public:
    worker_profile() = default;  ///< matches what a worker without capabilities matches
    explicit worker_profile(const worker_capabilities& caps);

    /// A worker's model list for one service (R3d): `models.<service>`.
    struct model_list {
        bool is_array = false;             ///< a non-array entry matches no model
        std::vector<std::string> strings;  ///< its string items
        json::array items;                 ///< all its items (non-string models compare deeply)
    };

    std::string workflow_id;                 ///< R1: "" when unrestricted
    std::uint8_t hardware_mask = 0;          ///< bit i: hardware.<kHardwareLimitKeys[i]> is a number ...
    std::array<double, 3> hardware{};        ///< ... of this value
    bool strict_isolation = false;           ///< customer_access.isolation == "strict"
    bool has_allowed = false;                ///< customer_access.allowed_customers is an array
    std::vector<std::string> allowed, denied;  ///< their string items
    std::unordered_map<std::string, model_list> models;  ///< only when `models` is an object

    /// The worker's `hardware` object, if it is one (R4 hardware sub-keys are literal keys).
    const json::object* hardware_object() const { return hardware_object_; }
    /// The value at a canonical dotted path (class_requirements.hpp canonical_path), or null:
    /// what matching.md's check() finds for that key.
    const json::value* at(const std::string& path) const {
        auto it = paths_.find(path);
        return it == paths_.end() ? nullptr : it->second;
    }

private:
    void add_paths(const json::value& v, const std::string& prefix);

    std::unique_ptr<json::value> doc_;  ///< a copy of the capabilities; the pointers below point into it
    const json::object* hardware_object_ = nullptr;
    std::unordered_map<std::string, const json::value*> paths_;
};

}  // namespace jobrouter
