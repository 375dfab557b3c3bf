#include "core/class_requirements.hpp"

namespace jobrouter {

std::string canonical_path(std::string_view dotted) {
    std::string out;
    while (!dotted.empty()) {
        const std::size_t dot = dotted.find('.');
        const std::string_view segment = dotted.substr(0, dot);
        dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
        if (segment.empty()) continue;
        if (!out.empty()) out += '.';
        out += segment;
    }
    return out;
}

class_requirements compile_requirements(const json::object& positive, const json::object& negative) {
    class_requirements r;
    if (const json::value* hw = positive.if_contains("hardware"); hw && hw->is_object()) {
        for (const auto& kv : hw->get_object()) {
            for (std::size_t i = 0; i < kHardwareLimitKeys.size(); ++i) {
                if (kv.key() != kHardwareLimitKeys[i]) continue;
                const json::value& need = kv.value();
                if (need.is_string() && need.get_string() == "all") break;
                if (!is_number(need)) {
                    r.never = true;
                    break;
                }
                r.hardware_mask |= static_cast<std::uint8_t>(1u << i);
                r.hardware_min[i] = as_double(need);
                break;
            }
        }
    }
    if (const json::value* iso = positive.if_contains("customer_isolation"))
        r.strict_isolation = iso->is_string() && iso->get_string() == "strict";
    if (const json::value* models = positive.if_contains("models"); models && models->is_array()) {
        for (const json::value& m : models->get_array()) {
            if (m.is_string()) r.model_strings.emplace_back(m.get_string());
            else r.model_others.push_back(m);
        }
        r.needs_models = !models->get_array().empty();
    }
    for (const auto& kv : positive) {
        const std::string_view key = kv.key();
        if (key == "service_type" || key == "hardware" || key == "customer_isolation" || key == "models") continue;
        r.custom.push_back({canonical_path(key), kv.value()});
    }
    for (const auto& kv : negative) {
        if (kv.key() == "hardware") {
            if (!kv.value().is_object()) continue;
            for (const auto& sub : kv.value().get_object()) r.negative_hardware.emplace_back(std::string(sub.key()), sub.value());
        } else {
            r.negative_custom.push_back({canonical_path(kv.key()), kv.value()});
        }
    }
    return r;
}

}  // namespace jobrouter
