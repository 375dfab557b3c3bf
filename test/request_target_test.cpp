// request_target: the in-place parse of plain targets gives exactly what the Boost.URL parse
// (the reference below, the router's parser before) gives: validity, decoded segments with the
// trailing slash dropped, and each parameter's last value; on listed edge cases and on random
// targets over an alphabet of every character class that matters.
#define BOOST_TEST_MODULE request_target
#include <boost/test/unit_test.hpp>

#include "server/request_target.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

using namespace jobrouter;

namespace {

struct reference_target {
    std::vector<std::string> segments;
    std::map<std::string, std::string> params;
};

std::optional<reference_target> reference(std::string_view target) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return std::nullopt;
    reference_target t;
    for (auto seg : url->segments()) t.segments.push_back(seg);
    if (!t.segments.empty() && t.segments.back().empty()) t.segments.pop_back();
    for (auto p : url->params()) t.params[p.key] = p.value;
    return t;
}

// Compares everything a caller can see; returns a description of the first difference.
std::string difference(std::string_view target) {
    const auto want = reference(target);
    const auto got = request_target::parse(target);
    if (want.has_value() != got.has_value())
        return std::string(target) + ": valid " + (got ? "here" : "in Boost.URL") + " only";
    if (!want) return {};
    if (got->size() != want->segments.size()) return std::string(target) + ": segment count differs";
    std::string path;
    for (std::size_t i = 0; i < got->size(); ++i) {
        if ((*got)[i] != want->segments[i]) return std::string(target) + ": segment " + std::to_string(i) + " differs";
        path += "/" + want->segments[i];
    }
    if (got->path() != (path.empty() ? "/" : path)) return std::string(target) + ": path() differs";
    for (const auto& [key, value] : want->params) {
        const auto v = got->param(key);
        if (!v || *v != value) return std::string(target) + ": parameter " + key + " differs";
    }
    for (const char* key : {"wait_ms", "limit", "status", "job_id", "a", "b", "", "x y", "a b"})
        if (got->param(key).has_value() != (want->params.count(key) > 0))
            return std::string(target) + ": parameter " + key + " present in one only";
    return {};
}

}  // namespace

BOOST_AUTO_TEST_CASE(listed_targets_match_boost_url) {
    for (const char* target :
         {"/", "/health", "/health/", "/api/jobs", "/api/jobs/", "/api/jobs/h1/complete", "/api/workers/w-1/claim?wait_ms=100",
          "/api/jobs?status=pending&limit=10&cursor=3", "/api/jobs?limit=1&limit=2", "/api/jobs?flag", "/api/jobs?", "/api/jobs?&",
          "/api/jobs?=x", "/api/jobs?a=b=c", "/api/jobs?a=b?c/d", "/api/%61pi", "/api/jobs/a%2Fb", "/api/jobs?x+y=a+b",
          "/api/jobs/a+b", "/api/jobs?a=%zz", "/a//b", "//", "//a", "/a/./b", "/a/../b", "/.", "/..", "/a/.b", "/a#frag",
          "/a?b#c", "", "api/jobs", "*", "/a b", "/a\"b", "/a<b>", "/a\\b", "/a%00b", "/ü", "/a:b@c!$&'()*,;=", "/a?:@!$'()*,;/?",
          "/api/jobs/x?status=pending%20x", "/ws/events?job_id=a&type=b&service_required=c", "/a/b/c/d/e/f/g/h/i/j?p=1&q=2&r=3&s=4&t=5"})
        BOOST_TEST(difference(target) == "", target);
}

BOOST_AUTO_TEST_CASE(random_targets_match_boost_url) {
    const std::string alphabet = "ab0/?&=%+.#: ~_-!*'@2fF";
    std::mt19937 rng(7);
    std::size_t plain = 0;
    for (int i = 0; i < 100000; ++i) {
        std::string t = rng() % 8 == 0 ? "" : "/";
        const std::size_t n = rng() % 16;
        for (std::size_t k = 0; k < n; ++k) t += alphabet[rng() % alphabet.size()];
        const auto d = difference(t);
        if (!d.empty()) BOOST_FAIL(d);
        if (t.find_first_of("%+#") == std::string::npos && reference(t)) ++plain;
    }
    BOOST_TEST(plain > 1000u);  // the in-place path was exercised, not only the fallback
}
