// http_rest_connector: HttpRestConnector against a scripted local HTTP peer
// (support/http_test_server.hpp): the payload or a templated body, headers from the
// environment, submit-then-poll to done and to failed, step and total timeouts, 5xx retries,
// 4xx and malformed JSON as non-retryable failures, a peer closing mid-reply, cancel closing
// the connection without a callback; plus the path and template helpers it is built on.
#define BOOST_TEST_MODULE http_rest_connector
#include "support/connector_recorder.hpp"
#include "connectors/http_rest_connector.hpp"

#include "connectors/connector_registry.hpp"
#include "connectors/json_path.hpp"
#include "connectors/request_template.hpp"
#include "core/service_mapping.hpp"
#include "support/http_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace jobrouter;
using jobrouter::test::http_test_server;
using jobrouter::test::test_reply;
using jobrouter::test::test_request;
namespace json = boost::json;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto kLimit = 5s;

using recorder = jobrouter::test::connector_recorder;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct fixture {
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = kLimit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            if (io.stopped()) io.restart();
            io.run_for(2ms);
        }
        return done();
    }
    void run_for(std::chrono::milliseconds d) {
        const auto until = std::chrono::steady_clock::now() + d;
        run_until([&] { return std::chrono::steady_clock::now() >= until; });
    }
    connector_job job(const std::string& payload, const std::string& api_config) {
        connector_job j;
        j.job_id = "j1";
        j.job_type = "chat";
        j.service = "rest";
        j.payload = json::parse(payload);
        j.service_config = json::parse(R"({"connector":"HttpRestConnector","api_config":)" + api_config + "}").as_object();
        j.job = {{"id", "j1"}, {"service_required", "chat"}, {"customer_id", "c7"}};
        return j;
    }
    /// Runs `api_config` on a fresh connector until it ends.
    void run_job(const std::string& payload, const std::string& api_config) {
        c.start(job(payload, api_config), rec.callbacks());
        BOOST_TEST(rec.endings == 0);  // nothing from inside start()
        BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
        run_for(20ms);  // nothing more may follow
        BOOST_TEST(rec.endings == 1);
    }

    asio::io_context io;
    http_rest_connector c{io};
    recorder rec;
};

const char* kChatReply = R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hello there"}}]})";

}  // namespace

// ---- helpers ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(json_paths_find_keys_and_indexes) {
    const json::value doc = json::parse(R"({"choices":[{"message":{"content":"hi"}}],"a":{"b":[1,[2,3]]}})");
    BOOST_TEST(json::serialize(*find_json_path(doc, parse_json_path("choices[0].message.content", "f").value())) == "\"hi\"");
    BOOST_TEST(json::serialize(*find_json_path(doc, parse_json_path("a.b[1][0]", "f").value())) == "2");
    BOOST_TEST(find_json_path(doc, parse_json_path("", "f").value()) == &doc);
    BOOST_TEST(find_json_path(doc, parse_json_path("choices[3]", "f").value()) == nullptr);
    BOOST_TEST(find_json_path(doc, parse_json_path("a.b.c", "f").value()) == nullptr);
    const auto bad = parse_json_path("a..b", "services.s.api_config.result_path");
    BOOST_REQUIRE(!bad);
    BOOST_TEST(bad.error().path == "services.s.api_config.result_path");
    BOOST_TEST(!parse_json_path("a[x]", "f"));
    BOOST_TEST(!parse_json_path("a[1", "f"));
}

BOOST_AUTO_TEST_CASE(templates_insert_values_and_name_what_is_missing) {
    template_scope scope;
    scope.roots["payload"] = json::parse(R"({"n":3,"msgs":[{"role":"user"}],"name":"a b/c"})");
    scope.roots["job_id"] = "j1";
    scope.env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "KEY") return "s3cret";
        return std::nullopt;
    };
    const json::value out = render_json(json::parse(R"({"m":"{{payload.msgs}}","n":"{{ payload.n }}","t":"job {{job_id}} n={{payload.n}}","k":"{{env.KEY}}"})"),
                                        scope, "body")
                                .value();
    BOOST_TEST(json::serialize(out) == R"({"m":[{"role":"user"}],"n":3,"t":"job j1 n=3","k":"s3cret"})");
    BOOST_TEST(render_text("/x/{{payload.name}}", scope, "url", [](std::string_view s) {
                   std::string o;
                   for (char c : s) o += c == ' ' ? std::string("%20") : c == '/' ? std::string("%2F") : std::string(1, c);
                   return o;
               }).value() == "/x/a%20b%2Fc");
    const auto unset = render_text("Bearer {{env.NOPE}}", scope, "services.s.api_config.headers.Authorization");
    BOOST_REQUIRE(!unset);
    BOOST_TEST(unset.error().path == "services.s.api_config.headers.Authorization");
    BOOST_TEST(has(unset.error().message, "environment variable \"NOPE\" is not set"), unset.error().message);
    const auto missing = render_json(json::parse(R"({"a":["{{payload.model}}"]})"), scope, "body");
    BOOST_REQUIRE(!missing);
    BOOST_TEST(missing.error().path == "body.a[0]");
    BOOST_TEST(has(missing.error().message, "the job has no payload.model"), missing.error().message);
    BOOST_TEST(!render_text("{{job_id", scope, "url"));
    BOOST_TEST(has(render_text("{{nothing}}", scope, "url").error().message, "unknown name \"nothing\""));
}

BOOST_AUTO_TEST_CASE(the_registry_builds_it) {
    asio::io_context io;
    BOOST_TEST(make_connector("HttpRestConnector", io).value()->name() == "HttpRestConnector");
}

BOOST_FIXTURE_TEST_SUITE(http_rest, fixture)

// ---- one request ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(posts_the_payload_as_is_and_returns_the_result_path) {
    http_test_server server(io, [](const test_request&) { return test_reply::json(kChatReply); });
    run_job(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})",
            R"({"url":")" + server.url("/v1/chat/completions") + R"(","result_path":"choices[0].message.content"})");
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(rec.result->as_string() == "hello there");
    BOOST_TEST(rec.progress.back() == 100);
    BOOST_REQUIRE(server.seen().requests.size() == 1u);
    const test_request& r = server.seen().requests[0];
    BOOST_TEST(r.method == "POST");
    BOOST_TEST(r.target == "/v1/chat/completions");
    BOOST_TEST(r.headers.at("content-type") == "application/json");
    BOOST_TEST(json::parse(r.body) == json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"));
}

BOOST_AUTO_TEST_CASE(a_body_template_takes_payload_and_job_fields) {
    http_test_server server(io, [](const test_request& r) { return test_reply::json(R"({"echo":)" + r.body + "}"); });
    run_job(R"({"prompt":"a cat","steps":4})",
            R"({"url":")" + server.url("/run?job={{job_id}}") + R"(","method":"put",
                "body":{"model":"fixed-1","input":{"text":"{{payload.prompt}}","steps":"{{payload.steps}}"},
                        "meta":"{{job_type}}/{{job_id}} for {{job.customer_id}}","whole":"{{payload}}"}})");
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    const test_request& r = server.seen().requests.at(0);
    BOOST_TEST(r.method == "PUT");
    BOOST_TEST(r.target == "/run?job=j1");
    BOOST_TEST(json::parse(r.body) == json::parse(R"({"model":"fixed-1","input":{"text":"a cat","steps":4},
        "meta":"chat/j1 for c7","whole":{"prompt":"a cat","steps":4}})"));
    BOOST_TEST(rec.result->at("echo").at("model").as_string() == "fixed-1");  // no result_path: the whole reply
}

BOOST_AUTO_TEST_CASE(a_missing_payload_field_fails_before_any_request) {
    http_test_server server(io, [](const test_request&) { return test_reply::json("{}"); });
    run_job(R"({})", R"({"url":")" + server.url("/") + R"(","body":{"p":"{{payload.prompt}}"}})");
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "services.rest.api_config.body.p"), rec.message());
    BOOST_TEST(has(rec.message(), "payload.prompt"), rec.message());
    BOOST_TEST(server.seen().requests.empty());
}

BOOST_AUTO_TEST_CASE(header_values_read_the_environment_at_use) {
    ::setenv("JR_REST_TEST_TOKEN", "tok-123", 1);
    http_test_server server(io, [](const test_request&) { return test_reply::json("{}"); });
    run_job("{}", R"({"url":")" + server.url("/") +
                      R"(","headers":{"Authorization":"Bearer {{env.JR_REST_TEST_TOKEN}}","X-Job":"{{job_id}}"}})");
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    const test_request& r = server.seen().requests.at(0);
    BOOST_TEST(r.headers.at("authorization") == "Bearer tok-123");
    BOOST_TEST(r.headers.at("x-job") == "j1");
    ::unsetenv("JR_REST_TEST_TOKEN");
}

BOOST_AUTO_TEST_CASE(an_unset_header_variable_fails_naming_it) {
    ::unsetenv("JR_REST_TEST_UNSET");
    http_test_server server(io, [](const test_request&) { return test_reply::json("{}"); });
    run_job("{}", R"({"url":")" + server.url("/") + R"(","headers":{"Authorization":"Bearer {{env.JR_REST_TEST_UNSET}}"}})");
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "environment variable \"JR_REST_TEST_UNSET\" is not set"), rec.message());
    BOOST_TEST(has(rec.message(), "services.rest.api_config.headers.Authorization"), rec.message());
    BOOST_TEST(server.seen().requests.empty());
}

// ${VAR} in the mapping file is the loader's (at load); the connector sends what it left.
BOOST_AUTO_TEST_CASE(load_time_variables_from_the_mapping_reach_the_headers) {
    http_test_server server(io, [](const test_request&) { return test_reply::json("{}"); });
    const std::string text = R"({"workers":{"w":{"services":["rest"]}},"services":{"rest":{"connector":"HttpRestConnector",
        "api_config":{"url":")" + server.url("/") + R"(","headers":{"X-Key":"${REST_KEY}"}}}}})";
    auto m = load_mapping(text, "m.json", [](const std::string& n) -> std::optional<std::string> {
        if (n == "REST_KEY") return "from-env";
        return std::nullopt;
    });
    BOOST_REQUIRE_MESSAGE(m, m.error().text());
    connector_job j = job("{}", "{}");
    j.service_config = m->find_service("rest")->raw;
    c.start(std::move(j), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return rec.endings > 0; }));
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(server.seen().requests.at(0).headers.at("x-key") == "from-env");
}

// ---- failures of one request --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_slow_reply_hits_the_step_timeout_and_is_retryable) {
    http_test_server server(io, [](const test_request&) {
        auto r = test_reply::json("{}");
        r.delay = 3000ms;
        return r;
    });
    run_job("{}", R"({"url":")" + server.url("/") + R"(","request_timeout_ms":"100","retry_backoff_ms":1})");
    BOOST_TEST((rec.retryable == true));
    BOOST_TEST(has(rec.message(), "timed out after 100 ms"), rec.message());
    BOOST_TEST(server.seen().requests.size() == 1u);  // not repeated: the service may be working on it
}

BOOST_AUTO_TEST_CASE(a_5xx_is_retried_with_back_off_until_it_succeeds) {
    int calls = 0;
    http_test_server server(io, [&](const test_request&) {
        return ++calls < 3 ? test_reply::json(R"({"error":"busy"})", 503) : test_reply::json(R"({"ok":1})");
    });
    run_job("{}", R"({"url":")" + server.url("/") + R"(","max_attempts":"3","retry_backoff_ms":"5","result_path":"ok"})");
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(rec.result->as_int64() == 1);
    BOOST_TEST(server.seen().requests.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_5xx_after_every_attempt_fails_retryable_with_the_status) {
    http_test_server server(io, [](const test_request&) { return test_reply::json(R"({"error":"down"})", 500); });
    run_job("{}", R"({"url":")" + server.url("/") + R"(","max_attempts":2,"retry_backoff_ms":1})");
    BOOST_TEST((rec.retryable == true));
    BOOST_TEST(has(rec.message(), "answered 500 (after 2 attempts)"), rec.message());
    BOOST_TEST(rec.error->at("status").as_int64() == 500);
    BOOST_TEST(server.seen().requests.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_retried_then_retryable) {
    unsigned short port = 0;
    {
        http_test_server gone(io, [](const test_request&) { return test_reply::json("{}"); });
        port = gone.port();
    }
    run_job("{}", R"({"url":"http://127.0.0.1:)" + std::to_string(port) + R"(/","max_attempts":3,"retry_backoff_ms":1})");
    BOOST_TEST((rec.retryable == true));
    BOOST_TEST(has(rec.message(), "connecting to 127.0.0.1:" + std::to_string(port) + " failed"), rec.message());
    BOOST_TEST(has(rec.message(), "after 3 attempts"), rec.message());
}

BOOST_AUTO_TEST_CASE(a_4xx_fails_not_retryable_with_status_and_body) {
    http_test_server server(io, [](const test_request&) {
        return test_reply::json(R"({"error":{"message":"model 'nope' not found"}})", 404);
    });
    run_job("{}", R"({"url":")" + server.url("/v1/chat/completions") + R"(","max_attempts":3})");
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "refused the request with 404"), rec.message());
    BOOST_TEST(has(rec.message(), "model 'nope' not found"), rec.message());
    BOOST_TEST(rec.error->at("status").as_int64() == 404);
    BOOST_TEST(server.seen().requests.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_reply_that_is_not_json_fails_clearly) {
    http_test_server server(io, [](const test_request&) { return test_reply::json("<html>oops</html>"); });
    run_job("{}", R"({"url":")" + server.url("/") + R"("})");
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "is not valid JSON"), rec.message());
    BOOST_TEST(has(rec.message(), "<html>oops</html>"), rec.message());
}

BOOST_AUTO_TEST_CASE(a_reply_without_the_result_path_fails_naming_it) {
    http_test_server server(io, [](const test_request&) { return test_reply::json(R"({"choices":[]})"); });
    run_job("{}", R"({"url":")" + server.url("/") + R"(","result_path":"choices[0].message.content"})");
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "services.rest.api_config.result_path \"choices[0].message.content\""), rec.message());
}

BOOST_AUTO_TEST_CASE(a_peer_closing_mid_reply_is_a_retryable_failure) {
    http_test_server server(io, [](const test_request&) { return test_reply::broken(); });
    run_job("{}", R"({"url":")" + server.url("/") + R"("})");
    BOOST_TEST((rec.retryable == true));
    BOOST_TEST(has(rec.message(), "broke before the reply was complete"), rec.message());
}

BOOST_AUTO_TEST_CASE(bad_config_fails_not_retryable_naming_the_field) {
    run_job("{}", R"({"url":"https://api.example.com/v1"})");
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "services.rest.api_config.url"), rec.message());
    BOOST_TEST(has(rec.message(), "https is not supported"), rec.message());

    http_rest_connector c2(io);
    recorder r2;
    c2.start(job("{}", R"({"url":"http://127.0.0.1:1/","request_timeout_ms":"soon"})"), r2.callbacks());
    BOOST_REQUIRE(run_until([&] { return r2.endings > 0; }));
    BOOST_TEST((r2.retryable == false));
    BOOST_TEST(has(r2.message(), "services.rest.api_config.request_timeout_ms"), r2.message());

    http_rest_connector c3(io);
    recorder r3;
    c3.start(job("{}", R"({"url":"http://127.0.0.1:1/","poll":{"url":"http://127.0.0.1:1/{{id}}"}})"), r3.callbacks());
    BOOST_REQUIRE(run_until([&] { return r3.endings > 0; }));
    BOOST_TEST(has(r3.message(), "services.rest.api_config.poll.id_path: missing"), r3.message());
}

// ---- submit then poll ---------------------------------------------------------------------

// ComfyUI's shape: POST /prompt -> {"prompt_id"}, GET /history/{id} -> {} while queued, then
// {"<id>": {"status": {...}, "outputs": {...}}}.
std::string comfy_config(const http_test_server& s, const std::string& extra = "") {
    return R"({"url":")" + s.url("/prompt") + R"(","body":{"prompt":"{{payload.workflow}}","client_id":"{{job_id}}"},
        "result_path":"{{id}}.outputs","poll":{"id_path":"prompt_id","url":")" + s.url("/history/{{id}}") +
           R"(","interval_ms":"5","status_path":"{{id}}.status.status_str","progress_path":"{{id}}.status.progress",
        "error_path":"{{id}}.status.messages[0]","done_values":["success"],"failed_values":["error"])" + extra + "}}";
}

BOOST_AUTO_TEST_CASE(submit_then_poll_until_done) {
    int polls = 0;
    http_test_server server(io, [&](const test_request& r) {
        if (r.method == "POST") return test_reply::json(R"({"prompt_id":"p 1","number":3})");
        ++polls;
        if (polls == 1) return test_reply::json("{}");
        if (polls == 2) return test_reply::json(R"({"p 1":{"status":{"status_str":"running","progress":40}}})");
        return test_reply::json(R"({"p 1":{"status":{"status_str":"success"},"outputs":{"9":{"images":["a.png"]}}}})");
    });
    run_job(R"({"workflow":{"3":{"class_type":"KSampler"}}})", comfy_config(server));
    BOOST_REQUIRE_MESSAGE(rec.result, rec.message());
    BOOST_TEST(json::serialize(*rec.result) == R"({"9":{"images":["a.png"]}})");
    BOOST_TEST((rec.progress == std::vector<std::int64_t>{0, 40, 100}));
    const auto& reqs = server.seen().requests;
    BOOST_REQUIRE(reqs.size() == 4u);
    BOOST_TEST(json::parse(reqs[0].body) == json::parse(R"({"prompt":{"3":{"class_type":"KSampler"}},"client_id":"j1"})"));
    BOOST_TEST(reqs[1].method == "GET");
    BOOST_TEST(reqs[1].target == "/history/p%201");  // the id is percent-encoded in the URL
}

BOOST_AUTO_TEST_CASE(submit_then_poll_until_failed) {
    http_test_server server(io, [](const test_request& r) {
        if (r.method == "POST") return test_reply::json(R"({"prompt_id":"p2"})");
        return test_reply::json(R"({"p2":{"status":{"status_str":"error","messages":["node 3: out of memory"]}}})");
    });
    run_job(R"({"workflow":{}})", comfy_config(server));
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "the service reports the job \"error\": node 3: out of memory"), rec.message());
}

BOOST_AUTO_TEST_CASE(an_unexpected_status_fails_when_running_values_are_given) {
    http_test_server server(io, [](const test_request& r) {
        if (r.method == "POST") return test_reply::json(R"({"prompt_id":"p3"})");
        return test_reply::json(R"({"p3":{"status":{"status_str":"exploded"}}})");
    });
    run_job(R"({"workflow":{}})", comfy_config(server, R"(,"running_values":["running","queued"])"));
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "unexpected status \"exploded\""), rec.message());
}

BOOST_AUTO_TEST_CASE(a_submit_reply_without_an_id_fails_naming_the_path) {
    http_test_server server(io, [](const test_request&) { return test_reply::json(R"({"number":1})"); });
    run_job(R"({"workflow":{}})", comfy_config(server));
    BOOST_TEST((rec.retryable == false));
    BOOST_TEST(has(rec.message(), "no id (string or number) at services.rest.api_config.poll.id_path \"prompt_id\""),
               rec.message());
}

BOOST_AUTO_TEST_CASE(polling_forever_ends_at_the_total_timeout) {
    http_test_server server(io, [](const test_request& r) {
        if (r.method == "POST") return test_reply::json(R"({"prompt_id":"p4"})");
        return test_reply::json("{}");
    });
    std::string config = comfy_config(server);
    config.insert(1, R"("total_timeout_ms":"150",)");
    run_job(R"({"workflow":{}})", config);
    BOOST_TEST((rec.retryable == true));
    BOOST_TEST(has(rec.message(), "no result within total_timeout_ms (150 ms)"), rec.message());
}

// ---- cancel -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(cancel_mid_request_closes_the_connection_without_a_callback) {
    http_test_server server(io, [](const test_request&) { return test_reply::held(); });
    c.start(job("{}", R"({"url":")" + server.url("/slow") + R"("})"), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return server.seen().requests.size() == 1; }));
    c.cancel();
    BOOST_REQUIRE_MESSAGE(run_until([&] { return server.seen().peer_closes == 1; }), "the server never saw the close");
    run_for(50ms);
    BOOST_TEST(rec.endings == 0);
    BOOST_TEST(rec.progress.empty());
}

BOOST_AUTO_TEST_CASE(cancel_while_polling_stops_polling_without_a_callback) {
    http_test_server server(io, [](const test_request& r) {
        if (r.method == "POST") return test_reply::json(R"({"prompt_id":"p5"})");
        return test_reply::json("{}");
    });
    c.start(job(R"({"workflow":{}})", comfy_config(server)), rec.callbacks());
    BOOST_REQUIRE(run_until([&] { return server.seen().requests.size() >= 3; }));
    c.cancel();
    run_for(20ms);
    const auto seen = server.seen().requests.size();
    run_for(100ms);
    BOOST_TEST(server.seen().requests.size() == seen);
    BOOST_TEST(rec.endings == 0);
}

BOOST_AUTO_TEST_SUITE_END()
