// Property test: on random traces, every indexed claim equals a brute-force scan that applies
// the rules (matching.md section 3) to every pending job in rank order (section 1).
#define BOOST_TEST_MODULE property
#include "core/scheduler.hpp"

#include "strategies/strategy_registry.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>

using namespace jobrouter;

namespace {

const char* kMapping = R"({
  "workers": {
    "gpu": {"services": ["svc-a", "svc-b"], "job_types_accepted": [{"job_type": "a", "service": "svc-a"}, {"job_type": "b", "service": "svc-b"}]},
    "cpu": {"services": ["svc-c"]}
  },
  "services": {
    "svc-a": {"connector": "MockConnector", "job_types_accepted": ["a"]},
    "svc-b": {"connector": "MockConnector", "job_types_accepted": ["b"]},
    "svc-c": {"connector": "MockConnector", "job_types_accepted": ["c", "d"]}
  }
})";

// Draws random but collision-prone values, so that buckets are shared and matches are common.
class trace_generator {
public:
    explicit trace_generator(std::uint32_t seed) : rng_(seed) {
        for (int i = 0; i < 24; ++i) requirement_pool_.push_back(random_requirements());
    }

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    bool chance(int percent) { return pick(100) < percent; }

    json::value random_worker(const std::string& id) {
        json::object w;
        w["worker_id"] = id;
        static const char* types[] = {"gpu", "cpu"};
        if (chance(40)) w["worker_type"] = types[pick(2)];
        if (chance(60)) w["job_service_required_map"] = subset({"a", "b", "c", "d"});
        if (chance(60)) w["services"] = subset({"a", "b", "svc-a", "svc-c", "c"});
        json::object hw;
        static const int gpu[] = {8, 16, 24, 48};
        if (chance(80)) hw["gpu_memory_gb"] = gpu[pick(4)];
        if (chance(50)) hw["ram_gb"] = pick(2) ? json::value(32) : json::value(64.0);
        if (chance(30)) hw["gpu_model"] = pick(2) ? "RTX 4090" : "A100";
        if (chance(10)) hw["cpu_cores"] = "lots";  // a non-number never satisfies R3a
        if (chance(90)) w["hardware"] = std::move(hw);
        if (chance(40)) {
            json::object models;
            models["a"] = subset({"sdxl", "flux", "sd15"});
            if (chance(50)) models["b"] = subset({"sdxl", "flux"});
            w["models"] = std::move(models);
        }
        if (chance(40)) {
            json::object access;
            if (chance(50)) access["isolation"] = pick(2) ? "strict" : "loose";
            if (chance(40)) access["allowed_customers"] = subset({"c1", "c2", "c3"});
            if (chance(30)) access["denied_customers"] = subset({"c1", "c2"});
            w["customer_access"] = std::move(access);
        }
        if (chance(50)) w["location"] = json::object{{"region", pick(2) ? "us" : "eu"}, {"zone", pick(3)}};
        if (chance(40)) w["features"] = subset({"fast", "cheap", "video"});
        if (chance(10)) w["workflow_id"] = pick(2) ? "wf1" : "wf2";
        if (chance(20)) w["tier"] = pick(3);
        return w;
    }

    json::value random_job(const std::string& id) {
        json::object j;
        j["id"] = id;
        static const char* services[] = {"a", "b", "c", "d", "svc-a", "svc-c"};
        j["service_required"] = services[pick(6)];
        if (chance(70)) j["priority"] = pick(4) * 10 + 40;  // few priorities: many FIFO ties
        if (chance(10)) j["workflow_priority"] = pick(3) * 30;
        if (chance(15)) j["workflow_datetime"] = std::int64_t{1700000000000} + pick(5);
        if (chance(30)) j["customer_id"] = pick(3) == 0 ? "c1" : (pick(2) ? "c2" : "c3");
        if (chance(10)) j["workflow_id"] = pick(2) ? "wf1" : "wf2";
        if (chance(80)) j["requirements"] = requirement_pool_[pick(static_cast<int>(requirement_pool_.size()))];
        else if (chance(50)) j["requirements"] = random_requirements();
        if (chance(30)) j["max_retries"] = 1 + pick(3);
        return j;
    }

    json::object random_requirements() {
        json::object positive;
        if (chance(50)) {
            json::object hw;
            static const int gpu[] = {8, 16, 24, 32};
            if (chance(70)) hw["gpu_memory_gb"] = chance(20) ? json::value("all") : json::value(gpu[pick(4)]);
            if (chance(30)) hw["ram_gb"] = pick(2) ? 32.0 : 64.0;
            if (chance(10)) hw["cpu_cores"] = 4;
            positive["hardware"] = std::move(hw);
        }
        if (chance(20)) positive["models"] = subset({"sdxl", "flux"});
        if (chance(15)) positive["customer_isolation"] = pick(2) ? "strict" : "loose";
        if (chance(25)) positive["location.region"] = pick(2) ? "us" : "eu";
        if (chance(15)) positive["location"] = json::object{{"zone", pick(3)}};
        if (chance(20)) positive["features"] = subset({"fast", "cheap"});
        if (chance(10)) positive["tier"] = pick(3);
        if (chance(5)) positive["service_type"] = "ignored";
        json::object negative;
        if (chance(15)) negative["hardware"] = json::object{{"gpu_model", pick(2) ? "A100" : "RTX 4090"}};
        if (chance(10)) negative["features"] = "video";
        json::object req;
        if (chance(30)) {
            req["positive_requirements"] = std::move(positive);
            if (chance(30)) req["hardware"] = json::object{{"gpu_memory_gb", 999}};  // ignored beside positive_requirements
        } else {
            req = std::move(positive);
        }
        if (!negative.empty()) req["negative_requirements"] = std::move(negative);
        return req;
    }

private:
    json::array subset(std::initializer_list<const char*> items) {
        json::array out;
        for (const char* s : items)
            if (chance(50)) out.emplace_back(s);
        return out;
    }

    std::mt19937 rng_;
    std::vector<json::object> requirement_pool_;
};

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
    auto mapping = load_mapping(kMapping, "property.json", [](const std::string&) { return std::nullopt; }).value();
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
