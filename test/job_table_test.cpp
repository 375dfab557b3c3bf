// job_table: the scheduler's jobs by id (open addressing, backward-shift deletion, records in
// stable chunks). Checked against std::map on long random runs of inserts and erases, where
// probe runs wrap around the table and grow across resizes.
#define BOOST_TEST_MODULE job_table
#include "core/job_table.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <random>

using namespace jobrouter;

namespace {

job make(const std::string& id, std::uint64_t seq) {
    job j;
    j.id = id;
    j.seq = seq;
    return j;
}

}  // namespace

BOOST_AUTO_TEST_CASE(finds_what_was_inserted_and_nothing_else) {
    job_table t;
    BOOST_TEST(t.find("a") == nullptr);
    job& a = t.insert(make("a", 1));
    job& b = t.insert(make("b", 2));
    BOOST_TEST(t.find("a") == &a);
    BOOST_TEST(t.find("b") == &b);
    BOOST_TEST(t.find("c") == nullptr);
    BOOST_TEST(t.find("") == nullptr);
    BOOST_TEST(t.size() == 2u);
    t.erase(a);
    BOOST_TEST(t.find("a") == nullptr);
    BOOST_TEST(t.find("b") == &b);
    BOOST_TEST(t.size() == 1u);
}

BOOST_AUTO_TEST_CASE(random_inserts_and_erases_agree_with_a_map) {
    std::mt19937 rng(7);
    job_table t;
    std::map<std::string, std::pair<job*, std::uint64_t>> expected;
    std::uint64_t seq = 0;
    for (int step = 0; step < 60'000; ++step) {
        // Few distinct ids, so that ids come back after being erased.
        const std::string id = "job-" + std::to_string(rng() % 5'000);
        auto it = expected.find(id);
        if (it == expected.end()) {
            job& j = t.insert(make(id, ++seq));
            expected.emplace(id, std::make_pair(&j, seq));
        } else if (rng() % 3 != 0) {
            t.erase(*it->second.first);
            expected.erase(it);
        }
        if (step % 1000 == 0 || step == 59'999) {
            BOOST_TEST_REQUIRE(t.size() == expected.size());
            for (const auto& [key, value] : expected) {
                job* found = t.find(key);
                BOOST_TEST_REQUIRE(found == value.first, "lost " << key);
                BOOST_TEST_REQUIRE(found->seq == value.second);  // the record did not move or change
            }
            for (int k = 0; k < 200; ++k) {
                const std::string other = "job-" + std::to_string(rng() % 5'000);
                BOOST_TEST_REQUIRE((t.find(other) != nullptr) == (expected.count(other) == 1));
            }
            std::size_t visited = 0;
            t.for_each([&](const job& j) {
                ++visited;
                BOOST_TEST_REQUIRE(expected.count(j.id) == 1u);
            });
            BOOST_TEST_REQUIRE(visited == expected.size());
        }
    }
}
