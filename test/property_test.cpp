// Property test: on random traces, every indexed claim equals a brute-force scan that applies
// the rules (matching.md section 3) to every pending job in rank order (section 1).
#define BOOST_TEST_MODULE property
#include "core/scheduler.hpp"

#include "strategies/strategy_registry.hpp"
#include "test/support/random_trace.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

using namespace jobrouter;

namespace {

using test::kPropertyMapping;
using test::trace_generator;

// What a claim must return: the first pending job in rank order that the worker matches.
const job* brute_force_claim(const scheduler& s, const std::string& worker_id) {
    const worker* w = s.find_worker(worker_id);
    std::vector<const job*> pending;
    s.for_each_job([&](const job& j) {
        if (j.status == job_status::pending) pending.push_back(&j);
    });
    std::sort(pending.begin(), pending.end(), [](const job* a, const job* b) { return ranks_before(*a, *b); });
    for (const job* j : pending)
        if (!find_rejection(*j->cls, w->caps, s.matching_strategy().offered_keys(w->caps), false)) return j;
    return nullptr;
}

struct run_stats {
    int claims = 0;
    int answered = 0;
};

run_stats run_random_trace(const std::string& strategy_name, std::uint32_t seed, int claims_wanted) {
    auto mapping = load_mapping(kPropertyMapping, "property.json", [](const std::string&) { return std::nullopt; }).value();
    auto strat = make_strategy(strategy_name).value();
    scheduler s(mapping, *strat, scheduler_options{5000, 100, 1000});
    trace_generator gen(seed);
    std::vector<std::string> worker_ids, job_ids;
    for (int i = 0; i < 8; ++i) worker_ids.push_back("w" + std::to_string(i));
    time_ms now = 1700000000000;
    int next_job = 0;
    run_stats stats;

    while (stats.claims < claims_wanted) {
        now += gen.pick(300);
        s.advance(now);
        const int op = gen.pick(100);
        if (op < 30) {
            std::string id = "j" + std::to_string(next_job++);
            auto spec = parse_job_spec(gen.random_job(id));
            BOOST_REQUIRE_MESSAGE(spec, "generated job rejected: " << (spec ? "" : spec.error().text()));
            BOOST_REQUIRE(s.submit(std::move(*spec)));
            job_ids.push_back(id);
        } else if (op < 60) {
            const std::string& w = worker_ids[gen.pick(8)];
            if (!s.find_worker(w)) continue;
            const job* expected = brute_force_claim(s, w);
            auto got = s.claim(w);
            BOOST_REQUIRE(got);
            ++stats.claims;
            if (*got) ++stats.answered;
            BOOST_REQUIRE_MESSAGE(*got == expected, "seed " << seed << " claim " << stats.claims << " by " << w << ": index gave "
                                                            << (*got ? (*got)->id : "null") << ", scan gave "
                                                            << (expected ? expected->id : "null"));
        } else if (op < 72 && !job_ids.empty()) {
            (void)s.complete(job_ids[gen.pick(static_cast<int>(job_ids.size()))]);
        } else if (op < 84 && !job_ids.empty()) {
            (void)s.fail(job_ids[gen.pick(static_cast<int>(job_ids.size()))], gen.chance(80));
        } else if (op < 88 && !job_ids.empty()) {
            (void)s.cancel(job_ids[gen.pick(static_cast<int>(job_ids.size()))]);
        } else if (op < 95) {
            const std::string& w = worker_ids[gen.pick(8)];
            auto caps = parse_worker(gen.random_worker(w), mapping);
            BOOST_REQUIRE_MESSAGE(caps, "generated worker rejected: " << (caps ? "" : caps.error().text()));
            BOOST_REQUIRE(s.register_worker(std::move(*caps)));
        } else if (op < 97) {
            (void)s.unregister_worker(worker_ids[gen.pick(8)]);
        } else if (op < 99) {
            (void)s.heartbeat(worker_ids[gen.pick(8)]);
        } else {
            now += 6000;  // leases run out
        }
    }
    return stats;
}

void check_strategy(const std::string& strategy_name) {
    run_stats total;
    for (std::uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
        run_stats r = run_random_trace(strategy_name, seed, 2000);
        total.claims += r.claims;
        total.answered += r.answered;
    }
    BOOST_TEST_MESSAGE(strategy_name << ": " << total.claims << " claims, " << total.answered << " answered with a job");
    BOOST_TEST(total.claims >= 10000);
    // Not vacuous: a good share of claims find a job, and a good share find none.
    BOOST_TEST(total.answered > total.claims / 5);
    BOOST_TEST(total.claims - total.answered > total.claims / 20);
}

}  // namespace

BOOST_AUTO_TEST_CASE(index_equals_brute_force_scan_job_type) { check_strategy("job-type"); }

BOOST_AUTO_TEST_CASE(index_equals_brute_force_scan_service_name) { check_strategy("service-name"); }
