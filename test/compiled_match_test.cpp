// The claim path's compiled check (passes_requirements over job_class::compiled and a
// worker_profile) must give the JSON rules' answer (passes_requirements over the class's and
// worker's JSON) for every pair: the jobs and workers of the shared matching cases, and random
// ones drawn to hit every rule and the odd values (non-numbers, non-arrays, dotted and empty
// keys, nested objects, numbers as doubles).
#define BOOST_TEST_MODULE compiled_match
#include "core/embedded_mapping.hpp"
#include "core/job.hpp"
#include "core/matcher.hpp"
#include "core/worker_profile.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <random>

using namespace jobrouter;

namespace {

service_mapping embedded_mapping() {
    auto m = load_mapping(kEmbeddedMapping, kEmbeddedMappingName, [](const std::string&) { return std::nullopt; });
    BOOST_REQUIRE_MESSAGE(m.has_value(), "embedded mapping: " << (m ? "" : m.error().text()));
    return std::move(*m);
}

job_class class_of(const job_spec& spec) {
    return make_job_class(spec.service_required, spec.customer_id, spec.workflow_id, spec.requirements);
}

// Checks every pair; returns how many pairs matched (so a test can see it is not all "no").
std::size_t check_all_pairs(const std::vector<job_class>& classes, const std::vector<worker_capabilities>& workers) {
    std::size_t matches = 0;
    for (const worker_capabilities& w : workers) {
        const worker_profile profile(w);
        for (const job_class& c : classes) {
            const bool slow = passes_requirements(c, w);
            const bool fast = passes_requirements(c, profile);
            BOOST_TEST(slow == fast, "worker " << to_json(w.raw) << " class " << c.signature << ": JSON says " << slow
                                               << ", compiled says " << fast);
            matches += slow;
        }
    }
    return matches;
}

class generator {
public:
    explicit generator(std::uint32_t seed) : rng_(seed) {}

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    bool chance(int percent) { return pick(100) < percent; }

    // A value of any kind, small: what a custom capability or requirement might hold.
    json::value any_value(int depth = 0) {
        switch (pick(depth < 2 ? 9 : 7)) {
        case 0: return nullptr;
        case 1: return pick(2) == 0;
        case 2: return pick(4) * 8;
        case 3: return pick(4) * 8.0;
        case 4: return pick(2) ? "us" : "eu";
        case 5: return "all";
        case 6: return json::array{};
        case 7: {
            json::array a;
            for (int i = pick(3); i > 0; --i) a.push_back(any_value(depth + 1));
            return a;
        }
        default: {
            json::object o;
            for (int i = pick(3); i > 0; --i) o[key()] = any_value(depth + 1);
            return o;
        }
        }
    }

    std::string key() {
        static const char* keys[] = {"region", "zone", "tier", "gpu_model", "location", "features", "a.b", "", "x"};
        return keys[pick(9)];
    }

    std::string dotted_key() {
        static const char* keys[] = {"location.region", "location..zone", "location", "tier", ".tier", "features",
                                     "a.b", "a", "x.y.z", "", ".", "location.region.deep"};
        return keys[pick(12)];
    }

    json::value hardware_value() {
        switch (pick(6)) {
        case 0: return 8;
        case 1: return 16.0;
        case 2: return 24;
        case 3: return "all";
        case 4: return "16";
        default: return std::uint64_t{48};
        }
    }

    json::array subset(std::initializer_list<json::value> items) {
        json::array out;
        for (const json::value& v : items)
            if (chance(50)) out.push_back(v);
        return out;
    }

    json::value worker(int i) {
        json::object w;
        w["worker_id"] = "w" + std::to_string(i);
        w["job_service_required_map"] = json::array{"a", "b"};
        if (chance(90)) {
            json::object hw;
            for (std::string_view k : {"gpu_memory_gb", "cpu_cores", "ram_gb"})
                if (chance(60)) hw[k] = hardware_value();
            if (chance(40)) hw["gpu_model"] = pick(2) ? "A100" : "RTX 4090";
            if (chance(10)) hw["fast"] = pick(3) == 0 ? json::value(nullptr) : json::value(pick(2) == 0);
            w["hardware"] = std::move(hw);
        } else if (chance(50)) {
            w["hardware"] = "big";
        }
        if (chance(50)) {
            json::object access;
            if (chance(60)) access["isolation"] = pick(3) == 0 ? json::value(true) : json::value(pick(2) ? "strict" : "loose");
            if (chance(50)) access["allowed_customers"] = pick(5) ? json::value(subset({"c1", "c2", 7})) : json::value("c1");
            if (chance(40)) access["denied_customers"] = pick(5) ? json::value(subset({"c1", "c3"})) : json::value("c3");
            w["customer_access"] = pick(10) ? json::value(std::move(access)) : json::value("strict");
        }
        if (chance(60)) {
            json::object models;
            for (std::string_view s : {"a", "b"})
                if (chance(70)) models[s] = pick(6) ? json::value(subset({"sdxl", "flux", 3, json::object{{"v", 1}}})) : json::value("sdxl");
            w["models"] = pick(10) ? json::value(std::move(models)) : json::value(json::array{"sdxl"});
        }
        if (chance(60)) w["location"] = json::object{{"region", pick(2) ? "us" : "eu"}, {"zone", pick(3)}};
        if (chance(40)) w["features"] = subset({"fast", "cheap", "video"});
        for (int k = pick(4); k > 0; --k) w[key()] = any_value();
        if (chance(10)) w["workflow_id"] = pick(2) ? "wf1" : "wf2";
        return w;
    }

    json::object requirements() {
        json::object positive;
        if (chance(60)) {
            json::object hw;
            for (std::string_view k : {"gpu_memory_gb", "cpu_cores", "ram_gb"})
                if (chance(40)) hw[k] = hardware_value();
            if (chance(10)) hw["gpu_model"] = "A100";  // not a limit: ignored by R3a
            positive["hardware"] = pick(10) ? json::value(std::move(hw)) : json::value(16);
        }
        if (chance(30)) positive["models"] = pick(6) ? json::value(subset({"sdxl", "flux", 3, json::object{{"v", 1}}})) : json::value("sdxl");
        if (chance(20)) positive["customer_isolation"] = pick(3) ? json::value(pick(2) ? "strict" : "loose") : json::value(true);
        for (int k = pick(4); k > 0; --k) positive[dotted_key()] = any_value();
        if (chance(5)) positive["service_type"] = "ignored";
        json::object negative;
        if (chance(25)) {
            json::object hw;
            hw["gpu_model"] = pick(2) ? "A100" : "RTX 4090";
            if (chance(30)) hw["fast"] = true;
            if (chance(30)) hw["gpu_memory_gb"] = 16;
            negative["hardware"] = pick(8) ? json::value(std::move(hw)) : json::value("A100");
        }
        for (int k = pick(3); k > 0 && chance(40); --k) negative[dotted_key()] = any_value();
        json::object req;
        if (chance(30)) {
            req["positive_requirements"] = std::move(positive);
            if (chance(30)) req["hardware"] = json::object{{"gpu_memory_gb", 999}};
        } else {
            req = std::move(positive);
        }
        if (!negative.empty()) req["negative_requirements"] = std::move(negative);
        return req;
    }

private:
    std::mt19937 rng_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(compiled_check_equals_json_check_on_the_matching_cases) {
    const service_mapping mapping = embedded_mapping();
    std::vector<job_class> classes;
    std::vector<worker_capabilities> workers;
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(JOBROUTER_FIXTURES_DIR "/matching-cases")) {
        if (entry.path().string().find(".trace.jsonl") == std::string::npos) continue;
        ++files;
        std::ifstream in(entry.path());
        std::string line;
        while (std::getline(in, line)) {
            auto event = parse_strict(line);
            if (!event || !event->is_object()) continue;
            const json::object& o = event->get_object();
            const json::value* op = o.if_contains("op");
            if (!op || !op->is_string()) continue;
            if (op->get_string() == "register") {
                if (auto w = parse_worker(o.at("worker"), mapping)) workers.push_back(std::move(*w));
            } else if (op->get_string() == "submit") {
                if (auto spec = parse_job_spec(o.at("job"))) classes.push_back(class_of(*spec));
            }
        }
    }
    BOOST_TEST_REQUIRE(files >= 40u);
    BOOST_TEST_MESSAGE(classes.size() << " job classes x " << workers.size() << " workers");
    BOOST_TEST(classes.size() >= 40u);
    BOOST_TEST(workers.size() >= 40u);
    BOOST_TEST(check_all_pairs(classes, workers) > 0u);
}

BOOST_AUTO_TEST_CASE(compiled_check_equals_json_check_on_random_classes_and_workers) {
    const service_mapping no_mapping;
    std::size_t pairs = 0, matches = 0;
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
        generator g(seed);
        std::vector<job_class> classes;
        for (int i = 0; i < 60; ++i) {
            static const char* customers[] = {"", "c1", "c2", "c3"};
            static const char* workflows[] = {"", "", "wf1", "wf2"};
            classes.push_back(make_job_class(g.pick(2) ? "a" : "b", customers[g.pick(4)], workflows[g.pick(4)], g.requirements()));
        }
        std::vector<worker_capabilities> workers;
        for (int i = 0; i < 60; ++i) {
            auto w = parse_worker(g.worker(i), no_mapping);
            BOOST_REQUIRE_MESSAGE(w.has_value(), "generated worker refused: " << (w ? "" : w.error().text()));
            workers.push_back(std::move(*w));
        }
        matches += check_all_pairs(classes, workers);
        pairs += classes.size() * workers.size();
    }
    BOOST_TEST_MESSAGE(pairs << " random pairs, " << matches << " matches");
    // Both answers must be common, or the comparison says little.
    BOOST_TEST(matches > pairs / 20);
    BOOST_TEST(matches < pairs - pairs / 20);
}

BOOST_AUTO_TEST_CASE(canonical_path_drops_empty_segments) {
    BOOST_TEST(canonical_path("a..b.") == "a.b");
    BOOST_TEST(canonical_path(".") == "");
    BOOST_TEST(canonical_path("location.region") == "location.region");
}
