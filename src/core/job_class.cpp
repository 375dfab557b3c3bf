#include "core/job_class.hpp"

#include <array>

namespace jobrouter {

namespace {

constexpr std::array<std::string_view, 3> kHardwareLimits{"gpu_memory_gb", "cpu_cores", "ram_gb"};

result<void> validate_hardware(const json::value& hardware, const std::string& path) {
    if (!hardware.is_object()) return make_error(path, "must be an object, got " + describe(hardware));
    for (auto key : kHardwareLimits) {
        const json::value* v = hardware.get_object().if_contains(key);
        if (!v) continue;
        if (is_number(*v) || (v->is_string() && v->get_string() == "all")) continue;
        return make_error(path + "." + std::string(key), "must be a number or \"all\", got " + describe(*v));
    }
    return {};
}

result<void> validate_object_with_hardware(const json::value& v, const std::string& path) {
    if (!v.is_object()) return make_error(path, "must be an object, got " + describe(v));
    if (const json::value* hw = v.get_object().if_contains("hardware")) return validate_hardware(*hw, path + ".hardware");
    return {};
}

}  // namespace

result<void> validate_requirements(const json::value& requirements, const std::string& path) {
    if (!requirements.is_object()) return make_error(path, "must be an object, got " + describe(requirements));
    const json::object& req = requirements.get_object();
    if (const json::value* positive = req.if_contains("positive_requirements")) {
        // With positive_requirements, every other top-level key but negative_requirements is
        // ignored by matching, so it is not validated either (trace-format.md "Types").
        if (auto r = validate_object_with_hardware(*positive, path + ".positive_requirements"); !r) return r;
    } else if (const json::value* hw = req.if_contains("hardware")) {
        if (auto r = validate_hardware(*hw, path + ".hardware"); !r) return r;
    }
    if (const json::value* negative = req.if_contains("negative_requirements"))
        return validate_object_with_hardware(*negative, path + ".negative_requirements");
    return {};
}

std::string job_class_signature(std::string_view service_required, std::string_view customer_id,
                                std::string_view workflow_id, const json::object& requirements) {
    // Length-prefixed, so that no two different (service, customer, workflow) triples
    // spell the same signature.
    std::string signature;
    auto add = [&signature](std::string_view s) {
        signature += std::to_string(s.size());
        signature += ':';
        signature += s;
    };
    add(service_required);
    add(customer_id);
    add(workflow_id);
    signature += json::serialize(requirements);
    return signature;
}

job_class make_job_class(std::string service_required, std::string customer_id, std::string workflow_id,
                         json::object requirements) {
    job_class c;
    if (const json::value* positive = requirements.if_contains("positive_requirements")) {
        c.positive = positive->get_object();
    } else {
        c.positive = requirements;
        c.positive.erase("negative_requirements");
    }
    if (const json::value* negative = requirements.if_contains("negative_requirements")) c.negative = negative->get_object();

    c.signature = job_class_signature(service_required, customer_id, workflow_id, requirements);

    c.service_required = std::move(service_required);
    c.customer_id = std::move(customer_id);
    c.workflow_id = std::move(workflow_id);
    c.requirements = std::move(requirements);
    c.compiled = compile_requirements(c.positive, c.negative);
    return c;
}

}  // namespace jobrouter
