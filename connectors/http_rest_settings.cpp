#include "connectors/http_rest_settings.hpp"

#include "connectors/simulation_http_connector.hpp"
#include "core/json_util.hpp"

#include <boost/beast/http/verb.hpp>

#include <cctype>

namespace jobrouter {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

result<std::optional<std::string>> optional_string(const json::object& o, std::string_view key, const std::string& field) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::optional<std::string>();
    if (!v->is_string()) return make_error(field + "." + std::string(key), "must be a string, got " + describe(*v));
    return std::optional<std::string>(std::string(v->get_string()));
}

result<std::string> required_string(const json::object& o, std::string_view key, const std::string& field,
                                    std::string_view example) {
    auto s = optional_string(o, key, field);
    if (!s) return s.error();
    if (!*s || (*s)->empty())
        return make_error(field + "." + std::string(key), "missing; e.g. " + std::string(example));
    return **s;
}

result<std::vector<std::string>> string_list(const json::value& v, const std::string& path) {
    const json::array* a = v.if_array();
    if (!a) return make_error(path, "must be an array of strings, got " + describe(v));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const json::value& e = (*a)[i];
        // A status may be a number or a boolean in the reply; it is compared as text.
        if (e.is_string()) out.emplace_back(e.get_string());
        else if (e.is_number() || e.is_bool()) out.push_back(json::serialize(e));
        else return make_error(path + "[" + std::to_string(i) + "]", "must be a string, got " + describe(e));
    }
    return out;
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

result<void> read_ms(const json::object& o, std::string_view key, const std::string& field, std::int64_t min,
                     std::int64_t max, std::chrono::milliseconds& out) {
    auto n = detail::config_integer(&o, key, field + "." + std::string(key), min, max);
    if (!n) return n.error();
    if (*n) out = std::chrono::milliseconds(**n);
    return {};
}

result<rest_poll_settings> read_poll(const json::object& o, const std::string& field) {
    rest_poll_settings p;
    auto id = required_string(o, "id_path", field, "\"prompt_id\"");
    if (!id) return id.error();
    p.id_path = std::move(*id);
    auto url = required_string(o, "url", field, "\"http://127.0.0.1:8188/history/{{id}}\"");
    if (!url) return url.error();
    p.url = std::move(*url);
    auto status = required_string(o, "status_path", field, "\"{{id}}.status.status_str\"");
    if (!status) return status.error();
    p.status_path = std::move(*status);
    if (auto r = read_ms(o, "interval_ms", field, 1, 3600000, p.interval); !r) return r.error();
    for (auto [key, list] : {std::pair{"done_values", &p.done_values}, std::pair{"failed_values", &p.failed_values}}) {
        if (const json::value* v = o.if_contains(key)) {
            auto l = string_list(*v, field + "." + key);
            if (!l) return l.error();
            *list = std::move(*l);
        }
    }
    if (const json::value* v = o.if_contains("running_values")) {
        auto l = string_list(*v, field + ".running_values");
        if (!l) return l.error();
        p.running_values = std::move(*l);
    }
    for (auto [key, out] : {std::pair{"progress_path", &p.progress_path}, std::pair{"error_path", &p.error_path}}) {
        auto s = optional_string(o, key, field);
        if (!s) return s.error();
        if (*s) *out = std::move(**s);
    }
    auto retryable = optional_bool(o, "failure_retryable", field);
    if (!retryable) return retryable.error();
    if (*retryable) p.failure_retryable = **retryable;
    return p;
}

}  // namespace

result<rest_settings> read_rest_settings(const connector_job& job) {
    rest_settings s;
    s.field = "services." + job.service + ".api_config";
    const json::value* api = job.service_config.if_contains("api_config");
    if (!api) return make_error(s.field, "missing: HttpRestConnector needs at least api_config.url");
    const json::object* o = api->if_object();
    if (!o) return make_error(s.field, "must be an object, got " + describe(*api));

    auto url = required_string(*o, "url", s.field, "\"http://127.0.0.1:11434/v1/chat/completions\"");
    if (!url) return url.error();
    s.url = std::move(*url);

    auto method = optional_string(*o, "method", s.field);
    if (!method) return method.error();
    if (*method) {
        std::string upper;
        for (char c : **method) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        s.method = http::string_to_verb(upper);
        if (s.method != http::verb::get && s.method != http::verb::post && s.method != http::verb::put &&
            s.method != http::verb::patch && s.method != http::verb::delete_)
            return make_error(s.field + ".method", "must be GET, POST, PUT, PATCH or DELETE, got " + quoted(**method));
    }

    if (const json::value* h = o->if_contains("headers")) {
        const json::object* headers = h->if_object();
        if (!headers) return make_error(s.field + ".headers", "must be an object of strings, got " + describe(*h));
        for (const auto& kv : *headers) {
            if (!kv.value().is_string())
                return make_error(s.field + ".headers." + std::string(kv.key()), "must be a string, got " + describe(kv.value()));
            if (kv.key().empty()) return make_error(s.field + ".headers", "a header name is empty");
            s.headers.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
        }
    }
    if (const json::value* b = o->if_contains("body")) s.body = *b;
    auto result_path = optional_string(*o, "result_path", s.field);
    if (!result_path) return result_path.error();
    s.result_path = std::move(*result_path);

    if (auto r = read_ms(*o, "request_timeout_ms", s.field, 1, 86400000, s.request_timeout); !r) return r.error();
    if (auto r = read_ms(*o, "total_timeout_ms", s.field, 1, 7 * 86400000LL, s.total_timeout); !r) return r.error();
    if (auto r = read_ms(*o, "retry_backoff_ms", s.field, 0, 3600000, s.retry_backoff); !r) return r.error();
    if (auto r = read_ms(*o, "retry_backoff_max_ms", s.field, 0, 3600000, s.retry_backoff_max); !r) return r.error();
    auto attempts = detail::config_integer(o, "max_attempts", s.field + ".max_attempts", 1, 100);
    if (!attempts) return attempts.error();
    if (*attempts) s.max_attempts = **attempts;
    auto limit = detail::config_integer(o, "max_response_bytes", s.field + ".max_response_bytes", 1, 1LL << 31);
    if (!limit) return limit.error();
    if (*limit) s.max_response_bytes = static_cast<std::size_t>(**limit);

    if (const json::value* p = o->if_contains("poll")) {
        const json::object* poll = p->if_object();
        if (!poll) return make_error(s.field + ".poll", "must be an object, got " + describe(*p));
        auto settings = read_poll(*poll, s.field + ".poll");
        if (!settings) return settings.error();
        s.poll = std::move(*settings);
    }
    return s;
}

}  // namespace jobrouter
