#include "connectors/json_path.hpp"

#include "core/json_util.hpp"

#include <charconv>

namespace jobrouter {

namespace json = boost::json;

result<json_path> parse_json_path(std::string_view text, const std::string& field) {
    json_path p;
    p.text = std::string(text);
    const auto bad = [&](const std::string& why) {
        return make_error(field, "bad path " + quoted(text) + ": " + why +
                                     " (write keys separated by '.', indexes as [n], e.g. \"choices[0].message.content\")");
    };
    std::size_t i = 0;
    bool expect_key = true;  // at the start and after '.'
    while (i < text.size()) {
        if (text[i] == '[') {
            const auto close = text.find(']', i);
            if (close == std::string_view::npos) return bad("unclosed '['");
            const std::string_view digits = text.substr(i + 1, close - i - 1);
            std::size_t index = 0;
            const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
            if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
                return bad("an index must be a non-negative integer, got [" + std::string(digits) + "]");
            p.steps.emplace_back(index);
            i = close + 1;
            expect_key = false;
            continue;
        }
        if (text[i] == '.') {
            if (expect_key) return bad("empty key");
            ++i;
            expect_key = true;
            if (i == text.size()) return bad("ends with '.'");
            continue;
        }
        if (!expect_key) return bad("a key must follow '.'");
        std::size_t end = i;
        while (end < text.size() && text[end] != '.' && text[end] != '[') {
            if (text[end] == ']') return bad("unexpected ']'");
            ++end;
        }
        p.steps.emplace_back(std::string(text.substr(i, end - i)));
        i = end;
        expect_key = false;
    }
    return p;
}

const json::value* find_json_path(const json::value& root, const json_path& path) {
    const json::value* at = &root;
    for (const auto& step : path.steps) {
        if (const auto* key = std::get_if<std::string>(&step)) {
            const json::object* o = at->if_object();
            at = o ? o->if_contains(*key) : nullptr;
        } else {
            const json::array* a = at->if_array();
            const std::size_t index = std::get<std::size_t>(step);
            at = a && index < a->size() ? &(*a)[index] : nullptr;
        }
        if (!at) return nullptr;
    }
    return at;
}

}  // namespace jobrouter
