#include "core/worker.hpp"

#include <algorithm>

namespace jobrouter {

namespace {

result<std::vector<std::string>> string_list(const json::value& v, const std::string& path) {
    if (!v.is_array()) return make_error(path, "must be an array of strings, got " + describe(v));
    std::vector<std::string> out;
    const json::array& a = v.get_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!a[i].is_string())
            return make_error(path + "[" + std::to_string(i) + "]", "must be a string, got " + describe(a[i]));
        std::string s(a[i].get_string());
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
    return out;
}

}  // namespace

result<worker_capabilities> parse_worker(const json::value& v, const service_mapping& mapping, const std::string& path) {
    if (!v.is_object()) return make_error(path, "must be an object, got " + describe(v));
    const json::object& o = v.get_object();
    auto field = [&](std::string_view name) { return path + "." + std::string(name); };
    worker_capabilities w;

    const json::value* id = o.if_contains("worker_id");
    if (!id) return make_error(field("worker_id"), "is required");
    if (!id->is_string() || id->get_string().empty())
        return make_error(field("worker_id"), "must be a non-empty string, got " + describe(*id));
    w.worker_id = std::string(id->get_string());

    const worker_type* type = nullptr;
    if (const json::value* t = o.if_contains("worker_type")) {
        if (!t->is_string()) return make_error(field("worker_type"), "must be a string, got " + describe(*t));
        type = mapping.find_worker_type(t->get_string());
        if (!type)
            return make_error(field("worker_type"), "unknown worker type " + quoted(t->get_string()) +
                                                        " (the mapping " + mapping.source_name +
                                                        " has: " + mapping.worker_type_list() + ")");
        w.worker_type = type->name;
    }

    if (const json::value* s = o.if_contains("services")) {
        auto r = string_list(*s, field("services"));
        if (!r) return r.error();
        w.services = std::move(*r);
    } else if (type) {
        w.services = type->services;
    }

    // job_service_required_map wins over its alias job_types; both are validated when present.
    const json::value* map = o.if_contains("job_service_required_map");
    const json::value* alias = o.if_contains("job_types");
    if (alias) {
        auto r = string_list(*alias, field("job_types"));
        if (!r) return r.error();
        if (!map) w.job_types = std::move(*r);
    }
    if (map) {
        auto r = string_list(*map, field("job_service_required_map"));
        if (!r) return r.error();
        w.job_types = std::move(*r);
    } else if (!alias && type) {
        w.job_types = type->job_types();
    }

    if (const json::value* wf = o.if_contains("workflow_id")) {
        if (!wf->is_string()) return make_error(field("workflow_id"), "must be a string, got " + describe(*wf));
        w.workflow_id = std::string(wf->get_string());
    }
    w.raw = v;
    return w;
}

}  // namespace jobrouter
