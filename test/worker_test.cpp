#define BOOST_TEST_MODULE worker
#include "core/worker.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

// parse_worker: trace-format.md "Capabilities object" and "Precise rules / Workers";
// which list a strategy offers: matching.md section 2.

using namespace jobrouter;

namespace {

using strings = std::vector<std::string>;

// Two worker types: "sim" routes through its service's job_types_accepted (shape 1),
// "gpu" through job_service_required_map (shape 2).
constexpr std::string_view kMapping = R"({
  "workers": {
    "sim": { "services": ["simulation"] },
    "gpu": { "services": ["comfyui", "a1111"],
             "job_service_required_map": [
               {"job_service_required": "comfyui", "worker_service": "comfyui"},
               {"job_service_required": "img2img", "worker_service": "comfyui"}
             ] }
  },
  "services": {
    "simulation": { "connector": "SimulationHttpConnector", "job_types_accepted": ["simulation", "sim"] },
    "comfyui": { "connector": "ComfyUIConnector" },
    "a1111": { "connector": "A1111Connector" }
  }
})";

const service_mapping& mapping() {
    static const service_mapping m = [] {
        env_lookup no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
        auto loaded = load_mapping(kMapping, "test.json", no_env);
        if (!loaded) throw std::runtime_error("test mapping does not load: " + loaded.error().text());
        return std::move(*loaded);
    }();
    return m;
}

json::value j(std::string_view text) {
    auto v = parse_strict(text);
    BOOST_REQUIRE_MESSAGE(v.has_value(), "bad test JSON: " << text);
    return *v;
}

worker_capabilities caps(std::string_view text) {
    auto r = parse_worker(j(text), mapping());
    BOOST_REQUIRE_MESSAGE(r.has_value(), "refused: " << text << " -> " << r.error().text());
    return *r;
}

error refused(std::string_view text) {
    auto r = parse_worker(j(text), mapping());
    BOOST_REQUIRE_MESSAGE(!r.has_value(), "accepted: " << text);
    return r.error();
}

// Refused, naming `path`, with a message that contains each of `says`.
void check_refused(std::string_view text, const std::string& path, std::initializer_list<std::string_view> says) {
    BOOST_TEST_CONTEXT(text) {
        const error e = refused(text);
        BOOST_TEST(e.path == path);
        BOOST_TEST(e.text().rfind(path + ": ", 0) == 0u, e.text());
        for (auto part : says) BOOST_TEST(e.message.find(part) != std::string::npos, "'" << e.text() << "' lacks '" << part << "'");
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(test_mapping_loads) {
    BOOST_REQUIRE(mapping().find_worker_type("sim"));
    BOOST_REQUIRE(mapping().find_worker_type("gpu"));
    BOOST_TEST(mapping().find_worker_type("sim")->job_types() == (strings{"simulation", "sim"}));
    BOOST_TEST(mapping().find_worker_type("gpu")->job_types() == (strings{"comfyui", "img2img"}));
}

// ---- worker_id ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(minimal_worker) {
    const worker_capabilities w = caps(R"({"worker_id":"w1"})");
    BOOST_TEST(w.worker_id == "w1");
    BOOST_TEST(w.worker_type == "");
    BOOST_TEST(w.services.empty());
    BOOST_TEST(w.job_types.empty());
    BOOST_TEST(w.workflow_id == "");
}

BOOST_AUTO_TEST_CASE(worker_must_be_an_object) {
    for (std::string_view text : {"[]", "\"w1\"", "null"}) {
        BOOST_TEST_CONTEXT(text) {
            const error e = refused(text);
            BOOST_TEST(e.path == "worker");
            BOOST_TEST(e.message.find("object") != std::string::npos, e.text());
        }
    }
}

BOOST_AUTO_TEST_CASE(worker_id_required_non_empty_string) {
    check_refused(R"({"services":["sim"]})", "worker.worker_id", {"required"});
    check_refused(R"({"worker_id":""})", "worker.worker_id", {"non-empty"});
    check_refused(R"({"worker_id":7})", "worker.worker_id", {"string", "number 7"});
    check_refused(R"({"worker_id":null})", "worker.worker_id", {"string", "null"});
}

BOOST_AUTO_TEST_CASE(path_prefix_is_configurable) {
    auto r = parse_worker(j(R"({"worker_id":""})"), mapping(), "register.worker");
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().path == "register.worker.worker_id");
}

// ---- the key lists ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(services_array_of_strings) {
    BOOST_TEST(caps(R"({"worker_id":"w","services":["a","b"]})").services == (strings{"a", "b"}));
    BOOST_TEST(caps(R"({"worker_id":"w","services":[]})").services.empty());
    check_refused(R"({"worker_id":"w","services":"a"})", "worker.services", {"array of strings", "string \"a\""});
    check_refused(R"({"worker_id":"w","services":{"a":1}})", "worker.services", {"array of strings", "object"});
    check_refused(R"({"worker_id":"w","services":null})", "worker.services", {"array of strings", "null"});
    check_refused(R"({"worker_id":"w","services":["a",5]})", "worker.services[1]", {"string", "number 5"});
}

BOOST_AUTO_TEST_CASE(job_service_required_map_array_of_strings) {
    BOOST_TEST(caps(R"({"worker_id":"w","job_service_required_map":["x","y"]})").job_types == (strings{"x", "y"}));
    check_refused(R"({"worker_id":"w","job_service_required_map":"x"})", "worker.job_service_required_map",
                  {"array of strings"});
    // EMP's mapping-file shape (objects) is not a capabilities list.
    check_refused(R"({"worker_id":"w","job_service_required_map":["x","y",{"job_service_required":"z"}]})",
                  "worker.job_service_required_map[2]", {"string", "object"});
}

BOOST_AUTO_TEST_CASE(job_types_alias_array_of_strings) {
    BOOST_TEST(caps(R"({"worker_id":"w","job_types":["x"]})").job_types == (strings{"x"}));
    check_refused(R"({"worker_id":"w","job_types":7})", "worker.job_types", {"array of strings", "number 7"});
    check_refused(R"({"worker_id":"w","job_types":[null]})", "worker.job_types[0]", {"string", "null"});
}

BOOST_AUTO_TEST_CASE(job_service_required_map_wins_over_job_types) {
    BOOST_TEST(caps(R"({"worker_id":"w","job_types":["b"],"job_service_required_map":["a"]})").job_types == (strings{"a"}));
    BOOST_TEST(caps(R"({"worker_id":"w","job_service_required_map":["a"],"job_types":["b"]})").job_types == (strings{"a"}));
    // Both are validated when present.
    check_refused(R"({"worker_id":"w","job_service_required_map":["a"],"job_types":"b"})", "worker.job_types",
                  {"array of strings"});
}

BOOST_AUTO_TEST_CASE(services_and_job_types_never_stand_in_for_each_other) {
    const worker_capabilities a = caps(R"({"worker_id":"w","services":["s"]})");
    BOOST_TEST(a.services == strings{"s"});
    BOOST_TEST(a.job_types.empty());
    const worker_capabilities b = caps(R"({"worker_id":"w","job_service_required_map":["t"]})");
    BOOST_TEST(b.services.empty());
    BOOST_TEST(b.job_types == strings{"t"});
}

BOOST_AUTO_TEST_CASE(key_lists_keep_order_without_duplicates) {
    const worker_capabilities w = caps(R"({"worker_id":"w","services":["b","a","b"],"job_types":["z","y","z","y"]})");
    BOOST_TEST(w.services == (strings{"b", "a"}));
    BOOST_TEST(w.job_types == (strings{"z", "y"}));
}

// ---- worker_type --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(worker_type_must_be_known_and_error_lists_valid_types) {
    const error e = refused(R"({"worker_id":"w","worker_type":"nope"})");
    BOOST_TEST(e.path == "worker.worker_type");
    BOOST_TEST(e.message.find("nope") != std::string::npos, e.text());
    BOOST_TEST(e.message.find("gpu") != std::string::npos, e.text());
    BOOST_TEST(e.message.find("sim") != std::string::npos, e.text());
    BOOST_TEST(e.message.find("test.json") != std::string::npos, e.text());
    // Names are exact.
    check_refused(R"({"worker_id":"w","worker_type":"SIM"})", "worker.worker_type", {"gpu", "sim"});
    check_refused(R"({"worker_id":"w","worker_type":""})", "worker.worker_type", {});
    check_refused(R"({"worker_id":"w","worker_type":3})", "worker.worker_type", {"number 3"});
    check_refused(R"({"worker_id":"w","worker_type":null})", "worker.worker_type", {"null"});
}

BOOST_AUTO_TEST_CASE(worker_type_fills_absent_services_and_job_types) {
    const worker_capabilities s = caps(R"({"worker_id":"w","worker_type":"sim"})");
    BOOST_TEST(s.worker_type == "sim");
    BOOST_TEST(s.services == strings{"simulation"});
    BOOST_TEST(s.job_types == (strings{"simulation", "sim"}));
    const worker_capabilities g = caps(R"({"worker_id":"w","worker_type":"gpu"})");
    BOOST_TEST(g.services == (strings{"comfyui", "a1111"}));
    BOOST_TEST(g.job_types == (strings{"comfyui", "img2img"}));
}

BOOST_AUTO_TEST_CASE(worker_type_fills_only_fields_that_are_absent) {
    const worker_capabilities a = caps(R"({"worker_id":"w","worker_type":"gpu","services":["mine"]})");
    BOOST_TEST(a.services == strings{"mine"});
    BOOST_TEST(a.job_types == (strings{"comfyui", "img2img"}));

    const worker_capabilities b = caps(R"({"worker_id":"w","worker_type":"gpu","job_service_required_map":["t"]})");
    BOOST_TEST(b.services == (strings{"comfyui", "a1111"}));
    BOOST_TEST(b.job_types == strings{"t"});

    const worker_capabilities c = caps(R"({"worker_id":"w","worker_type":"gpu","job_types":["alias"]})");
    BOOST_TEST(c.job_types == strings{"alias"});

    // Present but empty is present: nothing is filled.
    const worker_capabilities d =
        caps(R"({"worker_id":"w","worker_type":"sim","services":[],"job_service_required_map":[]})");
    BOOST_TEST(d.services.empty());
    BOOST_TEST(d.job_types.empty());
}

// ---- workflow_id and raw --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(workflow_id_must_be_a_string) {
    BOOST_TEST(caps(R"({"worker_id":"w","workflow_id":"wf1"})").workflow_id == "wf1");
    BOOST_TEST(caps(R"({"worker_id":"w","workflow_id":""})").workflow_id == "");
    check_refused(R"({"worker_id":"w","workflow_id":1})", "worker.workflow_id", {"string", "number 1"});
    check_refused(R"({"worker_id":"w","workflow_id":null})", "worker.workflow_id", {"string", "null"});
}

BOOST_AUTO_TEST_CASE(raw_keeps_the_object_as_registered) {
    constexpr std::string_view text =
        R"({"worker_id":"w","worker_type":"sim","hardware":{"gpu_memory_gb":24.0,"ram_gb":64},)"
        R"("models":{"sim":["m1"]},"customer_access":{"isolation":"strict"},"location":{"region":"eu"},"x":null})";
    const worker_capabilities w = caps(text);
    BOOST_TEST((w.raw == j(text)));  // exactly, number spellings included
    // The lists filled from worker_type do not leak into raw.
    BOOST_REQUIRE(w.raw.is_object());
    BOOST_TEST(!w.raw.get_object().contains("services"));
    BOOST_TEST(!w.raw.get_object().contains("job_types"));
    BOOST_TEST(!w.raw.get_object().contains("job_service_required_map"));
}

BOOST_AUTO_TEST_CASE(other_fields_are_free) {
    const worker_capabilities w =
        caps(R"({"worker_id":"w","hardware":"any","models":[],"customer_access":7,"anything":{"deep":[1]}})");
    BOOST_TEST(w.worker_id == "w");
}
