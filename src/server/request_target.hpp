// request_target: the decoded path segments and query parameters of an HTTP request target
// (origin-form, RFC 9112: "/api/workers/w1/claim?wait_ms=100"), as Boost.URL's url_view
// decodes them (segments(), params()): segments percent-decoded, a trailing slash dropped
// ("/api/jobs/" is "/api/jobs"), a repeated parameter's last value winning, a parameter without
// '=' holding "". A target Boost.URL refuses is refused.
//
// Parsed on every request (for the auth class and for the route), so a plain target (only
// unreserved and sub-delim characters, no '%' or '+', no empty or dot segment) is split in
// place without allocating; any other goes through Boost.URL. Both give the same answer
// (test/request_target_test.cpp). A plain target's pieces view `target`: it must outlive the
// request_target.
#pragma once

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace jobrouter {

class request_target {
public:
    /// nullopt when `target` is not a valid origin-form target.
    static std::optional<request_target> parse(std::string_view target);

    std::size_t size() const { return segments_.size(); }
    bool empty() const { return segments_.empty(); }
    /// The i-th decoded path segment.
    std::string_view operator[](std::size_t i) const { return view(segments_[i]); }
    /// The path segments are exactly `expected`.
    bool is(std::initializer_list<std::string_view> expected) const;
    /// The decoded value of query parameter `key` (the last one when repeated), nullopt when absent.
    std::optional<std::string_view> param(std::string_view key) const;
    /// "/a/b" from the decoded segments ("/" when there are none).
    std::string path() const;

private:
    struct span {
        std::size_t offset, length;
    };
    struct param_span {
        span key, value;
    };
    std::string_view text() const { return decoded_ ? std::string_view(*decoded_) : target_; }
    std::string_view view(span s) const { return text().substr(s.offset, s.length); }
    static std::optional<request_target> parse_plain(std::string_view target);
    static std::optional<request_target> parse_url(std::string_view target);

    std::string_view target_;               ///< a plain target: spans point into it
    std::optional<std::string> decoded_;    ///< otherwise: the decoded pieces, spans point here
    boost::container::small_vector<span, 6> segments_;
    boost::container::small_vector<param_span, 4> params_;
};

}  // namespace jobrouter
