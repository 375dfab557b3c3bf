#define BOOST_TEST_MODULE json_util
#include "core/json_util.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

// json_util pins down two contracts exactly:
// - matching.md section 3, "Equality": deep JSON equality, numbers by value as doubles;
// - trace-format.md "Lines and JSON": strict RFC 8259 parsing.

using namespace jobrouter;

namespace {

// A JSON value from literal text (shallow test values only; parse_strict is under test below).
json::value j(std::string_view text) { return json::parse(text); }

bool equal(std::string_view a, std::string_view b) { return json_equal(j(a), j(b)); }

bool parses(std::string_view text) { return parse_strict(text).has_value(); }

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string nested_objects(std::size_t depth) {
    std::string out;
    for (std::size_t i = 0; i < depth; ++i) out += "{\"a\":";
    out += "1";
    out += std::string(depth, '}');
    return out;
}

}  // namespace

// ---- json_equal -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(equal_integer_and_double_spellings) {
    BOOST_TEST(equal("16", "16.0"));
    BOOST_TEST(equal("16.0", "16"));
    BOOST_TEST(equal("16", "1.6e1"));
    BOOST_TEST(equal("16", "1600e-2"));
    BOOST_TEST(equal("0", "-0.0"));
    BOOST_TEST(!equal("16", "16.5"));
    BOOST_TEST(!equal("16", "17"));
    // Boost.JSON's own operator== says otherwise: that is why matching must not use it.
    BOOST_TEST((j("16") != j("16.0")));
}

BOOST_AUTO_TEST_CASE(equal_int64_uint64_double) {
    const json::value i(std::int64_t{16});
    const json::value u(std::uint64_t{16});
    const json::value d(16.0);
    BOOST_TEST(i.is_int64());
    BOOST_TEST(u.is_uint64());
    BOOST_TEST(d.is_double());
    BOOST_TEST(json_equal(i, u));
    BOOST_TEST(json_equal(u, i));
    BOOST_TEST(json_equal(i, d));
    BOOST_TEST(json_equal(u, d));
    BOOST_TEST(json_equal(d, u));

    const json::value minus_one(std::int64_t{-1});
    const json::value max_u(std::numeric_limits<std::uint64_t>::max());
    BOOST_TEST(!json_equal(minus_one, max_u));
    BOOST_TEST(!json_equal(max_u, minus_one));
    // 2^64 - 1 parses as uint64 and equals its double spelling.
    BOOST_TEST(j("18446744073709551615").is_uint64());
    BOOST_TEST(equal("18446744073709551615", "1.8446744073709552e19"));
}

BOOST_AUTO_TEST_CASE(numbers_never_equal_booleans) {
    BOOST_TEST(!equal("1", "true"));
    BOOST_TEST(!equal("true", "1"));
    BOOST_TEST(!equal("0", "false"));
    BOOST_TEST(!equal("false", "0"));
    BOOST_TEST(!equal("1.0", "true"));
    BOOST_TEST(equal("true", "true"));
    BOOST_TEST(equal("false", "false"));
    BOOST_TEST(!equal("true", "false"));
}

BOOST_AUTO_TEST_CASE(null_only_equals_null) {
    BOOST_TEST(equal("null", "null"));
    for (std::string_view other : {"0", "false", "\"\"", "\"null\"", "[]", "{}", "[null]"}) {
        BOOST_TEST_CONTEXT("null vs " << other) {
            BOOST_TEST(!equal("null", other));
            BOOST_TEST(!equal(other, "null"));
        }
    }
}

BOOST_AUTO_TEST_CASE(strings_by_exact_content) {
    BOOST_TEST(equal("\"a\"", "\"a\""));
    BOOST_TEST(equal("\"\\u0041\"", "\"A\""));
    BOOST_TEST(!equal("\"a\"", "\"A\""));
    BOOST_TEST(!equal("\"16\"", "16"));
    BOOST_TEST(!equal("16", "\"16\""));
    BOOST_TEST(!equal("\"true\"", "true"));
}

BOOST_AUTO_TEST_CASE(arrays_element_by_element_in_order) {
    BOOST_TEST(equal("[]", "[]"));
    BOOST_TEST(equal("[1,2]", "[1,2]"));
    BOOST_TEST(equal("[1,2]", "[1.0,2e0]"));
    BOOST_TEST(!equal("[1,2]", "[2,1]"));
    BOOST_TEST(!equal("[1]", "[1,1]"));
    BOOST_TEST(!equal("[1,1]", "[1]"));
    BOOST_TEST(!equal("[]", "[null]"));
}

BOOST_AUTO_TEST_CASE(nested_arrays_and_objects_compared_deeply) {
    BOOST_TEST(equal(R"([1,["a",{"k":[16,{"z":null}]}]])", R"([1.0,["a",{"k":[16.0,{"z":null}]}]])"));
    BOOST_TEST(!equal(R"([1,["a",{"k":[16,{"z":null}]}]])", R"([1,["a",{"k":[16,{"z":false}]}]])"));
    BOOST_TEST(equal(R"({"a":{"b":{"c":{"d":[1,2]}}}})", R"({"a":{"b":{"c":{"d":[1.0,2.0]}}}})"));
    BOOST_TEST(!equal(R"({"a":{"b":{"c":{"d":[1,2]}}}})", R"({"a":{"b":{"c":{"d":[2,1]}}}})"));
    BOOST_TEST(equal(R"([["a","b"],["c"]])", R"([["a","b"],["c"]])"));
    BOOST_TEST(!equal(R"([["a","b"],["c"]])", R"([["a","b"],[["c"]]])"));
}

BOOST_AUTO_TEST_CASE(objects_regardless_of_key_order) {
    BOOST_TEST(equal(R"({"a":1,"b":2})", R"({"b":2,"a":1})"));
    BOOST_TEST(equal(R"({"a":{"x":1,"y":2},"b":2})", R"({"b":2.0,"a":{"y":2,"x":1}})"));
    BOOST_TEST(!equal(R"({"a":1})", R"({"a":1,"b":2})"));
    BOOST_TEST(!equal(R"({"a":1,"b":2})", R"({"a":1})"));
    BOOST_TEST(!equal(R"({"a":null})", "{}"));
    BOOST_TEST(!equal("{}", R"({"a":null})"));
    BOOST_TEST(!equal(R"({"a":1})", R"({"b":1})"));
    BOOST_TEST(!equal(R"({"a":1})", R"({"a":"1"})"));
}

BOOST_AUTO_TEST_CASE(empty_object_and_empty_array_differ) {
    BOOST_TEST(equal("{}", "{}"));
    BOOST_TEST(equal("[]", "[]"));
    BOOST_TEST(!equal("{}", "[]"));
    BOOST_TEST(!equal("[]", "{}"));
    BOOST_TEST(!equal("[{}]", "[[]]"));
}

// ---- parse_strict ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(parse_strict_accepts_ordinary_json) {
    auto v = parse_strict(R"({"a":[1,2.5,"x",true,null,{"b":-3}],"c":18446744073709551615})");
    BOOST_REQUIRE_MESSAGE(v.has_value(), v.error().text());
    BOOST_TEST(json_equal(*v, j(R"({"a":[1,2.5,"x",true,null,{"b":-3}],"c":18446744073709551615})")));
    BOOST_TEST(parses("0"));
    BOOST_TEST(parses("\"s\""));
    BOOST_TEST(parses("null"));
    BOOST_TEST(parses(" \t\r\n{} \t\r\n"));
    BOOST_TEST(parses("1e308"));
    BOOST_TEST(parses("-1.7976931348623157e308"));
}

BOOST_AUTO_TEST_CASE(parse_strict_rejects_nan_and_infinity) {
    for (std::string_view text : {"NaN", "nan", "Infinity", "-Infinity", "inf", "[NaN]", R"({"a":Infinity})"}) {
        BOOST_TEST_CONTEXT(text) {
            auto v = parse_strict(text);
            BOOST_TEST(!v.has_value());
            if (!v) BOOST_TEST(!v.error().text().empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_strict_rejects_numbers_that_overflow_a_double) {
    for (std::string_view text : {"1e400", "-1e400", "[1,1e400]", R"({"a":{"b":[-1e400]}})", "1.8e308"}) {
        BOOST_TEST_CONTEXT(text) {
            auto v = parse_strict(text);
            BOOST_TEST(!v.has_value());
            if (!v) BOOST_TEST(!v.error().text().empty());
        }
    }
    // An integer literal too long for 64 bits becomes a double; one past DBL_MAX overflows.
    BOOST_TEST(!parses("1" + std::string(400, '0')));
    BOOST_TEST(!parses("-1" + std::string(400, '0')));
    auto big = parse_strict("1" + std::string(30, '0'));
    BOOST_REQUIRE(big.has_value());
    BOOST_TEST(json_equal(*big, j("1e30")));
}

BOOST_AUTO_TEST_CASE(parse_strict_rejects_invalid_utf8) {
    // 0xFF never occurs; C0 AF is an overlong '/'; E2 82 is a truncated sequence; ED A0 80
    // encodes the surrogate U+D800; 80 is a lone continuation byte.
    const std::string_view bad[] = {"\"\xff\"", "\"\xc0\xaf\"", "\"\xe2\x82\"", "\"\xed\xa0\x80\"", "\"\x80\"",
                                    "{\"\xff\":1}"};
    for (std::size_t i = 0; i < std::size(bad); ++i) {
        BOOST_TEST_CONTEXT("case " << i) { BOOST_TEST(!parses(bad[i])); }
    }
    auto euro = parse_strict("\"\xe2\x82\xac\"");
    BOOST_REQUIRE(euro.has_value());
    BOOST_TEST(euro->as_string() == "\xe2\x82\xac");
}

BOOST_AUTO_TEST_CASE(parse_strict_rejects_lone_surrogates) {
    for (std::string_view text : {R"("\ud800")", R"("\udc00")", R"("\ud800x")", R"("\ud800\u0041")",
                                  R"("\udfff\ud800")", R"(["\ud83d"])"}) {
        BOOST_TEST_CONTEXT(text) { BOOST_TEST(!parses(text)); }
    }
    // A proper pair is fine: U+1F600.
    auto pair = parse_strict(R"("\ud83d\ude00")");
    BOOST_REQUIRE(pair.has_value());
    BOOST_TEST(pair->as_string() == "\xf0\x9f\x98\x80");
}

BOOST_AUTO_TEST_CASE(parse_strict_depth_64_accepted_65_rejected) {
    BOOST_TEST(kMaxJsonDepth == 64u);
    BOOST_TEST(parses(nested_arrays(64)));
    BOOST_TEST(!parses(nested_arrays(65)));
    BOOST_TEST(parses(nested_objects(64)));
    BOOST_TEST(!parses(nested_objects(65)));
    BOOST_TEST(!parses(nested_arrays(1000)));
    auto deep = parse_strict(nested_arrays(65));
    BOOST_REQUIRE(!deep.has_value());
    BOOST_TEST(!deep.error().text().empty());
}

BOOST_AUTO_TEST_CASE(parse_strict_duplicate_keys_last_wins) {
    auto v = parse_strict(R"({"a":1,"b":true,"a":2})");
    BOOST_REQUIRE_MESSAGE(v.has_value(), v.error().text());
    BOOST_REQUIRE(v->is_object());
    BOOST_TEST(v->get_object().size() == 2u);
    BOOST_TEST(json_equal(v->get_object().at("a"), j("2")));

    auto nested = parse_strict(R"({"o":{"k":"first","k":"second"},"o2":[{"x":[1],"x":{"y":null}}]})");
    BOOST_REQUIRE_MESSAGE(nested.has_value(), nested.error().text());
    BOOST_TEST(json_equal(*nested, j(R"({"o":{"k":"second"},"o2":[{"x":{"y":null}}]})")));
}

BOOST_AUTO_TEST_CASE(parse_strict_rejects_trailing_garbage) {
    for (std::string_view text : {"{} x", "{}{}", "1 2", "[1]]", "\"a\"\"b\"", "null,", "{}\x01"}) {
        BOOST_TEST_CONTEXT(text) { BOOST_TEST(!parses(text)); }
    }
    BOOST_TEST(parses("{} \n"));
}

BOOST_AUTO_TEST_CASE(parse_strict_rejects_non_rfc_syntax) {
    for (std::string_view text : {"", "   ", "[1,]", R"({"a":1,})", "// c\n{}", "/* c */ {}", "01", "+1", ".5",
                                  "'a'", "{a:1}", "[1 2]", "tru"}) {
        BOOST_TEST_CONTEXT("[" << text << "]") { BOOST_TEST(!parses(text)); }
    }
}

// ---- numbers and descriptions used in messages -----------------------------------------------

BOOST_AUTO_TEST_CASE(is_number_as_double_as_integer) {
    BOOST_TEST(is_number(j("1")));
    BOOST_TEST(is_number(j("1.5")));
    BOOST_TEST(is_number(j("18446744073709551615")));
    BOOST_TEST(!is_number(j("true")));
    BOOST_TEST(!is_number(j("\"1\"")));
    BOOST_TEST(!is_number(j("null")));
    BOOST_TEST(as_double(j("16")) == 16.0);
    BOOST_TEST(as_double(j("1.5")) == 1.5);
    BOOST_TEST(as_integer(j("42")).value_or(-1) == 42);
    BOOST_TEST(as_integer(j("-7")).value_or(0) == -7);
    BOOST_TEST(as_integer(json::value(std::uint64_t{5})).value_or(0) == 5);
    BOOST_TEST(!as_integer(j("1.0")).has_value());
    BOOST_TEST(!as_integer(j("1e2")).has_value());
    BOOST_TEST(!as_integer(j("18446744073709551615")).has_value());
    BOOST_TEST(!as_integer(j("\"1\"")).has_value());
}

BOOST_AUTO_TEST_CASE(format_number_as_people_write_it) {
    BOOST_TEST(format_number(j("16")) == "16");
    BOOST_TEST(format_number(j("-3")) == "-3");
    BOOST_TEST(format_number(j("16.0")) == "16");
    BOOST_TEST(format_number(j("1.5")) == "1.5");
    BOOST_TEST(format_number(j("0.1")) == "0.1");
    BOOST_TEST(format_number(j("1e2")) == "100");
    BOOST_TEST(format_number(j("1e23")) == "1e+23");
    BOOST_TEST(format_number(j("18446744073709551615")) == "18446744073709551615");
    BOOST_TEST(format_number(j("-9223372036854775808")) == "-9223372036854775808");
}

BOOST_AUTO_TEST_CASE(describe_values_for_messages) {
    BOOST_TEST(describe(j("null")) == "null");
    BOOST_TEST(describe(j("true")) == "boolean true");
    BOOST_TEST(describe(j("false")) == "boolean false");
    BOOST_TEST(describe(j("16")) == "number 16");
    BOOST_TEST(describe(j("16.0")) == "number 16");
    BOOST_TEST(describe(j("1.5")) == "number 1.5");
    BOOST_TEST(describe(j("\"16\"")) == "string \"16\"");
    BOOST_TEST(describe(j("\"a\\\"b\"")) == "string \"a\\\"b\"");
    BOOST_TEST(describe(j("\"\"")) == "string \"\"");
    BOOST_TEST(describe(j("[1,2]")) == "array");
    BOOST_TEST(describe(j("{\"a\":1}")) == "object");
}

BOOST_AUTO_TEST_CASE(describe_shortens_long_strings) {
    const std::string long_text(200, 'x');
    const std::string d = describe(json::value(long_text));
    BOOST_TEST(d.rfind("string \"xxx", 0) == 0u);
    BOOST_TEST(d.size() < long_text.size());
    BOOST_TEST(d.size() >= 4u);
    BOOST_TEST(d.substr(d.size() - 4) == "...\"");
}

// Found by the replay fuzz target: the cut fell inside a two-byte character, and the error
// line replay wrote was not valid JSON.
BOOST_AUTO_TEST_CASE(describe_shortens_long_strings_at_a_character_boundary) {
    for (std::size_t pad = 0; pad < 4; ++pad) {
        std::string text(pad, 'a');
        for (int i = 0; i < 40; ++i) text += "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // é € 😀
        const std::string d = describe(json::value(text));
        BOOST_TEST_CONTEXT("pad " << pad << ": " << d) {
            BOOST_TEST(d.substr(d.size() - 4) == "...\"");
            // Valid UTF-8, so it can go into JSON: Boost.JSON's parser rejects anything else.
            boost::system::error_code ec;
            (void)json::parse(quoted(d), ec);
            BOOST_TEST(!ec, ec.message());
        }
    }
}

BOOST_AUTO_TEST_CASE(valid_utf8_keeps_characters_and_replaces_bad_bytes) {
    const std::string fffd = "\xEF\xBF\xBD";
    BOOST_TEST(valid_utf8("plain /api/jobs") == "plain /api/jobs");
    BOOST_TEST(valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") == "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    BOOST_TEST(valid_utf8("a\xFF" "b") == "a" + fffd + "b");
    BOOST_TEST(valid_utf8("\xC3") == fffd);                      // truncated
    BOOST_TEST(valid_utf8("\xC0\xAF") == fffd + fffd);          // overlong '/'
    BOOST_TEST(valid_utf8("\xED\xA0\x80") == fffd + fffd + fffd);  // a surrogate
    BOOST_TEST(valid_utf8("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
    boost::system::error_code ec;
    (void)json::parse(quoted(valid_utf8(std::string_view("\x80\xBF\xFE\xC3(", 5))), ec);
    BOOST_TEST(!ec, ec.message());
}

BOOST_AUTO_TEST_CASE(to_json_and_quoted) {
    BOOST_TEST(to_json(j(R"({ "a" : [1, 2.5, "x"] , "b" : null })")) == R"({"a":[1,2.5E0,"x"],"b":null})");
    BOOST_TEST(to_json(j(R"({"k":[true,{}]})")) == R"({"k":[true,{}]})");
    BOOST_TEST(quoted("abc") == "\"abc\"");
    BOOST_TEST(quoted("a\"b\\c") == "\"a\\\"b\\\\c\"");
    BOOST_TEST(quoted(std::string_view("\n\x01", 2)) == "\"\\n\\u0001\"");
}
