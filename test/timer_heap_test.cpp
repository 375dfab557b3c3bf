// timer_heap: one timer per job, earliest first, ties by job id ascending; setting a job's
// timer again moves it, clearing removes it. Checked against std::set on random runs.
#define BOOST_TEST_MODULE timer_heap
#include "core/timer_heap.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>
#include <random>
#include <set>

using namespace jobrouter;

BOOST_AUTO_TEST_CASE(pops_in_due_order_then_id_order) {
    std::vector<job> jobs(3);
    jobs[0].id = "b";
    jobs[1].id = "a";
    jobs[2].id = "c";
    timer_heap h;
    h.set(jobs[0], 10);
    h.set(jobs[1], 10);
    h.set(jobs[2], 5);
    BOOST_TEST(h.next_job().id == "c");
    BOOST_TEST(*h.due(jobs[0]) == 10);
    h.clear(jobs[2]);
    BOOST_TEST(!h.due(jobs[2]).has_value());
    BOOST_TEST(h.next_job().id == "a");  // equal times: id ascending
    h.set(jobs[1], 20);                  // moved later
    BOOST_TEST(h.next_job().id == "b");
    BOOST_TEST(h.next_at() == 10);
}

BOOST_AUTO_TEST_CASE(random_sets_moves_and_clears_agree_with_a_set) {
    std::mt19937 rng(11);
    std::vector<job> jobs(300);
    for (std::size_t i = 0; i < jobs.size(); ++i) jobs[i].id = "j" + std::to_string(i);
    timer_heap h;
    std::set<std::pair<time_ms, std::string>> expected;
    std::vector<std::optional<time_ms>> due(jobs.size());
    for (int step = 0; step < 40'000; ++step) {
        const std::size_t i = rng() % jobs.size();
        switch (rng() % 4) {
        case 0:
        case 1: {
            const time_ms at = static_cast<time_ms>(rng() % 50);  // many ties
            if (due[i]) expected.erase({*due[i], jobs[i].id});
            h.set(jobs[i], at);
            due[i] = at;
            expected.insert({at, jobs[i].id});
            break;
        }
        case 2:
            if (due[i]) expected.erase({*due[i], jobs[i].id});
            h.clear(jobs[i]);
            due[i].reset();
            break;
        default:
            if (!expected.empty()) {
                BOOST_TEST_REQUIRE(!h.empty());
                BOOST_TEST_REQUIRE(h.next_at() == expected.begin()->first);
                BOOST_TEST_REQUIRE(h.next_job().id == expected.begin()->second);
                job& first = h.next_job();
                h.clear(first);
                expected.erase(expected.begin());
                due[static_cast<std::size_t>(&first - &jobs[0])].reset();
            } else {
                BOOST_TEST_REQUIRE(h.empty());
            }
        }
        BOOST_TEST_REQUIRE((h.due(jobs[i]) == due[i]));
    }
}
