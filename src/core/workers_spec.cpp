#include "core/workers_spec.hpp"

#include "core/json_util.hpp"

#include <charconv>
#include <limits>

namespace jobrouter {

namespace {

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n\v\f";
    const auto first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// Digits only: "+2", "2.0" and "2x" are refused rather than read as 2, so a typo never
// silently changes how many workers start.
result<int> parse_count(std::string_view text) {
    if (text.empty()) return make_error("", "the count after \":\" is empty (write type:N with N >= 1, or just type)");
    for (char c : text)
        if (c < '0' || c > '9') return make_error("", "count " + quoted(text) + " must be an integer >= 1");
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range)
        return make_error("", "count " + quoted(text) + " is too large (at most " +
                                  std::to_string(std::numeric_limits<int>::max()) + ")");
    if (value < 1) return make_error("", "count " + quoted(text) + " must be an integer >= 1");
    return value;
}

}  // namespace

result<std::vector<worker_count>> parse_workers_spec(std::string_view spec, const service_mapping& mapping,
                                                     std::string_view origin) {
    std::vector<worker_count> out;
    if (trim(spec).empty()) return out;
    const std::string where(origin);
    std::size_t number = 0;
    std::size_t pos = 0;
    while (true) {
        ++number;
        const auto comma = spec.find(',', pos);
        const auto item =
            trim(spec.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
        const std::string label = "item " + std::to_string(number) + " " + quoted(item);
        if (item.empty())
            return make_error(where, "item " + std::to_string(number) + " is empty (remove the extra comma)");

        const auto colon = item.find(':');
        const auto type = trim(item.substr(0, colon));
        if (type.empty()) return make_error(where, label + ": the worker type is empty");
        int count = 1;
        if (colon != std::string_view::npos) {
            auto parsed = parse_count(trim(item.substr(colon + 1)));
            if (!parsed) return make_error(where, label + ": " + parsed.error().message);
            count = *parsed;
        }
        if (!mapping.find_worker_type(type)) {
            const std::string valid = mapping.workers.empty() ? "none" : mapping.worker_type_list();
            return make_error(where, label + ": worker type " + quoted(type) + " is not in the workers of " +
                                         mapping.source_name + " (valid: " + valid + ")");
        }
        for (const auto& earlier : out)
            if (earlier.worker_type == type)
                return make_error(where, label + ": worker type " + quoted(type) +
                                             " appears twice (give it once, with the total count)");
        out.push_back({std::string(type), count});

        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return out;
}

}  // namespace jobrouter
