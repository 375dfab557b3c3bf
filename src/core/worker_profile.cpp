#include "core/worker_profile.hpp"

#include "core/class_requirements.hpp"
#include "core/worker.hpp"

namespace jobrouter {

namespace {

const json::value* member(const json::value* v, std::string_view key) {
    if (!v || !v->is_object()) return nullptr;
    return v->get_object().if_contains(key);
}

std::vector<std::string> string_items(const json::value* list) {
    std::vector<std::string> out;
    if (!list || !list->is_array()) return out;
    for (const json::value& x : list->get_array())
        if (x.is_string()) out.emplace_back(x.get_string());
    return out;
}

}  // namespace

worker_profile::worker_profile(const worker_capabilities& caps)
    : workflow_id(caps.workflow_id), doc_(std::make_unique<json::value>(caps.raw)) {
    const json::value* root = doc_.get();

    if (const json::value* hw = member(root, "hardware"); hw && hw->is_object()) {
        hardware_object_ = &hw->get_object();
        for (std::size_t i = 0; i < kHardwareLimitKeys.size(); ++i) {
            const json::value* have = hardware_object_->if_contains(kHardwareLimitKeys[i]);
            if (!have || !is_number(*have)) continue;
            hardware_mask |= static_cast<std::uint8_t>(1u << i);
            hardware[i] = as_double(*have);
        }
    }

    const json::value* access = member(root, "customer_access");
    const json::value* isolation = member(access, "isolation");
    strict_isolation = isolation && isolation->is_string() && isolation->get_string() == "strict";
    const json::value* allowed_list = member(access, "allowed_customers");
    has_allowed = allowed_list && allowed_list->is_array();
    allowed = string_items(allowed_list);
    denied = string_items(member(access, "denied_customers"));

    if (const json::value* m = member(root, "models"); m && m->is_object()) {
        for (const auto& kv : m->get_object()) {
            model_list list;
            list.is_array = kv.value().is_array();
            if (list.is_array) {
                list.strings = string_items(&kv.value());
                list.items = kv.value().get_array();
            }
            models.emplace(std::string(kv.key()), std::move(list));
        }
    }

    // check() splits a key on '.' and looks each segment up literally, so an object key that
    // is empty or holds a '.' can never be reached; every other path is resolved here.
    paths_.emplace(std::string(), root);
    add_paths(*root, std::string());
}

void worker_profile::add_paths(const json::value& v, const std::string& prefix) {
    if (!v.is_object()) return;
    for (const auto& kv : v.get_object()) {
        const std::string_view key = kv.key();
        if (key.empty() || key.find('.') != std::string_view::npos) continue;
        std::string path = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
        add_paths(kv.value(), path);
        paths_.emplace(std::move(path), &kv.value());
    }
}

}  // namespace jobrouter
