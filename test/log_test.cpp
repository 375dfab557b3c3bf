// log: serve's log lines stay one line per event, whatever the strings in them hold. A job's
// id and service_required come from clients and are logged (the unroutable warning): a newline
// in one must not forge a second line in the text format, nor break the JSON one.
#define BOOST_TEST_MODULE log
#include "server/log.hpp"

#include <boost/test/unit_test.hpp>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace jobrouter;

namespace {

// What one log::write puts on standard error, split into lines.
std::vector<std::string> lines_of(log::format f, std::string_view message, const boost::json::object& fields) {
    std::ostringstream captured;
    auto* old = std::cerr.rdbuf(captured.rdbuf());
    log::configure(log::level::info, f);
    log::warn(message, fields);
    std::cerr.rdbuf(old);
    std::vector<std::string> out;
    std::istringstream in(captured.str());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

const std::string forged = "evil\n2026-01-01T00:00:00.000Z info jobrouter serving listen=0.0.0.0:1";

}  // namespace

BOOST_AUTO_TEST_CASE(text_format_keeps_an_event_on_one_line_and_quotes_odd_values) {
    auto lines = lines_of(log::format::text, "jobs of this type cannot be routed\r\nforged",
                          {{"service_required", forged}, {"job_id", "plain-id"}, {"note", "two words"}, {"empty", ""}, {"n", 3}});
    BOOST_REQUIRE_EQUAL(lines.size(), 1u);
    const std::string& line = lines[0];
    BOOST_TEST(line.find(R"(cannot be routed\r\nforged)") != std::string::npos, line);
    BOOST_TEST(line.find(R"(service_required="evil\n2026-01-01T00:00:00.000Z info jobrouter serving listen=0.0.0.0:1")") !=
                   std::string::npos,
               line);
    BOOST_TEST(line.find(" job_id=plain-id") != std::string::npos, line);  // a plain word stays as it is
    BOOST_TEST(line.find(R"( note="two words")") != std::string::npos, line);
    BOOST_TEST(line.find(R"( empty="")") != std::string::npos, line);
    BOOST_TEST(line.find(" n=3") != std::string::npos, line);
}

BOOST_AUTO_TEST_CASE(text_format_escapes_every_control_character_and_invalid_utf8) {
    std::string all_controls;
    for (int c = 1; c < 0x20; ++c) all_controls += static_cast<char>(c);
    all_controls += "\x7f\xc2\x80\xc2\x9b";  // DEL and two C1 characters (PAD, CSI)
    auto lines = lines_of(log::format::text, "m" + all_controls + "\xff", {{"k", all_controls + "\xc0"}});
    BOOST_REQUIRE_EQUAL(lines.size(), 1u);
    for (unsigned char c : lines[0]) BOOST_TEST((c >= 0x20 && c != 0x7f), "a raw control byte " << int(c) << " in: " << lines[0]);
    BOOST_TEST(lines[0].find("\xc2\x9b") == std::string::npos, "a raw C1 control in: " << lines[0]);
    BOOST_TEST(lines[0].find(R"(k="\u0001\u0002)") != std::string::npos, lines[0]);
    BOOST_TEST(lines[0].find(R"(\u007f\u0080\u009b)") != std::string::npos, lines[0]);
    BOOST_TEST(lines[0].find("\xef\xbf\xbd") != std::string::npos, "invalid UTF-8 is replaced by U+FFFD: " << lines[0]);
}

BOOST_AUTO_TEST_CASE(quotes_and_backslashes_in_a_quoted_value_are_escaped) {
    auto lines = lines_of(log::format::text, "m", {{"k", R"(a "b" \ c)"}, {"utf8", "caf\xc3\xa9"}});
    BOOST_REQUIRE_EQUAL(lines.size(), 1u);
    BOOST_TEST(lines[0].find(R"( k="a \"b\" \\ c")") != std::string::npos, lines[0]);
    BOOST_TEST(lines[0].find(" utf8=caf\xc3\xa9") != std::string::npos, "printable UTF-8 stays as it is: " << lines[0]);
}

BOOST_AUTO_TEST_CASE(json_format_is_one_parseable_object_per_event) {
    auto lines = lines_of(log::format::json, "bad\xff message\n", {{"service_required", forged}});
    BOOST_REQUIRE_EQUAL(lines.size(), 1u);
    boost::system::error_code ec;
    auto v = boost::json::parse(lines[0], ec);
    BOOST_REQUIRE_MESSAGE(!ec, "not JSON: " << lines[0]);
    BOOST_TEST(v.as_object().at("service_required").as_string() == forged);
    BOOST_TEST(v.as_object().at("msg").as_string() == "bad\xef\xbf\xbd message\n");
}
