#include "server/request_target.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace jobrouter {

namespace {

// RFC 3986 pchar without pct-encoded and '+': unreserved, sub-delims but '+', ':' and '@'.
// Each of these is itself after decoding, in a path and in a query alike.
constexpr bool plain_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '-': case '.': case '_': case '~':                                          // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case ',':  // sub-delims
    case ';': case '=': case ':': case '@': return true;
    default: return false;
    }
}

}  // namespace

std::optional<request_target> request_target::parse(std::string_view target) {
    if (auto plain = parse_plain(target)) return plain;
    return parse_url(target);
}

// nullopt when `target` is not plain (Boost.URL then decides): every segment non-empty (but a
// trailing one), not "." or "..", and made of plain characters; the query of plain characters,
// '/' and '?'.
std::optional<request_target> request_target::parse_plain(std::string_view target) {
    if (target.empty() || target[0] != '/') return std::nullopt;
    request_target t;
    t.target_ = target;
    const std::size_t query_at = target.find('?');
    const std::size_t path_end = query_at == std::string_view::npos ? target.size() : query_at;
    std::size_t start = 1;
    while (start <= path_end) {
        std::size_t end = start;
        while (end < path_end && target[end] != '/') {
            if (!plain_char(target[end])) return std::nullopt;
            ++end;
        }
        const std::string_view seg = target.substr(start, end - start);
        if (seg.empty()) {
            if (end != path_end) return std::nullopt;  // "//": an empty segment inside the path
            break;                                     // "/" or a trailing slash
        }
        if (seg == "." || seg == "..") return std::nullopt;
        t.segments_.push_back(span{start, end - start});
        start = end + 1;
    }
    if (query_at == std::string_view::npos) return t;
    // Every '&'-separated piece is a parameter, as Boost.URL counts them ("?" is one, empty).
    std::size_t p = query_at + 1;
    for (;;) {
        std::size_t end = p, eq = std::string_view::npos;
        while (end < target.size() && target[end] != '&') {
            const char c = target[end];
            if (c == '=' && eq == std::string_view::npos) eq = end;
            else if (!plain_char(c) && c != '/' && c != '?') return std::nullopt;
            ++end;
        }
        if (eq == std::string_view::npos) t.params_.push_back(param_span{{p, end - p}, {end, 0}});
        else t.params_.push_back(param_span{{p, eq - p}, {eq + 1, end - eq - 1}});
        if (end == target.size()) break;
        p = end + 1;
    }
    return t;
}

std::optional<request_target> request_target::parse_url(std::string_view target) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return std::nullopt;
    request_target t;
    std::string& text = t.decoded_.emplace();
    auto add = [&text](const std::string& piece) {
        const span s{text.size(), piece.size()};
        text += piece;
        return s;
    };
    for (auto seg : url->segments()) t.segments_.push_back(add(seg));
    if (!t.segments_.empty() && t.segments_.back().length == 0) t.segments_.pop_back();  // trailing slash
    for (auto p : url->params()) t.params_.push_back(param_span{add(p.key), add(p.value)});
    return t;
}

bool request_target::is(std::initializer_list<std::string_view> expected) const {
    if (expected.size() != segments_.size()) return false;
    std::size_t i = 0;
    for (auto e : expected)
        if ((*this)[i++] != e) return false;
    return true;
}

std::optional<std::string_view> request_target::param(std::string_view key) const {
    for (auto it = params_.rbegin(); it != params_.rend(); ++it)
        if (view(it->key) == key) return view(it->value);
    return std::nullopt;
}

std::string request_target::path() const {
    if (segments_.empty()) return "/";
    std::string out;
    for (auto s : segments_) {
        out += '/';
        out += view(s);
    }
    return out;
}

}  // namespace jobrouter
