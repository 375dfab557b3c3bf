#include "core/matcher.hpp"

#include <algorithm>
#include <array>

namespace jobrouter {

namespace {

constexpr std::array<std::string_view, 3> kHardwareLimits{"gpu_memory_gb", "cpu_cores", "ram_gb"};

bool is_hardware_limit(std::string_view key) {
    return std::find(kHardwareLimits.begin(), kHardwareLimits.end(), key) != kHardwareLimits.end();
}

bool contains(const json::array& a, const json::value& item) {
    return std::any_of(a.begin(), a.end(), [&](const json::value& x) { return json_equal(x, item); });
}

bool contains_string(const json::value* list, std::string_view s) {
    if (!list || !list->is_array()) return false;
    const json::array& a = list->get_array();
    return std::any_of(a.begin(), a.end(), [&](const json::value& x) { return x.is_string() && x.get_string() == s; });
}

const json::value* member(const json::value* v, std::string_view key) {
    if (!v || !v->is_object()) return nullptr;
    return v->get_object().if_contains(key);
}

// Dotted path: split on '.', empty segments dropped, object keys only (arrays never indexed).
const json::value* find_path(const json::value& root, std::string_view dotted) {
    const json::value* cur = &root;
    while (!dotted.empty()) {
        std::size_t dot = dotted.find('.');
        std::string_view segment = dotted.substr(0, dot);
        dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
        if (segment.empty()) continue;
        cur = member(cur, segment);
        if (!cur) return nullptr;
    }
    return cur;
}

// check() below the path lookup: objects recurse on literal sub-keys, anything else compares.
bool check_value(const json::value* w, const json::value& required) {
    if (required.is_object()) {
        if (!w || !w->is_object()) return false;
        for (const auto& kv : required.get_object())
            if (!check_value(w->get_object().if_contains(kv.key()), kv.value())) return false;
        return true;
    }
    return compare(w, required);
}

std::string shown(const json::value* v) { return v ? to_json(*v) : "nothing"; }

std::string list_text(std::span<const std::string> keys) {
    json::array a;
    for (const auto& k : keys) a.emplace_back(k);
    return to_json(a);
}

// The rules after R2, in order. `detail` is filled only when the caller wants it: the claim
// path must not build strings.
std::optional<rejection> requirements_rejection(const job_class& c, const worker_capabilities& w, bool with_detail) {
    auto reject = [with_detail](std::string_view rule, auto&& make_detail) {
        return rejection{rule, with_detail ? make_detail() : std::string{}};
    };
    const json::value& worker = w.raw;
    const json::object& positive = c.positive;

    // R3a hardware: numbers "at least"; "all" is no constraint.
    if (const json::value* hw = positive.if_contains("hardware"); hw && hw->is_object()) {
        const json::value* worker_hw = member(&worker, "hardware");
        for (const auto& kv : hw->get_object()) {
            if (!is_hardware_limit(kv.key())) continue;
            const json::value& need = kv.value();
            if (need.is_string() && need.get_string() == "all") continue;
            // D3: any other non-number (only jobs written by someone else can carry one) simply
            // does not match, rather than failing the whole claim.
            const json::value* have = member(worker_hw, kv.key());
            if (is_number(need) && have && is_number(*have) && as_double(*have) >= as_double(need)) continue;
            return reject("R3a", [&] {
                return std::string(kv.key()) + " needs " + (is_number(need) ? format_number(need) : describe(need)) + ", worker has " +
                       (have ? (is_number(*have) ? format_number(*have) : describe(*have)) : "none");
            });
        }
    }

    // R3b customer isolation: only "strict" constrains.
    if (const json::value* iso = positive.if_contains("customer_isolation"); iso && iso->is_string() && iso->get_string() == "strict") {
        const json::value* have = member(member(&worker, "customer_access"), "isolation");
        if (!(have && have->is_string() && have->get_string() == "strict"))
            return reject("R3b", [&] { return "job needs strict customer isolation; worker isolation is " + shown(have); });
    }

    // R3c customer lists, whenever the job has a customer (D4).
    if (!c.customer_id.empty()) {
        const json::value* access = member(&worker, "customer_access");
        const json::value* allowed = member(access, "allowed_customers");
        if (allowed && allowed->is_array() && !contains_string(allowed, c.customer_id))
            return reject("R3c", [&] { return "customer " + quoted(c.customer_id) + " is not in the worker's allowed_customers " + to_json(*allowed); });
        const json::value* denied = member(access, "denied_customers");
        if (contains_string(denied, c.customer_id))
            return reject("R3c", [&] { return "customer " + quoted(c.customer_id) + " is in the worker's denied_customers"; });
    }

    // R3d models, keyed by service_required; a missing entry is [], a non-array entry matches no list.
    if (const json::value* models = positive.if_contains("models"); models && models->is_array()) {
        const json::value* have = member(member(&worker, "models"), c.service_required);
        for (const json::value& model : models->get_array()) {
            if (have && have->is_array() && contains(have->get_array(), model)) continue;
            return reject("R3d", [&] {
                return "model " + to_json(model) + " is not in the worker's models[" + quoted(c.service_required) + "] (" + shown(have) + ")";
            });
        }
    }

    // R3e custom capabilities, in the job's document order.
    for (const auto& kv : positive) {
        std::string_view key = kv.key();
        if (key == "service_type" || key == "hardware" || key == "customer_isolation" || key == "models") continue;
        if (check(worker, key, kv.value())) continue;
        return reject("R3e", [&] {
            return quoted(key) + " needs " + to_json(kv.value()) + ", worker has " + shown(find_path(worker, key));
        });
    }

    // R4 negative requirements (top level only), in document order.
    for (const auto& kv : c.negative) {
        std::string_view key = kv.key();
        if (key == "hardware") {
            const json::value* worker_hw = member(&worker, "hardware");
            if (!worker_hw || !worker_hw->is_object() || !kv.value().is_object()) continue;
            for (const auto& sub : kv.value().get_object()) {
                const json::value* have = worker_hw->get_object().if_contains(sub.key());
                if (!have || have->is_null() || (have->is_bool() && !have->get_bool())) continue;
                if (compare(have, sub.value()))
                    return reject("R4", [&] {
                        return "negative requirement hardware." + std::string(sub.key()) + " " + to_json(sub.value()) +
                               " excludes the worker, which has " + to_json(*have);
                    });
            }
        } else if (check(worker, key, kv.value())) {
            return reject("R4", [&] {
                return "negative requirement " + quoted(key) + " " + to_json(kv.value()) + " excludes the worker, which has " +
                       shown(find_path(worker, key));
            });
        }
    }
    return std::nullopt;
}

}  // namespace

bool compare(const json::value* w, const json::value& required) {
    if (!w) return false;
    if (required.is_array()) {
        if (!w->is_array()) return false;
        for (const json::value& item : required.get_array())
            if (!contains(w->get_array(), item)) return false;
        return true;
    }
    if (w->is_array() && !required.is_object()) return contains(w->get_array(), required);
    if (is_number(required)) return is_number(*w) && as_double(*w) >= as_double(required);
    return json_equal(*w, required);
}

bool check(const json::value& worker, std::string_view key, const json::value& required) {
    return check_value(find_path(worker, key), required);
}

bool offers(std::span<const std::string> offered_keys, std::string_view service_required) {
    return std::find(offered_keys.begin(), offered_keys.end(), service_required) != offered_keys.end();
}

bool passes_requirements(const job_class& c, const worker_capabilities& w) {
    if (!w.workflow_id.empty() && c.workflow_id != w.workflow_id) return false;
    return !requirements_rejection(c, w, false);
}

bool passes_requirements(const job_class& c, const worker_profile& w) {
    // The rules of requirements_rejection, in the same order; only the yes/no answer matters.
    if (!w.workflow_id.empty() && c.workflow_id != w.workflow_id) return false;
    const class_requirements& r = c.compiled;
    if (r.never) return false;
    if (r.hardware_mask) {
        if ((w.hardware_mask & r.hardware_mask) != r.hardware_mask) return false;
        for (std::size_t i = 0; i < r.hardware_min.size(); ++i)
            if ((r.hardware_mask >> i & 1u) && !(w.hardware[i] >= r.hardware_min[i])) return false;
    }
    if (r.strict_isolation && !w.strict_isolation) return false;
    if (!c.customer_id.empty()) {
        auto has = [&](const std::vector<std::string>& list) {
            return std::find(list.begin(), list.end(), c.customer_id) != list.end();
        };
        if (w.has_allowed && !has(w.allowed)) return false;
        if (has(w.denied)) return false;
    }
    if (r.needs_models) {
        auto it = w.models.find(c.service_required);
        if (it == w.models.end() || !it->second.is_array) return false;
        const worker_profile::model_list& have = it->second;
        for (const std::string& m : r.model_strings)
            if (std::find(have.strings.begin(), have.strings.end(), m) == have.strings.end()) return false;
        for (const json::value& m : r.model_others)
            if (!contains(have.items, m)) return false;
    }
    for (const path_requirement& p : r.custom)
        if (!check_value(w.at(p.path), p.required)) return false;
    if (const json::object* hw = w.hardware_object()) {
        for (const auto& [key, required] : r.negative_hardware) {
            const json::value* have = hw->if_contains(key);
            if (!have || have->is_null() || (have->is_bool() && !have->get_bool())) continue;
            if (compare(have, required)) return false;
        }
    }
    for (const path_requirement& p : r.negative_custom)
        if (check_value(w.at(p.path), p.required)) return false;
    return true;
}

std::optional<rejection> find_rejection(const job_class& c, const worker_capabilities& w,
                                        std::span<const std::string> offered_keys, bool with_detail) {
    if (!w.workflow_id.empty() && c.workflow_id != w.workflow_id) {
        return rejection{"R1", with_detail ? "worker takes only workflow " + quoted(w.workflow_id) + "; job's workflow is " +
                                                 (c.workflow_id.empty() ? std::string("none") : quoted(c.workflow_id))
                                           : std::string{}};
    }
    if (!offers(offered_keys, c.service_required)) {
        return rejection{"R2", with_detail ? "job needs " + quoted(c.service_required) + "; worker offers " + list_text(offered_keys)
                                           : std::string{}};
    }
    return requirements_rejection(c, w, with_detail);
}

}  // namespace jobrouter
