// index_order: the job index hands out jobs in exactly matching.md's rank order (score
// descending, then id descending) through every path its buckets have: jobs appended to a
// priority band's run, ties on score put a few places before the back, jobs that come out of
// order (the heap), holes left by cancelled jobs and their closing up, retried and released
// jobs that keep their score, runs that grow while their front is taken, and the buckets of
// one service taking turns as their heads change.
#define BOOST_TEST_MODULE index_order
#include "core/scheduler.hpp"

#include "strategies/strategy_registry.hpp"
#include "test/support/one_service_mapping.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace jobrouter;

namespace {

constexpr time_ms kT0 = 1700000000000;

const service_mapping& mapping() { return test::one_service_mapping(); }

struct fixture {
    fixture() : strat(make_strategy("job-type").value()), s(mapping(), *strat, scheduler_options{1000, 0, 0}) {
        s.advance(kT0);
        BOOST_REQUIRE(s.register_worker(parse_worker(json::parse(R"({"worker_id":"w","job_types":["x"]})"), mapping()).value()));
    }

    /// A job of service "x"; each workflow id makes another class, so another bucket.
    void submit(const std::string& id, std::int64_t priority, std::optional<std::int64_t> datetime = std::nullopt,
                const std::string& workflow_id = "") {
        json::object o{{"id", id}, {"service_required", "x"}, {"priority", priority}};
        if (datetime) o["workflow_datetime"] = *datetime;
        if (!workflow_id.empty()) o["workflow_id"] = workflow_id;
        BOOST_REQUIRE(s.submit(parse_job_spec(o).value()));
    }

    /// The pending jobs in rank order, by brute force (matching.md section 1).
    std::vector<std::string> expected_order() const {
        std::vector<const job*> pending;
        s.for_each_job([&](const job& j) {
            if (j.status == job_status::pending) pending.push_back(&j);
        });
        std::sort(pending.begin(), pending.end(), [](const job* a, const job* b) { return ranks_before(*a, *b); });
        std::vector<std::string> ids;
        for (const job* j : pending) ids.push_back(j->id);
        return ids;
    }

    /// Claims (and completes) the next job; "" when none.
    std::string take() {
        auto r = s.claim("w");
        BOOST_REQUIRE(r);
        if (!*r) return "";
        std::string id = (*r)->id;
        BOOST_REQUIRE(s.complete(id));
        return id;
    }

    /// Takes every pending job and checks the order against the brute-force one.
    void drain_in_rank_order() {
        const std::vector<std::string> want = expected_order();
        std::vector<std::string> got;
        for (std::string id = take(); !id.empty(); id = take()) got.push_back(id);
        BOOST_TEST(got == want, boost::test_tools::per_element());
        BOOST_TEST(s.pending_count() == 0u);
    }

    std::unique_ptr<strategy> strat;
    scheduler s;
};

}  // namespace

BOOST_AUTO_TEST_CASE(same_millisecond_ties_go_before_the_last_ones_by_id) {
    fixture f;
    // Each millisecond: ids ascending, so each ranks before the ones of its millisecond so far.
    int n = 0;
    for (int ms = 0; ms < 20; ++ms) {
        f.s.advance(kT0 + ms);
        for (int k = 0; k < 1 + ms % 12; ++k) f.submit("j" + std::to_string(100000 + n++), 50);
    }
    f.drain_in_rank_order();
}

BOOST_AUTO_TEST_CASE(bands_and_out_of_order_jobs_interleave_in_rank_order) {
    fixture f;
    std::mt19937 rng(7);
    for (int n = 0; n < 3000; ++n) {
        if (n % 50 == 0) f.s.advance(kT0 + n / 50);
        const std::int64_t priority = 40 + 10 * static_cast<std::int64_t>(rng() % 4);
        // One in eight from a random moment in the past: it ranks inside its band, not at the back.
        std::optional<std::int64_t> datetime;
        if (rng() % 8 == 0) datetime = kT0 - static_cast<std::int64_t>(rng() % 100000);
        f.submit("j" + std::to_string(rng() % 1000000000) + "-" + std::to_string(n), priority, datetime);
    }
    f.drain_in_rank_order();
}

BOOST_AUTO_TEST_CASE(claims_interleaved_with_submissions_cancels_and_retries_stay_in_rank_order) {
    fixture f;
    std::mt19937 rng(11);
    std::vector<std::string> ids;
    int n = 0;
    for (int step = 0; step < 8000; ++step) {
        if (step % 40 == 0) f.s.advance(f.s.now() + 1);
        const unsigned op = rng() % 100;
        if (op < 45) {
            const std::int64_t priority = 40 + 10 * static_cast<std::int64_t>(rng() % 3);
            std::optional<std::int64_t> datetime;
            if (rng() % 20 == 0) datetime = kT0 - static_cast<std::int64_t>(rng() % 1000);
            ids.push_back("j" + std::to_string(n++));
            f.submit(ids.back(), priority, datetime);
        } else if (op < 75) {
            const std::vector<std::string> want = f.expected_order();
            auto r = f.s.claim("w");
            BOOST_REQUIRE(r);
            BOOST_REQUIRE_EQUAL(*r ? (*r)->id : std::string(), want.empty() ? std::string() : want.front());
            if (*r) {
                const std::string id = (*r)->id;
                // Complete most; fail (retry with back-off 0: pending again at once, same score)
                // or release some.
                const unsigned what = rng() % 10;
                if (what < 7) BOOST_REQUIRE(f.s.complete(id));
                else if (what < 9) BOOST_REQUIRE(f.s.fail(id, true));
                else BOOST_REQUIRE(f.s.release(id));
            }
        } else if (!ids.empty()) {
            // Cancel a random job (a pending one leaves a hole in its run).
            (void)f.s.cancel(ids[rng() % ids.size()]);
        }
    }
    f.drain_in_rank_order();
}

BOOST_AUTO_TEST_CASE(cancelling_most_of_a_long_run_keeps_the_rest_in_order) {
    fixture f;
    for (int n = 0; n < 2000; ++n) {
        f.s.advance(kT0 + n);
        f.submit("j" + std::to_string(10000 + n), 50);
    }
    // Holes everywhere but every seventh job: the run closes them up as they pile up.
    for (int n = 0; n < 2000; ++n)
        if (n % 7 != 0) BOOST_REQUIRE(f.s.cancel("j" + std::to_string(10000 + n)));
    BOOST_TEST(f.s.pending_count() == 286u);
    // New jobs after the survivors, and one from the past that goes before them all.
    for (int n = 0; n < 50; ++n) f.submit("k" + std::to_string(n), 50);
    f.submit("old", 50, kT0 - 5000);
    BOOST_TEST(f.take() == "old");
    f.drain_in_rank_order();
}

BOOST_AUTO_TEST_CASE(buckets_of_one_service_take_turns_in_rank_order) {
    fixture f;  // the worker has no workflow_id: it takes every workflow's jobs (R1)
    std::mt19937 rng(3);
    std::vector<std::string> ids;
    int n = 0;
    for (int step = 0; step < 10000; ++step) {
        if (step % 25 == 0) f.s.advance(f.s.now() + 1);
        const unsigned op = rng() % 100;
        if (op < 50) {
            const std::int64_t priority = 40 + 10 * static_cast<std::int64_t>(rng() % 4);
            std::optional<std::int64_t> datetime;
            if (rng() % 25 == 0) datetime = kT0 - static_cast<std::int64_t>(rng() % 1000);
            ids.push_back("j" + std::to_string(n++));
            f.submit(ids.back(), priority, datetime, "wf" + std::to_string(rng() % 20));
        } else if (op < 95) {
            const std::vector<std::string> want = f.expected_order();
            BOOST_REQUIRE_EQUAL(f.take(), want.empty() ? std::string() : want.front());
        } else if (!ids.empty()) {
            (void)f.s.cancel(ids[rng() % ids.size()]);
        }
    }
    f.drain_in_rank_order();
}
