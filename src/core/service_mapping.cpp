#include "core/service_mapping.hpp"

#include "core/json_util.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace jobrouter {

namespace {

using severity = mapping_diagnostic::severity;

// Keys with characters that would make a dotted path ambiguous are written as ["key"].
bool is_plain_key(std::string_view key) {
    if (key.empty()) return false;
    for (unsigned char c : key)
        if (c <= ' ' || c == '.' || c == '[' || c == ']' || c == '"') return false;
    return true;
}

std::string child_path(const std::string& parent, std::string_view key) {
    if (!is_plain_key(key)) return parent + "[" + quoted(key) + "]";
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t i) {
    return parent + "[" + std::to_string(i) + "]";
}

std::string located(const std::string& source_name, const std::string& json_path) {
    return json_path.empty() ? source_name : source_name + ": " + json_path;
}

std::string must_be(std::string_view what, const json::value& v) {
    return "must be " + std::string(what) + ", got " + describe(v);
}

// ---- environment substitution -------------------------------------------------------------

// Shell rules for names, so that "${...}" text that cannot be a variable (a template, a typo)
// is left alone rather than silently erased.
bool is_variable_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name)
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    return true;
}

std::string substitute_string(std::string_view in, const env_lookup& env, const std::string& where,
                              std::vector<mapping_diagnostic>& diagnostics) {
    std::string out;
    std::size_t pos = 0;
    while (pos < in.size()) {
        const auto start = in.find("${", pos);
        if (start == std::string_view::npos) break;
        const auto end = in.find('}', start + 2);
        if (end == std::string_view::npos) break;  // unterminated "${": the rest stays as written
        out.append(in.substr(pos, start - pos));
        const auto ref = in.substr(start + 2, end - start - 2);
        const auto sep = ref.find(":-");
        const auto name = ref.substr(0, sep);
        if (!is_variable_name(name)) {
            // Not a reference: keep the "$" and rescan, so "${ ${X}}" still substitutes X.
            out += '$';
            pos = start + 1;
            continue;
        }
        // The contract differs from the shell here: a variable set to "" wins over the default.
        if (auto value = env(std::string(name)))
            out += *value;
        else if (sep != std::string_view::npos)
            out.append(ref.substr(sep + 2));
        else
            diagnostics.push_back({severity::warning, where,
                                   "environment variable " + quoted(name) +
                                       " is not set and has no default; using \"\""});
        pos = end + 1;
    }
    out.append(in.substr(pos));
    return out;
}

void substitute_value(json::value& v, const std::string& json_path, const env_lookup& env,
                      const std::string& source_name, std::vector<mapping_diagnostic>& diagnostics) {
    switch (v.kind()) {
    case json::kind::string: {
        const json::string& s = v.get_string();
        if (s.find("${") == json::string::npos) return;
        v = substitute_string(std::string_view(s.data(), s.size()), env,
                              located(source_name, json_path), diagnostics);
        return;
    }
    case json::kind::array: {
        auto& array = v.get_array();
        for (std::size_t i = 0; i < array.size(); ++i)
            substitute_value(array[i], index_path(json_path, i), env, source_name, diagnostics);
        return;
    }
    case json::kind::object:
        for (auto& kv : v.get_object())
            substitute_value(kv.value(), child_path(json_path, kv.key()), env, source_name, diagnostics);
        return;
    default: return;
    }
}

// ---- validation ---------------------------------------------------------------------------

// Everything the loader needs to turn a JSON path into an error or a diagnostic.
struct context {
    const std::string& source_name;
    service_mapping& mapping;

    error fail(const std::string& json_path, std::string message) const {
        return make_error(located(source_name, json_path), std::move(message));
    }
    void diagnose(severity level, const std::string& json_path, std::string message) const {
        mapping.diagnostics.push_back({level, located(source_name, json_path), std::move(message)});
    }
};

result<const json::object*> optional_object(const json::object& parent, std::string_view key,
                                            const std::string& json_path, const context& cx) {
    const auto* v = parent.if_contains(key);
    // in_place_value: `error` is an aggregate, so plain conversions to result<T> are ambiguous.
    if (!v) return {boost::system::in_place_value, nullptr};
    if (!v->is_object()) return cx.fail(json_path, must_be("an object", *v));
    return {boost::system::in_place_value, &v->get_object()};
}

result<std::vector<std::string>> string_array(const json::value& v, const std::string& json_path,
                                              const context& cx) {
    if (!v.is_array()) return cx.fail(json_path, must_be("an array of strings", v));
    std::vector<std::string> out;
    const auto& array = v.get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
        if (!array[i].is_string()) return cx.fail(index_path(json_path, i), must_be("a string", array[i]));
        out.emplace_back(array[i].get_string());
    }
    return out;
}

result<std::string> string_field(const json::object& entry, std::string_view key,
                                 const std::string& entry_path, const context& cx) {
    const std::string json_path = child_path(entry_path, key);
    const auto* v = entry.if_contains(key);
    if (!v) return cx.fail(json_path, "missing field " + quoted(key));
    if (!v->is_string()) return cx.fail(json_path, must_be("a string", *v));
    return {boost::system::in_place_value, std::string(v->get_string())};
}

result<void> load_services(const json::object& section, const context& cx) {
    for (const auto& kv : section) {
        const std::string json_path = child_path("services", kv.key());
        if (!kv.value().is_object()) return cx.fail(json_path, must_be("an object", kv.value()));
        const auto& entry = kv.value().get_object();
        service_def def;
        def.name = kv.key();
        def.raw = entry;
        if (const auto* c = entry.if_contains("connector")) {
            if (!c->is_string()) return cx.fail(child_path(json_path, "connector"), must_be("a string", *c));
            def.connector = c->get_string();
        }
        if (const auto* types = entry.if_contains("job_types_accepted")) {
            auto list = string_array(*types, child_path(json_path, "job_types_accepted"), cx);
            if (!list) return list.error();
            def.job_types_accepted = std::move(*list);
            def.declares_job_types = true;
        }
        cx.mapping.services.emplace(def.name, std::move(def));
    }
    return {};
}

// A connector is only looked up at run time, so these are diagnostics, not load errors.
void check_connectors(const json::object& section, const context& cx) {
    for (const auto& kv : section) {
        const auto& def = cx.mapping.services.at(std::string(kv.key()));
        const std::string json_path = child_path(child_path("services", kv.key()), "connector");
        if (def.connector.empty())
            cx.diagnose(severity::warning, json_path,
                        "service " + quoted(def.name) + " has no connector; jobs routed to it cannot run");
        else if (cx.mapping.connectors && !cx.mapping.connectors->contains(def.connector))
            cx.diagnose(severity::error, json_path,
                        "connector " + quoted(def.connector) + " is not listed in the connectors section");
    }
}

// The two explicit route-list shapes; the third (derived from services) has no list of its own.
struct route_list_shape {
    std::string_view list_key;
    std::string_view job_type_field;
    std::string_view service_field;
    route_source source;
};

constexpr route_list_shape kRouteListShapes[] = {
    {"job_service_required_map", "job_service_required", "worker_service",
     route_source::job_service_required_map},
    {"job_types_accepted", "job_type", "service", route_source::job_types_accepted},
};

std::string connector_of(const service_mapping& mapping, const std::string& service) {
    const auto* def = mapping.find_service(service);
    return def ? def->connector : std::string();
}

result<void> load_route_list(const json::value& list, const route_list_shape& shape,
                             const std::string& list_path, worker_type& worker, const context& cx) {
    if (!list.is_array()) return cx.fail(list_path, must_be("an array", list));
    const auto& array = list.get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
        const std::string entry_path = index_path(list_path, i);
        if (!array[i].is_object()) return cx.fail(entry_path, must_be("an object", array[i]));
        const auto& entry = array[i].get_object();
        auto job_type = string_field(entry, shape.job_type_field, entry_path, cx);
        if (!job_type) return job_type.error();
        auto service = string_field(entry, shape.service_field, entry_path, cx);
        if (!service) return service.error();
        if (!cx.mapping.find_service(*service))
            cx.diagnose(severity::error, child_path(entry_path, shape.service_field),
                        "service " + quoted(*service) + " is not defined in services");
        if (job_type->empty())
            cx.diagnose(severity::warning, child_path(entry_path, shape.job_type_field),
                        "is empty; no job can match this route");
        std::string connector = connector_of(cx.mapping, *service);
        worker.routes.push_back({std::move(*job_type), std::move(*service), std::move(connector), entry_path});
    }
    return {};
}

void derive_routes_from_services(worker_type& worker, const context& cx) {
    for (const auto& name : worker.services) {
        const auto* def = cx.mapping.find_service(name);
        if (!def) continue;  // already reported as an unknown service
        const std::string list_path = child_path(child_path("services", name), "job_types_accepted");
        for (std::size_t i = 0; i < def->job_types_accepted.size(); ++i)
            worker.routes.push_back({def->job_types_accepted[i], name, def->connector, index_path(list_path, i)});
    }
}

// Duplicates are kept so check-config can show them; lookups take the first (find_route).
void check_routes(const worker_type& worker, const std::string& list_path, const context& cx) {
    if (worker.routes.empty()) {
        cx.diagnose(severity::warning, list_path,
                    "worker type " + quoted(worker.name) + " has no routes; under the job-type strategy it takes no job");
        return;
    }
    std::map<std::string_view, const route*> first;
    for (const auto& r : worker.routes) {
        auto [it, inserted] = first.emplace(r.job_type, &r);
        if (inserted) continue;
        cx.diagnose(severity::warning, r.json_path,
                    "duplicate route for job type " + quoted(r.job_type) + " in worker type " +
                        quoted(worker.name) + ": " + it->second->json_path + " (service " +
                        quoted(it->second->service) + ") comes first and wins");
    }
}

result<void> load_worker(std::string_view name, const json::value& value, const context& cx) {
    const std::string worker_path = child_path("workers", name);
    if (!value.is_object()) return cx.fail(worker_path, must_be("an object", value));
    const auto& entry = value.get_object();
    worker_type worker;
    worker.name = name;
    worker.raw = entry;

    if (const auto* services = entry.if_contains("services")) {
        const std::string services_path = child_path(worker_path, "services");
        auto list = string_array(*services, services_path, cx);
        if (!list) return list.error();
        worker.services = std::move(*list);
        for (std::size_t i = 0; i < worker.services.size(); ++i)
            if (!cx.mapping.find_service(worker.services[i]))
                cx.diagnose(severity::error, index_path(services_path, i),
                            "service " + quoted(worker.services[i]) + " is not defined in services");
    }

    // The first route-list key present decides, per worker type, so shapes may mix in one file.
    std::string list_path = worker_path;
    bool explicit_list = false;
    for (const auto& shape : kRouteListShapes) {
        const auto* list = entry.if_contains(shape.list_key);
        if (!list) continue;
        list_path = child_path(worker_path, shape.list_key);
        worker.source = shape.source;
        if (auto loaded = load_route_list(*list, shape, list_path, worker, cx); !loaded) return loaded.error();
        explicit_list = true;
        break;
    }
    if (!explicit_list) {
        worker.source = route_source::services;
        derive_routes_from_services(worker, cx);
    }
    check_routes(worker, list_path, cx);
    cx.mapping.workers.emplace(worker.name, std::move(worker));
    return {};
}

}  // namespace

std::vector<std::string> worker_type::job_types() const {
    std::vector<std::string> out;
    for (const auto& r : routes)
        if (std::find(out.begin(), out.end(), r.job_type) == out.end()) out.push_back(r.job_type);
    return out;
}

const route* worker_type::find_route(std::string_view job_type) const {
    for (const auto& r : routes)
        if (r.job_type == job_type) return &r;
    return nullptr;
}

const worker_type* service_mapping::find_worker_type(std::string_view name) const {
    auto it = workers.find(std::string(name));
    return it == workers.end() ? nullptr : &it->second;
}

const service_def* service_mapping::find_service(std::string_view name) const {
    auto it = services.find(std::string(name));
    return it == services.end() ? nullptr : &it->second;
}

std::string service_mapping::worker_type_list() const {
    std::string out;
    for (const auto& [name, worker] : workers) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

void substitute_env(boost::json::value& doc, const env_lookup& env, const std::string& source_name,
                    std::vector<mapping_diagnostic>& diagnostics) {
    substitute_value(doc, "", env, source_name, diagnostics);
}

result<service_mapping> load_mapping(std::string_view text, const std::string& source_name,
                                     const env_lookup& env) {
    auto parsed = parse_strict(text);
    if (!parsed) return make_error(source_name, parsed.error().message);
    json::value doc = std::move(*parsed);
    if (!doc.is_object()) return make_error(source_name, must_be("a JSON object", doc));

    service_mapping mapping;
    mapping.source_name = source_name;
    const context cx{source_name, mapping};
    // Substitution comes first so that routes and connectors may themselves use ${VAR}.
    substitute_env(doc, env, source_name, mapping.diagnostics);
    const auto& root = doc.get_object();

    const auto* workers = root.if_contains("workers");
    if (!workers) return cx.fail("workers", "missing field \"workers\"");
    if (!workers->is_object()) return cx.fail("workers", must_be("an object", *workers));
    auto services = optional_object(root, "services", "services", cx);
    if (!services) return services.error();
    auto connectors = optional_object(root, "connectors", "connectors", cx);
    if (!connectors) return connectors.error();
    if (*connectors) mapping.connectors = **connectors;

    // Services first: worker routes take their connectors from them.
    if (*services) {
        if (auto loaded = load_services(**services, cx); !loaded) return loaded.error();
        check_connectors(**services, cx);
    }
    for (const auto& kv : workers->get_object())
        if (auto loaded = load_worker(kv.key(), kv.value(), cx); !loaded) return loaded.error();

    mapping.raw = root;
    return mapping;
}

}  // namespace jobrouter
