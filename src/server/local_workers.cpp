#include "server/local_workers.hpp"

#include "connectors/connector_registry.hpp"
#include "core/json_util.hpp"
#include "core/worker.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace jobrouter {

namespace {

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n\v\f";
    const auto first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// Unset and blank are the same: container setups often pass `VAR=` for "not configured".
std::optional<std::string> lookup(const env_lookup& env, const char* name) {
    auto v = env(name);
    if (!v || trim(*v).empty()) return std::nullopt;
    return std::string(trim(*v));
}

result<std::optional<double>> env_number(const env_lookup& env, const char* name) {
    const auto text = lookup(env, name);
    if (!text) return std::optional<double>();
    double value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(value))
        return make_error(name, "must be a number, got " + quoted(*text));
    if (value < 0) return make_error(name, "must be a number >= 0, got " + quoted(*text));
    return std::optional<double>(value);
}

// Digits only: "2.5" or "+2" are refused rather than rounded or guessed.
result<std::optional<std::int64_t>> env_count(const env_lookup& env, const char* name) {
    const auto text = lookup(env, name);
    if (!text) return std::optional<std::int64_t>();
    for (char c : *text)
        if (c < '0' || c > '9') return make_error(name, "must be a whole number >= 0, got " + quoted(*text));
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc()) return make_error(name, "is too large, got " + quoted(*text));
    return std::optional<std::int64_t>(value);
}

std::optional<std::vector<std::string>> env_list(const env_lookup& env, const char* name) {
    const auto text = lookup(env, name);
    if (!text) return std::nullopt;
    std::vector<std::string> out;
    std::string_view rest = *text;
    while (true) {
        const auto comma = rest.find(',');
        const auto item = trim(rest.substr(0, comma));
        // "a, b," is a list of two: a stray comma must not add a customer named "".
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    // Only commas and blanks: as unset, never an allow-list that admits nobody.
    if (out.empty()) return std::nullopt;
    return out;
}

result<std::optional<json::object>> env_json_object(const env_lookup& env, const char* name, std::string_view example) {
    const auto text = lookup(env, name);
    if (!text) return std::optional<json::object>();
    auto parsed = parse_strict(*text);
    if (!parsed)
        return make_error(name, "must be a JSON object like " + std::string(example) + ", but it is not valid JSON (" +
                                    parsed.error().text() + ")");
    if (!parsed->is_object())
        return make_error(name, "must be a JSON object like " + std::string(example) + ", got " + describe(*parsed));
    return std::optional<json::object>(std::move(parsed->get_object()));
}

result<void> check_models(const json::object& models, const char* name) {
    for (const auto& kv : models) {
        const std::string key = quoted(kv.key());
        if (!kv.value().is_array())
            return make_error(name, "the models of " + key + " must be an array of model names, got " +
                                        describe(kv.value()));
        const json::array& a = kv.value().get_array();
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!a[i].is_string())
                return make_error(name, "the models of " + key + " must be strings; item " + std::to_string(i) +
                                            " is " + describe(a[i]));
    }
    return {};
}

// What serve itself decides (identity, and the routes that come from the mapping) cannot be
// overridden: a worker claiming job types its routes cannot run would fail every such job.
constexpr std::string_view kReservedCustom[] = {"worker_id", "worker_type", "services", "job_service_required_map",
                                                "job_types"};

result<void> check_custom(const json::object& custom, const char* name) {
    for (std::string_view key : kReservedCustom)
        if (custom.contains(key))
            return make_error(name, "must not set " + quoted(key) +
                                        " (worker ids come from --machine-id and WORKERS, services and job types "
                                        "from the mapping's worker type)");
    for (std::string_view key : {"hardware", "customer_access", "models"})
        if (const json::value* v = custom.if_contains(key); v && !v->is_object())
            return make_error(name, quoted(key) + " must be an object, got " + describe(*v));
    if (const json::value* m = custom.if_contains("models")) {
        if (auto ok = check_models(m->get_object(), name); !ok) return ok;
    }
    if (const json::value* wf = custom.if_contains("workflow_id"); wf && !wf->is_string())
        return make_error(name, "\"workflow_id\" must be a string, got " + describe(*wf));
    return {};
}

// 24, not 24.0, when the value is whole: what people wrote, and what EMP's workers send.
json::value number_json(double v) {
    if (std::trunc(v) == v && std::fabs(v) < 9007199254740992.0) return static_cast<std::int64_t>(v);
    return v;
}

json::object sub_object(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v && v->is_object() ? v->get_object() : json::object();
}

json::array string_array(const std::vector<std::string>& items) {
    json::array a;
    for (const auto& s : items) a.emplace_back(s);
    return a;
}

}  // namespace

result<capabilities_config> capabilities_config_from_env(const env_lookup& env) {
    capabilities_config c;
    auto gpu_memory = env_number(env, "WORKER_GPU_MEMORY_GB");
    if (!gpu_memory) return gpu_memory.error();
    c.gpu_memory_gb = *gpu_memory;
    auto ram = env_number(env, "WORKER_RAM_GB");
    if (!ram) return ram.error();
    c.ram_gb = *ram;
    auto cores = env_count(env, "WORKER_CPU_CORES");
    if (!cores) return cores.error();
    c.cpu_cores = *cores;
    auto gpus = env_count(env, "WORKER_GPU_COUNT");
    if (!gpus) return gpus.error();
    c.gpu_count = *gpus;
    c.gpu_model = lookup(env, "WORKER_GPU_MODEL");

    if (auto isolation = lookup(env, "WORKER_CUSTOMER_ISOLATION")) {
        if (*isolation != "strict" && *isolation != "loose" && *isolation != "none")
            return make_error("WORKER_CUSTOMER_ISOLATION", "must be one of strict, loose, none, got " + quoted(*isolation));
        c.customer_isolation = std::move(*isolation);
    }
    c.allowed_customers = env_list(env, "ALLOWED_CUSTOMERS");
    c.denied_customers = env_list(env, "DENIED_CUSTOMERS");

    auto models = env_json_object(env, "WORKER_MODELS", R"({"comfyui":["sdxl"]})");
    if (!models) return models.error();
    if (*models) {
        if (auto ok = check_models(**models, "WORKER_MODELS"); !ok) return ok.error();
        c.models = std::move(**models);
    }
    auto custom = env_json_object(env, "WORKER_CAPABILITIES", R"({"region":"eu","features":{"nsfw":false}})");
    if (!custom) return custom.error();
    if (*custom) {
        if (auto ok = check_custom(**custom, "WORKER_CAPABILITIES"); !ok) return ok.error();
        c.custom = std::move(**custom);
    }
    return c;
}

std::string local_worker_id(std::string_view machine_id, std::string_view worker_type, int index) {
    return std::string(machine_id) + "-worker-" + std::string(worker_type) + "-" + std::to_string(index);
}

json::object local_worker_capabilities(std::string_view worker_id, std::string_view worker_type,
                                       const capabilities_config& config) {
    json::object o = config.custom;
    o["worker_id"] = worker_id;
    o["worker_type"] = worker_type;

    json::object hardware = sub_object(o, "hardware");
    if (config.gpu_memory_gb) hardware["gpu_memory_gb"] = number_json(*config.gpu_memory_gb);
    if (config.ram_gb) hardware["ram_gb"] = number_json(*config.ram_gb);
    if (config.cpu_cores) hardware["cpu_cores"] = *config.cpu_cores;
    if (config.gpu_model) hardware["gpu_model"] = *config.gpu_model;
    if (config.gpu_count) hardware["gpu_count"] = *config.gpu_count;
    if (!hardware.empty()) o["hardware"] = std::move(hardware);

    json::object models = sub_object(o, "models");
    for (const auto& kv : config.models) models[kv.key()] = kv.value();
    if (!models.empty()) o["models"] = std::move(models);

    json::object access = sub_object(o, "customer_access");
    if (config.customer_isolation) access["isolation"] = *config.customer_isolation;
    if (config.allowed_customers) access["allowed_customers"] = string_array(*config.allowed_customers);
    if (config.denied_customers) access["denied_customers"] = string_array(*config.denied_customers);
    if (!access.empty()) o["customer_access"] = std::move(access);
    return o;
}

result<void> check_local_worker_type(const worker_type& t, const service_mapping& m, const strategy& s) {
    // Only what the strategy can actually pick: a duplicate route that never wins cannot stop
    // serve (check-config warns about it instead).
    for (const std::string& key : s.offered_keys(t)) {
        const auto r = s.resolve_route(t, m, key);
        if (!r) continue;
        const auto refuse = [&](const std::string& why) {
            return make_error(m.source_name + ": " + r->json_path,
                              "serve cannot start worker type " + quoted(t.name) + ": service " + quoted(r->service) +
                                  ", connector " + (r->connector.empty() ? std::string("(none)") : quoted(r->connector)) +
                                  ": " + why);
        };
        const service_def* def = m.find_service(r->service);
        if (!def) return refuse("the service is not in the services of " + m.source_name);
        if (r->connector.empty()) return refuse("the service names no connector");
        if (m.connectors && !m.connectors->contains(r->connector))
            return refuse("the connector is not in the connectors section of " + m.source_name);
        if (!has_connector(r->connector)) {
            std::string known;
            for (const auto& n : connector_registry_names()) known += (known.empty() ? "" : ", ") + n;
            return refuse("this build has no such connector (it has: " + known + ")");
        }
        if (auto problem = check_connector_config(r->connector, *def))
            return refuse("its settings are unusable: " + problem->text());
    }
    return {};
}

result<std::unique_ptr<local_workers>> local_workers::create(boost::asio::io_context& io, job_service& d,
                                                             const std::vector<worker_count>& counts,
                                                             const std::string& machine_id,
                                                             const capabilities_config& config,
                                                             local_worker::log_fn log) {
    if (counts.empty()) return std::unique_ptr<local_workers>(new local_workers());
    if (trim(machine_id).empty())
        return make_error("--machine-id", "is empty: in-process worker ids are <machine id>-worker-<type>-<index>");
    const service_mapping& mapping = d.mapping();
    std::unique_ptr<local_workers> out(new local_workers());
    for (const worker_count& wc : counts) {
        const worker_type* t = mapping.find_worker_type(wc.worker_type);
        if (!t)
            return make_error("WORKERS", "worker type " + quoted(wc.worker_type) + " is not in the workers of " +
                                             mapping.source_name + " (valid: " + mapping.worker_type_list() + ")");
        if (auto ok = check_local_worker_type(*t, mapping, d.matching_strategy()); !ok) return ok.error();
        for (int i = 0; i < wc.count; ++i) {
            std::string id = local_worker_id(machine_id, t->name, i);
            json::object caps = local_worker_capabilities(id, t->name, config);
            // Checked now, not at start_all, so a bad capability stops serve before it listens.
            if (auto parsed = parse_worker(caps, mapping, "worker " + quoted(id)); !parsed) return parsed.error();
            out->workers_.push_back(std::make_unique<local_worker>(io, d, std::move(id), *t, log));
            out->capabilities_.push_back(std::move(caps));
        }
    }
    return out;
}

local_workers::~local_workers() = default;

result<void> local_workers::start_all() {
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        if (workers_[i]->registered()) continue;
        auto started = workers_[i]->start(capabilities_[i]);
        if (!started) {
            for (std::size_t j = 0; j < i; ++j) workers_[j]->stop();
            return make_error("worker " + quoted(workers_[i]->id()), started.error().message);
        }
    }
    return {};
}

void local_workers::stop_all() {
    for (auto& w : workers_) w->stop();
}

std::size_t local_workers::running_jobs() const {
    std::size_t n = 0;
    for (const auto& w : workers_)
        if (w->busy()) ++n;
    return n;
}

std::vector<std::string> local_workers::ids() const {
    std::vector<std::string> out;
    for (const auto& w : workers_) out.push_back(w->id());
    return out;
}

}  // namespace jobrouter
