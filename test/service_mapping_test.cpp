#include "core/service_mapping.hpp"

#define BOOST_TEST_MODULE service_mapping
#include <boost/test/unit_test.hpp>

#include "core/embedded_mapping.hpp"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

namespace jobrouter {

// For Boost.Test's messages on failed comparisons.
std::ostream& operator<<(std::ostream& os, route_source source) {
    switch (source) {
    case route_source::job_service_required_map: return os << "job_service_required_map";
    case route_source::job_types_accepted: return os << "job_types_accepted";
    case route_source::services: return os << "services";
    }
    return os;
}

}  // namespace jobrouter

using namespace jobrouter;
using severity = mapping_diagnostic::severity;

namespace {

const std::string kFixtures = JOBROUTER_FIXTURES_DIR;
const std::string kEmpFile = JOBROUTER_SHARED_DIR "/fixtures/emp-service-mapping.json";

env_lookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

service_mapping load_ok(std::string_view text, const std::map<std::string, std::string>& vars = {},
                        const std::string& name = "mapping.json") {
    auto loaded = load_mapping(text, name, env_of(vars));
    BOOST_REQUIRE_MESSAGE(loaded.has_value(), "load failed: " << loaded.error().text());
    return std::move(*loaded);
}

service_mapping load_fixture(const std::string& file) {
    return load_ok(read_text(kFixtures + "/" + file), {}, file);
}

std::size_t count(const service_mapping& m, severity level) {
    std::size_t n = 0;
    for (const auto& d : m.diagnostics) n += d.level == level;
    return n;
}

const mapping_diagnostic* find_diagnostic(const service_mapping& m, const std::string& path) {
    for (const auto& d : m.diagnostics)
        if (d.path == path) return &d;
    return nullptr;
}

std::string dump(const service_mapping& m) {
    std::string out;
    for (const auto& d : m.diagnostics)
        out += std::string(d.level == severity::error ? "error " : "warning ") + d.path + ": " + d.message + "\n";
    return out;
}

const worker_type& worker(const service_mapping& m, std::string_view name) {
    const auto* w = m.find_worker_type(name);
    BOOST_REQUIRE_MESSAGE(w, "no worker type " << name);
    return *w;
}

void check_route(const worker_type& w, std::size_t i, std::string_view job_type, std::string_view service,
                 std::string_view connector) {
    BOOST_REQUIRE_LT(i, w.routes.size());
    BOOST_TEST_CONTEXT(w.name << " route " << i) {
        BOOST_TEST(w.routes[i].job_type == job_type);
        BOOST_TEST(w.routes[i].service == service);
        BOOST_TEST(w.routes[i].connector == connector);
    }
}

std::string string_at(const boost::json::value& v) { return std::string(v.as_string()); }

using strings = std::vector<std::string>;

}  // namespace

// ---- the two shapes and the shipped files -------------------------------------------------

BOOST_AUTO_TEST_CASE(seed_file_shows_the_bug) {
    auto m = load_fixture("seed-service-mapping.json");
    BOOST_TEST(m.diagnostics.empty(), dump(m));
    const auto& sim = worker(m, "simulation");
    BOOST_TEST(sim.services == strings{"simulationx"});
    BOOST_TEST(sim.job_types() == (strings{"simulation123", "simulationxyz"}));
    BOOST_TEST(sim.source == route_source::job_types_accepted);
    BOOST_REQUIRE_EQUAL(sim.routes.size(), 2u);
    check_route(sim, 0, "simulation123", "simulationx", "SimulationHttpConnector");
    check_route(sim, 1, "simulationxyz", "simulationx", "SimulationHttpConnector");
    BOOST_TEST(sim.routes[1].json_path == "workers.simulation.job_types_accepted[1]");
    BOOST_TEST(sim.find_route("simulation") == nullptr);
    const auto* svc = m.find_service("simulationx");
    BOOST_REQUIRE(svc);
    BOOST_TEST(svc->declares_job_types);
    BOOST_TEST(svc->job_types_accepted == strings{"simulation"});
    BOOST_TEST(!m.connectors.has_value());
}

BOOST_AUTO_TEST_CASE(fixed_seed_routes_through_services) {
    auto m = load_fixture("seed-service-mapping-fixed.json");
    BOOST_TEST(m.diagnostics.empty(), dump(m));
    const auto& sim = worker(m, "simulation");
    BOOST_TEST(sim.source == route_source::services);
    BOOST_TEST(sim.services == strings{"simulation"});
    BOOST_REQUIRE_EQUAL(sim.routes.size(), 3u);
    check_route(sim, 0, "simulation", "simulation", "SimulationHttpConnector");
    check_route(sim, 1, "sim", "simulation", "SimulationHttpConnector");
    check_route(sim, 2, "test", "simulation", "SimulationHttpConnector");
    BOOST_TEST(sim.routes[2].json_path == "services.simulation.job_types_accepted[2]");
}

BOOST_AUTO_TEST_CASE(embedded_default_is_clean_under_both_strategies) {
    auto m = load_ok(kEmbeddedMapping, {}, kEmbeddedMappingName);
    BOOST_TEST(m.diagnostics.empty(), dump(m));  // every variable has a default
    BOOST_TEST(m.worker_type_list() == "mock, simulation, simulation-http, simulation-websocket");
    BOOST_REQUIRE(m.connectors.has_value());

    check_route(worker(m, "simulation"), 0, "simulation", "simulation", "SimulationHttpConnector");
    check_route(worker(m, "simulation-http"), 0, "simulation", "simulation-http", "SimulationHttpConnector");
    check_route(worker(m, "simulation-websocket"), 0, "simulation", "simulation-websocket",
                "SimulationWebsocketConnector");
    check_route(worker(m, "mock"), 0, "mock", "mock_test", "MockConnector");
    BOOST_TEST(worker(m, "simulation").services == strings{"simulation"});

    for (const auto& [name, w] : m.workers) {
        BOOST_TEST_CONTEXT("worker type " << name) {
            BOOST_TEST(!w.routes.empty());
            for (const auto& job_type : w.job_types()) {  // job-type strategy
                const auto* r = w.find_route(job_type);
                BOOST_REQUIRE(r);
                BOOST_TEST(m.connectors->contains(r->connector));
            }
            BOOST_TEST(!w.services.empty());
            for (const auto& s : w.services) {  // service-name strategy
                const auto* svc = m.find_service(s);
                BOOST_REQUIRE(svc);
                BOOST_TEST(m.connectors->contains(svc->connector));
            }
        }
    }

    const auto& url = m.find_service("simulation")->raw.at("api_config").at("base_url");
    BOOST_TEST(string_at(url) == "http://127.0.0.1:8299");
    auto custom = load_ok(kEmbeddedMapping, {{"SIMULATION_WS_PORT", "9001"}});
    BOOST_TEST(string_at(custom.find_service("simulation-websocket")->raw.at("api_config").at("ws_url")) ==
               "ws://127.0.0.1:9001");
}

BOOST_AUTO_TEST_CASE(emp_shaped_fixture) {
    auto m = load_fixture("emp-shaped-mapping.json");
    BOOST_TEST(count(m, severity::error) == 0u, dump(m));
    BOOST_REQUIRE_EQUAL(count(m, severity::warning), 1u);
    const auto* unset = find_diagnostic(m, "emp-shaped-mapping.json: services.blender-farm.api_config.base_url");
    BOOST_REQUIRE(unset);
    BOOST_TEST(unset->message.find("\"RENDER_FARM_HOST\"") != std::string::npos);
    const auto& farm = *m.find_service("blender-farm");
    BOOST_TEST(string_at(farm.raw.at("api_config").at("base_url")) == "https:///api/v2");
    BOOST_TEST(string_at(farm.raw.at("api_config").at("timeout")) == "120");

    const auto& gpu = worker(m, "render-gpu");
    BOOST_TEST(gpu.source == route_source::job_service_required_map);
    BOOST_REQUIRE_EQUAL(gpu.routes.size(), 3u);
    check_route(gpu, 0, "render_scene", "blender", "BlenderConnector");
    check_route(gpu, 1, "render_preview", "blender", "BlenderConnector");
    check_route(gpu, 2, "transcode", "ffmpeg", "FfmpegConnector");
    BOOST_TEST(gpu.raw.at("is_gpu_bound").as_bool());
    // The same job type goes to another service on another worker type: not a duplicate.
    check_route(worker(m, "render-farm"), 0, "render_scene", "blender-farm", "BlenderFarmConnector");
    BOOST_TEST(worker(m, "speech").job_types() == (strings{"transcribe", "synthesize"}));
    BOOST_TEST(m.raw.contains("machine_capabilities"));
    BOOST_TEST(m.raw.contains("service_types"));
    BOOST_TEST(string_at(m.find_service("blender")->raw.at("ports").at(0)) == "9100");
}

BOOST_AUTO_TEST_CASE(emp_own_file_when_present) {
    if (!std::filesystem::exists(kEmpFile)) {
        BOOST_TEST_MESSAGE("skipped: " << kEmpFile << " is absent");
        return;
    }
    auto m = load_ok(read_text(kEmpFile), {}, "emp-service-mapping.json");
    BOOST_TEST(count(m, severity::error) == 0u, dump(m));
    BOOST_TEST(m.workers.size() == 11u);
    BOOST_TEST(m.worker_type_list() ==
               "a1111, comfyui, comfyui-remote, emprops-app, gemini, mock, ollama, openai, openai-response, "
               "simulation-http, simulation-websocket");

    const auto& openai = worker(m, "openai");
    BOOST_REQUIRE_EQUAL(openai.routes.size(), 4u);
    check_route(openai, 0, "openai_text", "openai-text", "OpenAITextConnector");
    check_route(openai, 1, "openai_image", "openai-image", "OpenAIText2ImgConnector");
    check_route(openai, 2, "openai_img2img", "openai-img2img", "OpenAIImg2ImgConnector");
    check_route(openai, 3, "openai_responses", "openai-responses", "OpenAIResponsesConnector");
    check_route(worker(m, "mock"), 0, "mock", "mock_test", "MockConnector");
    check_route(worker(m, "comfyui-remote"), 0, "comfyui", "comfyui-remote", "ComfyUIRemoteConnector");
    check_route(worker(m, "simulation-http"), 0, "simulation", "simulation-http", "SimulationHttpConnector");
    BOOST_TEST(worker(m, "ollama").job_types() ==
               (strings{"ollama", "text_generation", "chat_completion", "embeddings"}));
    BOOST_TEST(worker(m, "emprops-app").services == (strings{"comfyui", "a1111"}));

    // "${OPENAI_BASE_URL}" has no default: the one unset-variable warning of the file.
    const auto* unset = find_diagnostic(m, "emp-service-mapping.json: services.openai-responses.api_config.base_url");
    BOOST_REQUIRE(unset);
    BOOST_TEST(unset->message.find("\"OPENAI_BASE_URL\"") != std::string::npos);
    const auto& ollama = *m.find_service("ollama");
    BOOST_TEST(string_at(ollama.raw.at("api_config").at("base_url")) == "http://localhost:11434");
}

// ---- environment substitution -------------------------------------------------------------

namespace {

service_mapping load_settings(std::string_view settings, const std::map<std::string, std::string>& vars) {
    return load_ok("{\"workers\":{},\"settings\":" + std::string(settings) + "}", vars);
}

std::string setting(const service_mapping& m, std::string_view key) {
    return string_at(m.raw.at("settings").at(key));
}

}  // namespace

BOOST_AUTO_TEST_CASE(env_set_empty_default_and_unset) {
    auto m = load_settings(R"({"set":"${A}","empty":"${E:-fallback}","def":"${D:-8188}","unset":"<${U}>",
                              "set_with_default":"${A:-x}","empty_default":"${D:-}"})",
                           {{"A", "alpha"}, {"E", ""}});
    BOOST_TEST(setting(m, "set") == "alpha");
    BOOST_TEST(setting(m, "empty") == "");  // set to "" wins over the default
    BOOST_TEST(setting(m, "def") == "8188");
    BOOST_TEST(setting(m, "unset") == "<>");
    BOOST_TEST(setting(m, "set_with_default") == "alpha");
    BOOST_TEST(setting(m, "empty_default") == "");
    BOOST_REQUIRE_EQUAL(m.diagnostics.size(), 1u);
    BOOST_TEST((m.diagnostics[0].level == severity::warning));
    BOOST_TEST(m.diagnostics[0].path == "mapping.json: settings.unset");
    BOOST_TEST(m.diagnostics[0].message.find("\"U\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(env_several_per_string_and_paths_into_arrays) {
    auto m = load_settings(R"({"url":"http://${H:-localhost}:${P:-80}/${X}/${Y}","ports":["a", "${Q}"]})",
                           {{"P", "8080"}});
    BOOST_TEST(setting(m, "url") == "http://localhost:8080//");
    BOOST_TEST(string_at(m.raw.at("settings").at("ports").at(1)) == "");
    BOOST_REQUIRE_EQUAL(m.diagnostics.size(), 3u);
    BOOST_TEST(m.diagnostics[0].path == "mapping.json: settings.url");
    BOOST_TEST(m.diagnostics[0].message.find("\"X\"") != std::string::npos);
    BOOST_TEST(m.diagnostics[1].message.find("\"Y\"") != std::string::npos);
    BOOST_TEST(m.diagnostics[2].path == "mapping.json: settings.ports[1]");
}

BOOST_AUTO_TEST_CASE(env_literal_text_is_kept) {
    auto m = load_settings(R"({"dollar":"cost $5 and $A","open":"x ${A and more","bad":"${1A} ${A B}",
                              "after_bad":"${ ${A}}","nested":"${U:-${A}}"})",
                           {{"A", "alpha"}});
    BOOST_TEST(setting(m, "dollar") == "cost $5 and $A");
    BOOST_TEST(setting(m, "open") == "x ${A and more");
    BOOST_TEST(setting(m, "bad") == "${1A} ${A B}");
    BOOST_TEST(setting(m, "after_bad") == "${ alpha}");
    // No nesting: the default ends at the first "}".
    BOOST_TEST(setting(m, "nested") == "${A}");
    BOOST_TEST(m.diagnostics.empty(), dump(m));
}

BOOST_AUTO_TEST_CASE(env_never_touches_keys_or_non_strings) {
    auto m = load_settings(R"({"${A}":"${A}","n":8188,"b":true,"z":null,"o":{"${A:-k}":[1,"${A}"]}})",
                           {{"A", "alpha"}});
    const auto& s = m.raw.at("settings").as_object();
    BOOST_TEST(string_at(s.at("${A}")) == "alpha");
    BOOST_TEST(!s.contains("alpha"));
    BOOST_TEST(s.at("n").as_int64() == 8188);
    BOOST_TEST(s.at("b").as_bool());
    BOOST_TEST(s.at("z").is_null());
    BOOST_TEST(string_at(s.at("o").at("${A:-k}").at(1)) == "alpha");
    BOOST_TEST(s.at("o").at("${A:-k}").at(0).as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(env_applies_before_routing) {
    auto m = load_ok(R"({"workers":{"w":{"job_types_accepted":[{"job_type":"${JT:-sim}","service":"${SVC}"}]}},
                         "services":{"simulation":{"connector":"${CONN:-SimulationHttpConnector}"}}})",
                     {{"SVC", "simulation"}});
    check_route(worker(m, "w"), 0, "sim", "simulation", "SimulationHttpConnector");
    BOOST_TEST(m.diagnostics.empty(), dump(m));
}

BOOST_AUTO_TEST_CASE(substitute_env_directly) {
    boost::json::value doc = boost::json::parse(R"({"a":["${V}",{"b":"${W:-w}"}]})");
    std::vector<mapping_diagnostic> diagnostics;
    substitute_env(doc, env_of({}), "doc", diagnostics);
    BOOST_TEST(boost::json::serialize(doc) == R"({"a":["",{"b":"w"}]})");
    BOOST_REQUIRE_EQUAL(diagnostics.size(), 1u);
    BOOST_TEST(diagnostics[0].path == "doc: a[0]");
}

// ---- load errors --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(malformed_files_name_the_file_and_path) {
    struct bad_case {
        const char* file;
        const char* expected_path;  // after "<file>: "; "" when the error is about the whole file
        const char* expected_message;
    };
    const bad_case cases[] = {
        {"invalid-json", "", "invalid JSON"},
        {"top-level-array", "", "must be a JSON object, got array"},
        {"workers-missing", "workers", "missing field \"workers\""},
        {"workers-not-object", "workers", "must be an object, got array"},
        {"services-not-object", "services", "must be an object, got array"},
        {"connectors-not-object", "connectors", "must be an object, got string \"SimulationHttpConnector\""},
        {"worker-not-object", "workers.simulation", "must be an object, got string \"simulation\""},
        {"worker-services-not-array", "workers.simulation.services",
         "must be an array of strings, got string \"simulation\""},
        {"worker-services-element", "workers.simulation.services[1]", "must be a string, got number 3"},
        {"route-list-not-array", "workers.simulation.job_service_required_map", "must be an array, got object"},
        {"route-not-object", "workers.simulation.job_types_accepted[1]", "must be an object, got string \"sim\""},
        {"route-missing-field", "workers.simulation.job_types_accepted[1].service", "missing field \"service\""},
        {"route-field-not-string", "workers.simulation.job_service_required_map[0].worker_service",
         "must be a string, got number 3"},
        {"service-not-object", "services.simulation", "must be an object, got boolean true"},
        {"service-connector-not-string", "services.simulation.connector", "must be a string, got number 3"},
        {"service-job-types-not-array", "services.simulation.job_types_accepted",
         "must be an array of strings, got string \"simulation\""},
        {"service-job-types-element", "services.simulation.job_types_accepted[1]", "must be a string, got null"},
    };
    for (const auto& c : cases) {
        const std::string file = std::string(c.file) + ".json";
        BOOST_TEST_CONTEXT(file) {
            auto loaded = load_mapping(read_text(kFixtures + "/bad-mappings/" + file), file, env_of({}));
            BOOST_REQUIRE(!loaded.has_value());
            const std::string expected_path = *c.expected_path ? file + ": " + c.expected_path : file;
            BOOST_TEST(loaded.error().path == expected_path);
            BOOST_TEST(loaded.error().message.find(c.expected_message) != std::string::npos,
                       loaded.error().message);
            BOOST_TEST(loaded.error().text().find(expected_path + ": ") == 0u);
        }
    }
}

// ---- diagnostics --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_service_is_an_error_diagnostic) {
    auto m = load_ok(R"({"workers":{"w":{"services":["ghost"],
                         "job_types_accepted":[{"job_type":"t","service":"ghost"}]}}})");
    BOOST_TEST(count(m, severity::error) == 2u, dump(m));
    const auto* route_diag = find_diagnostic(m, "mapping.json: workers.w.job_types_accepted[0].service");
    BOOST_REQUIRE(route_diag);
    BOOST_TEST((route_diag->level == severity::error));
    BOOST_TEST(route_diag->message.find("\"ghost\"") != std::string::npos);
    BOOST_TEST(find_diagnostic(m, "mapping.json: workers.w.services[0]"));
    check_route(worker(m, "w"), 0, "t", "ghost", "");  // still loads: only serve refuses it
}

BOOST_AUTO_TEST_CASE(connector_missing_from_present_connectors_section) {
    const std::string body = R"("workers":{"w":{"services":["s"]}},
                               "services":{"s":{"connector":"GhostConnector","job_types_accepted":["t"]}})";
    auto with = load_ok("{" + body + R"(,"connectors":{"MockConnector":{}}})");
    const auto* d = find_diagnostic(with, "mapping.json: services.s.connector");
    BOOST_REQUIRE(d);
    BOOST_TEST((d->level == severity::error));
    BOOST_TEST(d->message.find("\"GhostConnector\"") != std::string::npos);
    check_route(worker(with, "w"), 0, "t", "s", "GhostConnector");

    auto without = load_ok("{" + body + "}");  // no section: nothing to check against here
    BOOST_TEST(without.diagnostics.empty(), dump(without));
}

BOOST_AUTO_TEST_CASE(service_without_connector_is_a_warning) {
    auto m = load_ok(R"({"workers":{"w":{"services":["s"]}},"services":{"s":{"job_types_accepted":["t"]}}})");
    BOOST_REQUIRE_EQUAL(m.diagnostics.size(), 1u);
    BOOST_TEST((m.diagnostics[0].level == severity::warning));
    BOOST_TEST(m.diagnostics[0].path == "mapping.json: services.s.connector");
    check_route(worker(m, "w"), 0, "t", "s", "");
}

BOOST_AUTO_TEST_CASE(duplicate_routes_first_wins) {
    auto m = load_ok(R"({"workers":{"w":{"job_service_required_map":[
                           {"job_service_required":"t","worker_service":"a"},
                           {"job_service_required":"u","worker_service":"a"},
                           {"job_service_required":"t","worker_service":"b"}]}},
                         "services":{"a":{"connector":"A"},"b":{"connector":"B"}}})");
    const auto& w = worker(m, "w");
    BOOST_TEST(w.routes.size() == 3u);
    BOOST_TEST(w.job_types() == (strings{"t", "u"}));
    BOOST_REQUIRE(w.find_route("t"));
    BOOST_TEST(w.find_route("t")->connector == "A");
    BOOST_REQUIRE_EQUAL(m.diagnostics.size(), 1u);
    BOOST_TEST((m.diagnostics[0].level == severity::warning));
    BOOST_TEST(m.diagnostics[0].path == "mapping.json: workers.w.job_service_required_map[2]");
    BOOST_TEST(m.diagnostics[0].message.find("workers.w.job_service_required_map[0]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_route_lists_are_warnings) {
    auto m = load_ok(R"({"workers":{"explicit":{"services":["s"],"job_service_required_map":[]},
                                    "derived":{"services":["s"]}},
                         "services":{"s":{"connector":"C"}}})");
    BOOST_TEST(count(m, severity::error) == 0u, dump(m));
    BOOST_TEST(count(m, severity::warning) == 2u, dump(m));
    BOOST_TEST(find_diagnostic(m, "mapping.json: workers.explicit.job_service_required_map"));
    BOOST_TEST(find_diagnostic(m, "mapping.json: workers.derived"));
    // An empty map still wins over the services' job types: the choice is by key presence.
    BOOST_TEST(worker(m, "explicit").source == route_source::job_service_required_map);
    BOOST_TEST(worker(m, "explicit").routes.empty());
    BOOST_TEST(worker(m, "explicit").services == strings{"s"});
}

// ---- model details ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(route_source_precedence_and_mixed_shapes) {
    auto m = load_ok(R"({"workers":{
          "both":{"job_types_accepted":[{"job_type":"x","service":"s"}],
                  "job_service_required_map":[{"job_service_required":"y","worker_service":"s"}]},
          "seed":{"job_types_accepted":[{"job_type":"x","service":"s"}]},
          "derived":{"services":["s"]}},
        "services":{"s":{"connector":"C","job_types_accepted":["z"]}}})");
    BOOST_TEST(m.diagnostics.empty(), dump(m));
    BOOST_TEST(worker(m, "both").job_types() == strings{"y"});
    BOOST_TEST(worker(m, "both").source == route_source::job_service_required_map);
    BOOST_TEST(worker(m, "seed").job_types() == strings{"x"});
    BOOST_TEST(worker(m, "derived").job_types() == strings{"z"});
    BOOST_TEST(worker(m, "derived").services == strings{"s"});
    BOOST_TEST(worker(m, "seed").services.empty());
}

BOOST_AUTO_TEST_CASE(optional_sections_and_lookups) {
    auto m = load_ok(R"({"workers":{"b":{},"a":{}},"extra":{"kept":true}})");
    BOOST_TEST(m.services.empty());
    BOOST_TEST(!m.connectors.has_value());
    BOOST_TEST(m.worker_type_list() == "a, b");
    BOOST_TEST(m.find_worker_type("a"));
    BOOST_TEST(!m.find_worker_type("c"));
    BOOST_TEST(!m.find_service("a"));
    BOOST_TEST(m.raw.at("extra").at("kept").as_bool());
    BOOST_TEST(m.source_name == "mapping.json");
    BOOST_TEST(load_ok(R"({"workers":{}})").worker_type_list() == "");
}

BOOST_AUTO_TEST_CASE(odd_keys_are_quoted_in_paths) {
    auto loaded = load_mapping(R"({"workers":{"a.b":{"services":[1]}}})", "m.json", env_of({}));
    BOOST_REQUIRE(!loaded.has_value());
    BOOST_TEST(loaded.error().path == "m.json: workers[\"a.b\"].services[0]");
}
