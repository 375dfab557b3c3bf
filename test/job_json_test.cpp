// job_json: iso_time's fast formatter gives exactly what gmtime_r + strftime-style formatting
// gives, on calendar edges (leap days, century years, year ends) and on a sweep of instants.
#define BOOST_TEST_MODULE job_json
#include <boost/test/unit_test.hpp>

#include "server/job_json.hpp"

#include <cstdio>
#include <ctime>
#include <random>

using namespace jobrouter;

namespace {

std::string reference(time_ms t) {
    const std::time_t seconds = static_cast<std::time_t>(t / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(t % 1000));
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_CASE(known_instants) {
    BOOST_TEST(iso_time(0) == "1970-01-01T00:00:00.000Z");
    BOOST_TEST(iso_time(1'700'000'000'123) == "2023-11-14T22:13:20.123Z");
    BOOST_TEST(iso_time(951'782'400'000) == "2000-02-29T00:00:00.000Z");       // leap day of a 400-year
    BOOST_TEST(iso_time(4'107'542'400'000) == "2100-03-01T00:00:00.000Z");     // 2100 has no Feb 29
    BOOST_TEST(iso_time(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");  // last fast-path instant
    BOOST_TEST(iso_time(253'402'300'800'000) == reference(253'402'300'800'000));  // year 10000
}

BOOST_AUTO_TEST_CASE(matches_gmtime_on_every_day_edge_and_a_random_sweep) {
    // The first and last millisecond of every day from 1970 to 2400.
    std::size_t checked = 0, wrong = 0;
    for (time_ms day = 0; day < 157'000; ++day) {
        for (time_ms t : {day * 86'400'000, day * 86'400'000 + 86'399'999}) {
            ++checked;
            if (iso_time(t) != reference(t) && ++wrong <= 5) BOOST_ERROR("t=" << t << ": " << iso_time(t) << " != " << reference(t));
        }
    }
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<time_ms> any(0, 253'402'300'799'999);
    for (int i = 0; i < 200'000; ++i) {
        const time_ms t = any(rng);
        ++checked;
        if (iso_time(t) != reference(t) && ++wrong <= 10) BOOST_ERROR("t=" << t << ": " << iso_time(t) << " != " << reference(t));
    }
    BOOST_TEST(wrong == 0u);
    BOOST_TEST(checked > 500'000u);
}

BOOST_AUTO_TEST_CASE(times_before_1970_keep_the_old_format) {
    BOOST_TEST(iso_time(-86'400'000) == reference(-86'400'000));
    BOOST_TEST(iso_time(-1) == reference(-1));
}
