#include "connectors/request_template.hpp"

#include "connectors/json_path.hpp"
#include "core/json_util.hpp"

#include <cstdlib>

namespace jobrouter {

namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::optional<std::string> process_env(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
}

std::string known_roots(const template_scope& scope) {
    std::string out;
    for (const auto& kv : scope.roots) out += std::string(kv.key()) + ", ";
    return out + "env.NAME";
}

// The value of one placeholder (its text between the braces).
result<json::value> lookup(std::string_view inner, const template_scope& scope, const std::string& field) {
    const std::string shown = "{{" + std::string(inner) + "}}";
    auto path = parse_json_path(trim(inner), field);
    if (!path) return make_error(field, "placeholder " + shown + ": " + path.error().message);
    const auto& steps = path->steps;
    const auto* root = steps.empty() ? nullptr : std::get_if<std::string>(&steps.front());
    if (!root) return make_error(field, "placeholder " + shown + " names no value (use one of: " + known_roots(scope) + ")");
    if (*root == "env") {
        const auto* name = steps.size() == 2 ? std::get_if<std::string>(&steps[1]) : nullptr;
        if (!name) return make_error(field, "placeholder " + shown + ": write an environment variable as {{env.NAME}}");
        auto value = scope.env ? scope.env(*name) : process_env(*name);
        if (!value)
            return make_error(field, "environment variable " + quoted(*name) + " is not set (placeholder " + shown +
                                         "); set it in the environment of jobrouter serve");
        return json::value(json::string(*value));
    }
    const json::value* base = scope.roots.if_contains(*root);
    if (!base) return make_error(field, "placeholder " + shown + ": unknown name " + quoted(*root) +
                                            " (use one of: " + known_roots(scope) + ")");
    json_path rest;
    rest.steps.assign(steps.begin() + 1, steps.end());
    const json::value* v = find_json_path(*base, rest);
    if (!v) return make_error(field, "placeholder " + shown + ": the job has no " + std::string(trim(inner)));
    return *v;
}

// "{{ x }}" and nothing else: the inner text; else nullopt.
std::optional<std::string_view> sole_placeholder(std::string_view s) {
    if (s.size() < 4 || s.substr(0, 2) != "{{" || s.substr(s.size() - 2) != "}}") return std::nullopt;
    const std::string_view inner = s.substr(2, s.size() - 4);
    if (inner.find("{{") != std::string_view::npos || inner.find("}}") != std::string_view::npos) return std::nullopt;
    return inner;
}

std::string as_text(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

}  // namespace

result<std::string> render_text(std::string_view text, const template_scope& scope, const std::string& field,
                                const text_encoder& encode) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto open = text.find("{{", pos);
        if (open == std::string_view::npos) break;
        const auto close = text.find("}}", open + 2);
        if (close == std::string_view::npos)
            return make_error(field, "unterminated placeholder: \"{{\" without \"}}\" in " + quoted(text));
        out.append(text.substr(pos, open - pos));
        auto value = lookup(text.substr(open + 2, close - open - 2), scope, field);
        if (!value) return value.error();
        const std::string piece = as_text(*value);
        out += encode ? encode(piece) : piece;
        pos = close + 2;
    }
    out.append(text.substr(pos));
    return out;
}

result<json::value> render_json(const json::value& tmpl, const template_scope& scope, const std::string& field) {
    switch (tmpl.kind()) {
    case json::kind::string: {
        const std::string_view s = tmpl.get_string();
        if (auto inner = sole_placeholder(s)) return lookup(*inner, scope, field);
        if (s.find("{{") == std::string_view::npos) return tmpl;
        auto text = render_text(s, scope, field);
        if (!text) return text.error();
        return json::value(json::string(*text));
    }
    case json::kind::array: {
        json::array out;
        const auto& in = tmpl.get_array();
        for (std::size_t i = 0; i < in.size(); ++i) {
            auto v = render_json(in[i], scope, field + "[" + std::to_string(i) + "]");
            if (!v) return v.error();
            out.push_back(std::move(*v));
        }
        return out;
    }
    case json::kind::object: {
        json::object out;
        for (const auto& kv : tmpl.get_object()) {
            auto v = render_json(kv.value(), scope, field + "." + std::string(kv.key()));
            if (!v) return v.error();
            out[kv.key()] = std::move(*v);
        }
        return out;
    }
    default: return tmpl;
    }
}

}  // namespace jobrouter
