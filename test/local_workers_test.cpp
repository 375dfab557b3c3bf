// local_workers: in-process workers end to end with a real dispatcher (ids, capabilities from
// the environment, jobs run through MockConnector, cancel, stop, refusal of worker types whose
// connector is missing).
#define BOOST_TEST_MODULE local_workers
#include "server/dispatcher.hpp"
#include "server/local_workers.hpp"
#include "server/simulation_service.hpp"

#include "app/mapping_source.hpp"
#include "server/clock.hpp"
#include "strategies/strategy_registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace jobrouter;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// The dispatcher's own timers keep the io_context busy for ever, so runs stop on a condition,
// always within this limit.
constexpr auto kLimit = 5s;

constexpr const char* kMapping = R"({
  "workers": {
    "mock":   {"services": ["mock_test"],
               "job_service_required_map": [{"job_service_required": "mock", "worker_service": "mock_test"}]},
    "sim":    {"services": ["sim"],
               "job_service_required_map": [{"job_service_required": "simulation", "worker_service": "sim"}]},
    "rest":   {"services": ["ext"],
               "job_service_required_map": [{"job_service_required": "ext", "worker_service": "ext"}]},
    "ghost":  {"services": ["nowhere"], "job_types_accepted": [{"job_type": "g", "service": "nowhere"}]},
    "bare":   {"services": ["plain"], "job_types_accepted": [{"job_type": "p", "service": "plain"}]}
  },
  "services": {
    "mock_test": {"connector": "MockConnector"},
    "sim":       {"connector": "SimulationHttpConnector"},
    "ext":       {"connector": "ComfyUIConnector"},
    "plain":     {}
  }
})";

env_lookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

service_mapping load(const char* text) { return load_mapping(text, "test-mapping.json", env_of({})).value(); }

struct fixture {
    explicit fixture(const char* mapping_text = kMapping, const std::string& strategy_name = "job-type")
        : mapping(load(mapping_text)), strat(make_strategy(strategy_name).value()),
          d(io, mapping, *strat, dispatcher_options{}, clock) {}

    std::unique_ptr<local_workers> workers(const std::vector<worker_count>& counts, const capabilities_config& c = {}) {
        auto made = local_workers::create(io, d, counts, "m1", c);
        BOOST_REQUIRE_MESSAGE(made, (made ? "" : made.error().text()));
        return std::move(*made);
    }

    std::string submit(const std::string& body) {
        auto r = d.submit(json::parse(body));
        BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
        return r->job_id;
    }

    // A subscription that ends with the scope it is declared in. Workers still send events when
    // they are destroyed (each unregisters), and a test's workers are declared before the
    // locals its subscriber captures, so a subscription left in the dispatcher would read those
    // locals after their scope (ASan: stack-use-after-scope).
    class subscription {
    public:
        subscription(dispatcher& d, dispatcher::subscriber_fn fn) : d_(d), id_(d.subscribe(std::move(fn))) {}
        subscription(const subscription&) = delete;
        subscription& operator=(const subscription&) = delete;
        ~subscription() { d_.unsubscribe(id_); }

    private:
        dispatcher& d_;
        std::size_t id_;
    };

    json::object job(const std::string& id) { return d.get_job(id).value(); }
    std::string status(const std::string& id) { return std::string(job(id).at("status").as_string()); }

    /// Runs the io_context until `done` holds or kLimit passes; returns `done()`.
    bool run_until(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + kLimit;
        while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(2ms);
        return done();
    }

    boost::asio::io_context io;
    service_mapping mapping;
    std::unique_ptr<strategy> strat;
    system_clock_source clock;
    dispatcher d;
};

}  // namespace

// ---- ids and capabilities ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(worker_ids_are_machine_worker_type_index) {
    BOOST_TEST(local_worker_id("box", "simulation-http", 0) == "box-worker-simulation-http-0");
    fixture f;
    auto w = f.workers({{"mock", 2}, {"sim", 1}});
    const std::vector<std::string> expected{"m1-worker-mock-0", "m1-worker-mock-1", "m1-worker-sim-0"};
    BOOST_TEST(w->ids() == expected, boost::test_tools::per_element());

    BOOST_TEST(f.d.list_workers().value().empty());  // create() registers nothing
    BOOST_REQUIRE(w->start_all());
    const json::array listed = f.d.list_workers().value();
    BOOST_REQUIRE(listed.size() == 3u);
    for (const auto& entry : listed) BOOST_TEST(entry.at("kind").as_string() == "in-process");
    BOOST_TEST(listed[2].at("worker_id").as_string() == "m1-worker-sim-0");
    BOOST_TEST(listed[2].at("worker_type").as_string() == "sim");
}

BOOST_AUTO_TEST_CASE(an_empty_machine_id_is_refused) {
    fixture f;
    auto made = local_workers::create(f.io, f.d, {{"mock", 1}}, " ", {});
    BOOST_REQUIRE(!made);
    BOOST_TEST(made.error().path == "--machine-id");
}

BOOST_AUTO_TEST_CASE(capabilities_come_from_the_environment) {
    auto c = capabilities_config_from_env(env_of({
        {"WORKER_GPU_MEMORY_GB", " 24 "},
        {"WORKER_RAM_GB", "31.5"},
        {"WORKER_CPU_CORES", "16"},
        {"WORKER_GPU_MODEL", "RTX 4090"},
        {"WORKER_GPU_COUNT", "2"},
        {"WORKER_CUSTOMER_ISOLATION", "strict"},
        {"ALLOWED_CUSTOMERS", "acme, globex ,"},
        {"DENIED_CUSTOMERS", "initech"},
        {"WORKER_MODELS", R"({"comfyui":["sdxl","flux"]})"},
        {"WORKER_CAPABILITIES", R"({"region":"eu","hardware":{"gpu_vendor":"nvidia","ram_gb":1}})"},
    }));
    BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.error().text()));
    BOOST_TEST(*c->gpu_memory_gb == 24.0);
    BOOST_TEST(*c->cpu_cores == 16);
    BOOST_TEST(c->allowed_customers->size() == 2u);

    const json::object caps = local_worker_capabilities("m1-worker-mock-0", "mock", *c);
    // The dedicated variables win over WORKER_CAPABILITIES key by key (ram_gb), the rest is kept.
    BOOST_TEST(json::serialize(caps) ==
               R"({"region":"eu","hardware":{"gpu_vendor":"nvidia","ram_gb":3.15E1,"gpu_memory_gb":24,"cpu_cores":16,)"
               R"("gpu_model":"RTX 4090","gpu_count":2},"worker_id":"m1-worker-mock-0","worker_type":"mock",)"
               R"("models":{"comfyui":["sdxl","flux"]},"customer_access":{"isolation":"strict",)"
               R"("allowed_customers":["acme","globex"],"denied_customers":["initech"]}})");
}

BOOST_AUTO_TEST_CASE(unset_or_blank_variables_add_nothing) {
    auto c = capabilities_config_from_env(env_of({{"ALLOWED_CUSTOMERS", ""}, {"WORKER_GPU_MEMORY_GB", "  "},
                                                  {"DENIED_CUSTOMERS", " , "}}));
    BOOST_REQUIRE(c);
    BOOST_TEST(json::serialize(local_worker_capabilities("w", "mock", *c)) == R"({"worker_id":"w","worker_type":"mock"})");
}

BOOST_AUTO_TEST_CASE(malformed_variables_are_errors_naming_the_variable) {
    const std::pair<std::map<std::string, std::string>, std::string> cases[] = {
        {{{"WORKER_GPU_MEMORY_GB", "lots"}}, R"(WORKER_GPU_MEMORY_GB: must be a number, got "lots")"},
        {{{"WORKER_GPU_MEMORY_GB", "24GB"}}, R"(WORKER_GPU_MEMORY_GB: must be a number, got "24GB")"},
        {{{"WORKER_RAM_GB", "-1"}}, R"(WORKER_RAM_GB: must be a number >= 0, got "-1")"},
        {{{"WORKER_RAM_GB", "nan"}}, R"(WORKER_RAM_GB: must be a number, got "nan")"},
        {{{"WORKER_CPU_CORES", "2.5"}}, R"(WORKER_CPU_CORES: must be a whole number >= 0, got "2.5")"},
        {{{"WORKER_GPU_COUNT", "two"}}, R"(WORKER_GPU_COUNT: must be a whole number >= 0, got "two")"},
        {{{"WORKER_CUSTOMER_ISOLATION", "tight"}},
         R"(WORKER_CUSTOMER_ISOLATION: must be one of strict, loose, none, got "tight")"},
        {{{"WORKER_MODELS", "[1]"}}, R"(WORKER_MODELS: must be a JSON object like {"comfyui":["sdxl"]}, got array)"},
        {{{"WORKER_MODELS", R"({"comfyui":"sdxl"})"}},
         R"(WORKER_MODELS: the models of "comfyui" must be an array of model names, got string "sdxl")"},
        {{{"WORKER_MODELS", R"({"comfyui":["sdxl",3]})"}},
         R"(WORKER_MODELS: the models of "comfyui" must be strings; item 1 is number 3)"},
        {{{"WORKER_CAPABILITIES", R"({"worker_id":"x"})"}},
         R"(WORKER_CAPABILITIES: must not set "worker_id" (worker ids come from --machine-id and WORKERS, services and job types from the mapping's worker type))"},
        {{{"WORKER_CAPABILITIES", R"({"hardware":4})"}}, R"(WORKER_CAPABILITIES: "hardware" must be an object, got number 4)"},
        {{{"WORKER_CAPABILITIES", R"({"workflow_id":7})"}},
         R"(WORKER_CAPABILITIES: "workflow_id" must be a string, got number 7)"},
    };
    for (const auto& [vars, message] : cases) {
        BOOST_TEST_CONTEXT(message) {
            auto c = capabilities_config_from_env(env_of(vars));
            BOOST_REQUIRE(!c);
            BOOST_TEST(c.error().text() == message);
        }
    }
    // Invalid JSON: the variable, what it should be, and the parser's account.
    auto c = capabilities_config_from_env(env_of({{"WORKER_MODELS", "{comfyui: sdxl}"}}));
    BOOST_REQUIRE(!c);
    BOOST_TEST(c.error().text().find(R"(WORKER_MODELS: must be a JSON object like {"comfyui":["sdxl"]}, but it is not valid JSON)") == 0u,
               c.error().text());
}

// ---- refusing worker types that cannot run --------------------------------------------------

BOOST_AUTO_TEST_CASE(a_worker_type_whose_connector_this_build_lacks_is_refused) {
    fixture f;
    auto made = local_workers::create(f.io, f.d, {{"mock", 1}, {"rest", 2}}, "m1", {});
    BOOST_REQUIRE(!made);
    BOOST_TEST(made.error().text() ==
               "test-mapping.json: workers.rest.job_service_required_map[0]: serve cannot start worker type \"rest\": "
               "service \"ext\", connector \"ComfyUIConnector\": this build has no such connector (it has: "
               "MockConnector, SimulationHttpConnector, SimulationWebsocketConnector, HttpRestConnector, CommandConnector)");
    BOOST_TEST(f.d.list_workers().value().empty());
}

BOOST_AUTO_TEST_CASE(a_worker_type_whose_service_is_unknown_or_has_no_connector_is_refused) {
    fixture f;
    auto ghost = local_workers::create(f.io, f.d, {{"ghost", 1}}, "m1", {});
    BOOST_REQUIRE(!ghost);
    BOOST_TEST(ghost.error().message ==
               "serve cannot start worker type \"ghost\": service \"nowhere\", connector (none): the service is not in "
               "the services of test-mapping.json");
    auto bare = local_workers::create(f.io, f.d, {{"bare", 1}}, "m1", {});
    BOOST_REQUIRE(!bare);
    BOOST_TEST(bare.error().message ==
               "serve cannot start worker type \"bare\": service \"plain\", connector (none): the service names no "
               "connector");
}

BOOST_AUTO_TEST_CASE(a_connector_missing_from_a_present_connectors_section_is_refused) {
    fixture f(R"({
      "workers": {"mock": {"services": ["mock_test"],
                           "job_service_required_map": [{"job_service_required": "mock", "worker_service": "mock_test"}]}},
      "services": {"mock_test": {"connector": "MockConnector"}},
      "connectors": {"SimulationHttpConnector": {}}
    })");
    auto made = local_workers::create(f.io, f.d, {{"mock", 1}}, "m1", {});
    BOOST_REQUIRE(!made);
    BOOST_TEST(made.error().message ==
               "serve cannot start worker type \"mock\": service \"mock_test\", connector \"MockConnector\": the "
               "connector is not in the connectors section of test-mapping.json");
}

BOOST_AUTO_TEST_CASE(a_worker_type_whose_service_settings_are_unusable_is_refused) {
    fixture f(R"({
      "workers": {"llm": {"services": ["chat"]}},
      "services": {"chat": {"connector": "HttpRestConnector", "job_types_accepted": ["chat"],
                            "api_config": {"url": "http://127.0.0.1:9/x", "method": "TRACE"}}}
    })");
    auto made = local_workers::create(f.io, f.d, {{"llm", 1}}, "m1", {});
    BOOST_REQUIRE(!made);
    BOOST_TEST(made.error().message ==
               "serve cannot start worker type \"llm\": service \"chat\", connector \"HttpRestConnector\": its "
               "settings are unusable: services.chat.api_config.method: must be GET, POST, PUT, PATCH or DELETE, got "
               "\"TRACE\"",
               made.error().message);
    BOOST_TEST(f.d.list_workers().value().empty());
}

BOOST_AUTO_TEST_CASE(every_worker_type_of_the_embedded_mapping_can_start) {
    const service_mapping m = load_mapping_source("", env_of({})).value();
    for (const auto& name : strategy_names()) {
        const auto s = make_strategy(name).value();
        for (const auto& [type_name, type] : m.workers)
            BOOST_TEST_CONTEXT(name << " " << type_name) {
                auto ok = check_local_worker_type(type, m, *s);
                BOOST_TEST(ok.has_value(), (ok ? "" : ok.error().text()));
            }
    }
}

// ---- running jobs ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(submitted_mock_jobs_complete) {
    fixture f;
    auto w = f.workers({{"mock", 2}});
    BOOST_REQUIRE(w->start_all());
    std::map<std::string, std::string> ran_on;  // a finished job no longer names its worker
    const fixture::subscription events(f.d, [&](const dispatcher_event& e) {
        if (e.event.kind == event_kind::assigned) ran_on[e.event.job_id] = e.event.worker_id;
    });
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) ids.push_back(f.submit(R"({"service_required":"mock","payload":{"delay_ms":3,"n":)" +
                                                       std::to_string(i) + "}}"));
    BOOST_REQUIRE(f.run_until([&] {
        for (const auto& id : ids)
            if (f.status(id) != "completed") return false;
        return true;
    }));
    for (const auto& id : ids) {
        const json::object j = f.job(id);
        BOOST_TEST(j.at("progress").as_int64() == 100);
        BOOST_TEST(j.at("result").at("mock").as_bool());
        BOOST_TEST(j.at("result").at("job_id").as_string() == id);
        BOOST_TEST(ran_on[id].starts_with("m1-worker-mock-"));
    }
    BOOST_TEST(w->workers()[0]->jobs_taken() + w->workers()[1]->jobs_taken() == 6u);
    BOOST_TEST(w->running_jobs() == 0u);
    BOOST_TEST(f.d.running_local_jobs() == 0u);
}

BOOST_AUTO_TEST_CASE(jobs_pending_before_start_are_taken_and_simulation_jobs_run_on_the_simulation_service) {
    // SimulationHttpConnector talks to a real simulation service: one on a free port of f.io.
    unsigned short port = 0;
    {
        boost::asio::io_context probe;
        boost::asio::ip::tcp::acceptor a(probe, {boost::asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }
    std::string mapping_text = kMapping;
    const std::string plain = R"("sim":       {"connector": "SimulationHttpConnector"})";
    mapping_text.replace(mapping_text.find(plain), plain.size(),
                         R"("sim": {"connector": "SimulationHttpConnector", "ports": [")" + std::to_string(port) +
                             R"("], "api_config": {"timeout_ms": "2000", "poll_interval_ms": "10"}})");
    fixture f(mapping_text.c_str());
    simulation_settings s;
    s.http_endpoint = {boost::asio::ip::make_address("127.0.0.1"), port};
    s.ws_endpoint = {boost::asio::ip::make_address("127.0.0.1"), 0};
    auto service = start_simulation_service(f.io, s);

    const std::string sim = f.submit(R"({"service_required":"simulation","payload":{"steps":2,"duration_ms":4}})");
    const std::string mock = f.submit(R"({"service_required":"mock","payload":{"delay_ms":1}})");
    std::map<std::string, std::string> ran_on;
    const fixture::subscription events(f.d, [&](const dispatcher_event& e) {
        if (e.event.kind == event_kind::assigned) ran_on[e.event.job_id] = e.event.worker_id;
    });
    auto w = f.workers({{"mock", 1}, {"sim", 1}});
    BOOST_REQUIRE(w->start_all());
    BOOST_REQUIRE(f.run_until([&] { return f.status(sim) == "completed" && f.status(mock) == "completed"; }));
    const json::object result = f.job(sim).at("result").as_object();
    BOOST_TEST(result.at("simulated").as_bool());
    BOOST_TEST(result.at("steps").as_int64() == 2);
    BOOST_TEST(result.at("duration_ms").as_int64() == 4);
    BOOST_TEST(ran_on[sim] == "m1-worker-sim-0");
    BOOST_TEST(ran_on[mock] == "m1-worker-mock-0");
}

BOOST_AUTO_TEST_CASE(the_service_name_strategy_resolves_the_service_route) {
    fixture f(kMapping, "service-name");
    auto w = f.workers({{"mock", 1}});
    BOOST_REQUIRE(w->start_all());
    const std::string id = f.submit(R"({"service_required":"mock_test","payload":{"delay_ms":1}})");
    BOOST_REQUIRE(f.run_until([&] { return f.status(id) == "completed"; }));
}

BOOST_AUTO_TEST_CASE(should_fail_is_retried_then_fails_and_bad_input_fails_at_once) {
    fixture f;
    auto w = f.workers({{"mock", 1}});
    BOOST_REQUIRE(w->start_all());
    const std::string flaky = f.submit(R"({"service_required":"mock","max_retries":1,"payload":{"delay_ms":1,"should_fail":true}})");
    const std::string bad = f.submit(R"({"service_required":"mock","max_retries":3,"payload":{"delay_ms":"x"}})");
    BOOST_REQUIRE(f.run_until([&] { return f.status(flaky) == "failed" && f.status(bad) == "failed"; }));
    BOOST_TEST(f.job(flaky).at("error").at("message").as_string() == "mock failure (payload.should_fail)");
    BOOST_TEST(f.job(bad).at("attempts").as_int64() == 1);  // not retryable: no second attempt
    BOOST_TEST(std::string(f.job(bad).at("error").at("message").as_string()).starts_with("payload.delay_ms: "));
}

BOOST_AUTO_TEST_CASE(capabilities_from_the_environment_decide_which_jobs_a_worker_takes) {
    fixture f;
    capabilities_config c = capabilities_config_from_env(env_of({{"WORKER_GPU_MEMORY_GB", "16"}})).value();
    auto w = f.workers({{"mock", 1}}, c);
    BOOST_REQUIRE(w->start_all());
    const std::string big = f.submit(R"({"service_required":"mock","requirements":{"hardware":{"gpu_memory_gb":24}},"payload":{"delay_ms":1}})");
    const std::string small = f.submit(R"({"service_required":"mock","requirements":{"hardware":{"gpu_memory_gb":8}},"payload":{"delay_ms":1}})");
    BOOST_REQUIRE(f.run_until([&] { return f.status(small) == "completed"; }));
    BOOST_TEST(f.status(big) == "pending");
}

BOOST_AUTO_TEST_CASE(a_cancelled_running_job_stops_its_connector_and_the_worker_takes_the_next) {
    fixture f;
    auto w = f.workers({{"mock", 1}});
    BOOST_REQUIRE(w->start_all());
    // Far longer than kLimit: if cancel did not stop it, `next` could never run in time.
    const std::string slow = f.submit(R"({"service_required":"mock","payload":{"delay_ms":600000}})");
    const std::string next = f.submit(R"({"service_required":"mock","payload":{"delay_ms":2}})");
    BOOST_REQUIRE(f.run_until([&] { return f.status(slow) == "in_progress"; }));
    const local_worker& worker = *w->workers()[0];
    BOOST_TEST(worker.current_job_id() == slow);

    int reports_after_cancel = 0;
    bool cancelled = false;
    const fixture::subscription events(f.d, [&](const dispatcher_event& e) {
        if (e.event.job_id != slow) return;
        if (e.event.kind == event_kind::cancelled) cancelled = true;
        else if (cancelled) ++reports_after_cancel;
    });
    BOOST_REQUIRE(f.d.cancel(slow));
    BOOST_REQUIRE(f.run_until([&] { return f.status(next) == "completed"; }));
    BOOST_TEST(f.status(slow) == "cancelled");
    BOOST_TEST(cancelled);
    BOOST_TEST(reports_after_cancel == 0);
    BOOST_TEST(worker.jobs_taken() == 2u);
    BOOST_TEST(!worker.busy());
}

BOOST_AUTO_TEST_CASE(stop_lets_the_running_job_finish_and_takes_no_more) {
    fixture f;
    auto w = f.workers({{"mock", 2}});
    BOOST_REQUIRE(w->start_all());
    const std::string first = f.submit(R"({"service_required":"mock","payload":{"delay_ms":30}})");
    BOOST_REQUIRE(f.run_until([&] { return w->running_jobs() == 1u; }));
    w->stop_all();
    BOOST_TEST(f.d.list_workers().value().size() == 1u);  // the idle one left at once
    const std::string later = f.submit(R"({"service_required":"mock","payload":{"delay_ms":1}})");
    BOOST_REQUIRE(f.run_until([&] { return f.status(first) == "completed" && f.d.list_workers().value().empty(); }));
    BOOST_TEST(f.status(later) == "pending");
    BOOST_TEST(w->running_jobs() == 0u);
}

BOOST_AUTO_TEST_CASE(jobs_handed_back_at_shutdown_stop_their_connectors) {
    fixture f;
    auto w = f.workers({{"mock", 1}});
    BOOST_REQUIRE(w->start_all());
    const std::string slow = f.submit(R"({"service_required":"mock","payload":{"delay_ms":600000}})");
    BOOST_REQUIRE(f.run_until([&] { return f.status(slow) == "in_progress"; }));
    w->stop_all();
    f.d.release_local_jobs();
    BOOST_TEST(f.status(slow) == "pending");
    BOOST_REQUIRE(f.run_until([&] { return w->running_jobs() == 0u && f.d.list_workers().value().empty(); }));
    BOOST_TEST(f.status(slow) == "pending");
    BOOST_TEST(f.job(slow).at("attempts").as_int64() == 0);  // handed back: the attempt is not counted
}

BOOST_AUTO_TEST_CASE(a_job_whose_connector_is_missing_fails_not_retryable_naming_it) {
    // create() refuses such a worker type; a worker built directly shows the run-time guard.
    fixture f;
    local_worker worker(f.io, f.d, "m1-worker-rest-0", *f.mapping.find_worker_type("rest"));
    BOOST_REQUIRE(worker.start(local_worker_capabilities("m1-worker-rest-0", "rest", {})));
    const std::string id = f.submit(R"({"service_required":"ext","max_retries":3})");
    BOOST_REQUIRE(f.run_until([&] { return f.status(id) == "failed"; }));
    const json::object j = f.job(id);
    BOOST_TEST(j.at("attempts").as_int64() == 1);
    BOOST_TEST(j.at("error").at("message").as_string() ==
               "worker type \"rest\", service \"ext\", connector \"ComfyUIConnector\": unknown connector "
               "\"ComfyUIConnector\" (this build has: MockConnector, SimulationHttpConnector, "
               "SimulationWebsocketConnector, HttpRestConnector, CommandConnector)");
    BOOST_TEST(!worker.busy());
}

BOOST_AUTO_TEST_CASE(a_destroyed_worker_leaves_the_dispatcher) {
    fixture f;
    const std::string slow = f.submit(R"({"service_required":"mock","max_retries":3,"payload":{"delay_ms":600000}})");
    {
        auto w = f.workers({{"mock", 1}});
        BOOST_REQUIRE(w->start_all());
        BOOST_REQUIRE(f.run_until([&] { return f.status(slow) == "in_progress"; }));
    }
    BOOST_TEST(f.d.list_workers().value().empty());
    BOOST_TEST(f.status(slow) == "retrying");  // its attempt counted, as for any worker that leaves
    f.io.run_for(20ms);  // anything still queued for the gone worker is dropped harmlessly
}
