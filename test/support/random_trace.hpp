// random_trace: the random workers, jobs and requirements of the core's property test
// (property_test.cpp), shared with the store-parity test (redis_parity_test.cpp), which writes
// them out as replay traces. Values are drawn from small pools so that buckets are shared and
// matches are common; the same seed always gives the same values.
#pragma once

#include "core/json_util.hpp"

#include <boost/json.hpp>

#include <initializer_list>
#include <random>
#include <string>
#include <vector>

namespace jobrouter::test {

inline const char* kPropertyMapping = R"({
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

}  // namespace jobrouter::test
