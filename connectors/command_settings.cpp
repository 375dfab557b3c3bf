#include "connectors/command_settings.hpp"

#include "connectors/simulation_http_connector.hpp"
#include "core/json_util.hpp"

namespace jobrouter {

namespace json = boost::json;

namespace {

result<void> read_ms(const json::object& o, std::string_view key, const std::string& field, std::int64_t min,
                     std::int64_t max, std::chrono::milliseconds& out) {
    auto n = detail::config_integer(&o, key, field + "." + std::string(key), min, max);
    if (!n) return n.error();
    if (*n) out = std::chrono::milliseconds(**n);
    return {};
}

// A boolean, or "true"/"false" as ${VAR} leaves one.
result<std::optional<bool>> optional_bool(const json::object& o, std::string_view key, const std::string& field) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::optional<bool>();
    if (v->is_bool()) return std::optional<bool>(v->get_bool());
    if (v->is_string() && (v->get_string() == "true" || v->get_string() == "false"))
        return std::optional<bool>(v->get_string() == "true");
    return make_error(field + "." + std::string(key), "must be true or false, got " + describe(*v));
}

bool valid_env_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name)
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
    return true;
}

}  // namespace

result<command_settings> read_command_settings(const connector_job& job) {
    command_settings s;
    const std::string field = "services." + job.service + ".api_config";
    const json::value* api = job.service_config.if_contains("api_config");
    if (!api) return make_error(field, "missing: CommandConnector needs at least api_config.command");
    const json::object* o = api->if_object();
    if (!o) return make_error(field, "must be an object, got " + describe(*api));

    auto shell = optional_bool(*o, "shell", field);
    if (!shell) return shell.error();
    s.shell = shell->value_or(false);

    const json::value* command = o->if_contains("command");
    if (!command)
        return make_error(field + ".command", "missing; e.g. [\"/usr/bin/python3\", \"render.py\"], or a script with \"shell\": true");
    if (s.shell) {
        // One script for /bin/sh -c: a list would leave unclear which parts the shell splits.
        if (!command->is_string() || command->get_string().empty())
            return make_error(field + ".command", "with \"shell\": true, must be a non-empty string (the script for /bin/sh -c), got " +
                                                      describe(*command));
        s.argv = {"/bin/sh", "-c", std::string(command->get_string())};
    } else {
        const json::array* list = command->if_array();
        if (!list || list->empty())
            return make_error(field + ".command", "must be a non-empty array of strings (the program and its arguments; no shell "
                                                  "unless \"shell\": true), got " + describe(*command));
        for (std::size_t i = 0; i < list->size(); ++i) {
            const json::value& a = (*list)[i];
            if (!a.is_string())
                return make_error(field + ".command[" + std::to_string(i) + "]", "must be a string, got " + describe(a));
            s.argv.emplace_back(a.get_string());
        }
        if (s.argv[0].empty()) return make_error(field + ".command[0]", "the program name is empty");
    }

    if (const json::value* d = o->if_contains("working_dir")) {
        if (!d->is_string() || d->get_string().empty())
            return make_error(field + ".working_dir", "must be a non-empty string (a directory), got " + describe(*d));
        s.working_dir = std::string(d->get_string());
    }
    if (const json::value* e = o->if_contains("env")) {
        const json::object* vars = e->if_object();
        if (!vars) return make_error(field + ".env", "must be an object of strings, got " + describe(*e));
        for (const auto& kv : *vars) {
            const std::string path = field + ".env." + std::string(kv.key());
            if (!valid_env_name(kv.key())) return make_error(path, "not a valid environment variable name");
            if (!kv.value().is_string()) return make_error(path, "must be a string, got " + describe(kv.value()));
            s.env.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
        }
    }
    auto inherit = optional_bool(*o, "inherit_env", field);
    if (!inherit) return inherit.error();
    s.inherit_env = inherit->value_or(true);

    if (auto r = read_ms(*o, "timeout_ms", field, 1, 7 * 86400000LL, s.timeout); !r) return r.error();
    if (auto r = read_ms(*o, "kill_grace_ms", field, 0, 600000, s.kill_grace); !r) return r.error();
    auto cap = detail::config_integer(o, "max_stdout_bytes", field + ".max_stdout_bytes", 1, 1LL << 31);
    if (!cap) return cap.error();
    if (*cap) s.max_stdout_bytes = static_cast<std::size_t>(**cap);
    if (const json::value* codes = o->if_contains("retryable_exit_codes")) {
        const json::array* list = codes->if_array();
        if (!list) return make_error(field + ".retryable_exit_codes", "must be an array of exit codes, got " + describe(*codes));
        s.retryable_exit_codes.clear();
        for (std::size_t i = 0; i < list->size(); ++i) {
            json::object holder;
            holder["code"] = (*list)[i];
            auto n = detail::config_integer(&holder, "code", field + ".retryable_exit_codes[" + std::to_string(i) + "]", 1, 255);
            if (!n) return n.error();
            s.retryable_exit_codes.push_back(static_cast<int>(**n));
        }
    }
    return s;
}

}  // namespace jobrouter
