// generic_connectors_example: config/examples/generic-connectors.json (the README's worked
// example) as written: its chat and ComfyUI services run through HttpRestConnector against
// scripted local peers shaped like an OpenAI-compatible server and ComfyUI, and its command
// service's settings are valid.
#define BOOST_TEST_MODULE generic_connectors_example
#include "connectors/command_settings.hpp"
#include "connectors/http_rest_connector.hpp"
#include "connectors/http_rest_settings.hpp"
#include "core/service_mapping.hpp"
#include "support/http_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

using namespace jobrouter;
using jobrouter::test::http_test_server;
using jobrouter::test::test_reply;
using jobrouter::test::test_request;
namespace json = boost::json;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

const std::string kExample = std::string(JOBROUTER_FIXTURES_DIR) + "/../../config/examples/generic-connectors.json";

service_mapping load_example(const std::string& host) {
    std::ifstream in(kExample);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " << kExample);
    std::ostringstream text;
    text << in.rdbuf();
    auto m = load_mapping(text.str(), "generic-connectors.json", [&](const std::string& name) -> std::optional<std::string> {
        if (name == "OPENAI_HOST" || name == "COMFYUI_HOST") return host;
        return std::nullopt;  // the rest keep their defaults
    });
    BOOST_REQUIRE_MESSAGE(m, m.error().text());
    return std::move(*m);
}

connector_job job_for(const service_mapping& m, const std::string& service, const std::string& payload) {
    connector_job j;
    j.job_id = "ex-1";
    j.job_type = service;
    j.service = service;
    j.payload = json::parse(payload);
    j.service_config = m.find_service(service)->raw;
    return j;
}

struct outcome {
    std::optional<json::value> result;
    std::string error;
};

outcome run(asio::io_context& io, connector_job job) {
    http_rest_connector c(io);
    outcome o;
    bool ended = false;
    connector_callbacks cb;
    cb.on_complete = [&](json::value r) {
        o.result = std::move(r);
        ended = true;
    };
    cb.on_fail = [&](json::value e, bool) {
        o.error = json::serialize(e);
        ended = true;
    };
    c.start(std::move(job), std::move(cb));
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!ended && std::chrono::steady_clock::now() < deadline) {
        if (io.stopped()) io.restart();
        io.run_for(2ms);
    }
    BOOST_REQUIRE_MESSAGE(ended, "the job did not end");
    return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_chat_service_reaches_an_openai_compatible_server) {
    asio::io_context io;
    http_test_server server(io, [](const test_request& r) {
        if (r.target != "/v1/chat/completions" || r.headers.count("authorization") == 0)
            return test_reply::json(R"({"error":"wrong request"})", 400);
        const json::value body = json::parse(r.body);
        const std::string said = std::string(body.at("messages").at(0).at("content").as_string());
        return test_reply::json(R"({"id":"chatcmpl-1","object":"chat.completion","model":")" +
                                std::string(body.at("model").as_string()) +
                                R"(","choices":[{"index":0,"message":{"role":"assistant","content":"you said: )" + said +
                                R"("},"finish_reason":"stop"}],"usage":{"total_tokens":9}})");
    });
    ::setenv("OPENAI_API_KEY", "sk-test", 1);
    const service_mapping m = load_example("127.0.0.1:" + std::to_string(server.port()));
    const outcome o = run(io, job_for(m, "chat", R"({"model":"llama3.2","messages":[{"role":"user","content":"hello"}]})"));
    ::unsetenv("OPENAI_API_KEY");
    BOOST_REQUIRE_MESSAGE(o.result, o.error);
    BOOST_TEST(o.result->as_string() == "you said: hello");
    const test_request& r = server.seen().requests.at(0);
    BOOST_TEST(r.headers.at("authorization") == "Bearer sk-test");
    BOOST_TEST(json::parse(r.body).at("user").as_string() == "ex-1");
}

BOOST_AUTO_TEST_CASE(the_comfyui_service_submits_then_polls_the_history) {
    asio::io_context io;
    int polls = 0;
    http_test_server server(io, [&](const test_request& r) {
        if (r.method == "POST" && r.target == "/prompt")
            return test_reply::json(R"({"prompt_id":"4f1c","number":1,"node_errors":{}})");
        if (r.target != "/history/4f1c") return test_reply::json("{}", 404);
        if (++polls < 2) return test_reply::json("{}");
        return test_reply::json(R"({"4f1c":{"prompt":[],"outputs":{"9":{"images":[{"filename":"out_0001.png"}]}},
                                    "status":{"status_str":"success","completed":true,"messages":[]}}})");
    });
    const service_mapping m = load_example("127.0.0.1:" + std::to_string(server.port()));
    connector_job j = job_for(m, "comfyui", R"({"workflow":{"3":{"class_type":"KSampler","inputs":{}}}})");
    // The example polls every second; a test need not wait that long.
    j.service_config["api_config"].as_object()["poll"].as_object()["interval_ms"] = 10;
    const outcome o = run(io, std::move(j));
    BOOST_REQUIRE_MESSAGE(o.result, o.error);
    BOOST_TEST(o.result->at("9").at("images").at(0).at("filename").as_string() == "out_0001.png");
}

BOOST_AUTO_TEST_CASE(every_example_service_has_valid_settings) {
    const service_mapping m = load_example("127.0.0.1:1");
    for (const char* service : {"chat", "comfyui"}) {
        connector_job j = job_for(m, service, "{}");
        auto s = read_rest_settings(j);
        BOOST_TEST(s.has_value(), service << ": " << (s ? "" : s.error().text()));
    }
    auto s = read_command_settings(job_for(m, "upscale", "{}"));
    BOOST_REQUIRE_MESSAGE(s, s.error().text());
    BOOST_TEST(s->argv.at(0) == "python3");
    BOOST_TEST(s->timeout.count() == 900000);
}
