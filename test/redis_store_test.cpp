// The Redis store's own behaviour against a real redis-server (test/support/redis_server.hpp):
// URL parsing, loading and version-checking the function library, EMP's findMatchingJob
// convention, the keys a claim writes, and replay's refusal of a non-empty database.
#define BOOST_TEST_MODULE redis_store
#include "test/support/run_command.hpp"
#include "redis/redis_store.hpp"

#include "app/mapping_source.hpp"
#include "redis/function_library.hpp"
#include "redis/redis_url.hpp"
#include "strategies/strategy_registry.hpp"
#include "test/support/redis_server.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <sys/wait.h>

namespace json = boost::json;
using namespace jobrouter;
using namespace jobrouter::redis;

namespace {

struct redis_fixture {
    redis_fixture() { server = new test::redis_server(); }
    ~redis_fixture() {
        delete server;
        server = nullptr;
    }
    static test::redis_server* server;
};
test::redis_server* redis_fixture::server = nullptr;

// A fresh store on database `db` (flushed), with the library loaded.
struct store_on_db {
    explicit store_on_db(int db, std::string_view strategy_name = "job-type")
        : mapping(load_mapping_source("").value()), strat(make_strategy(strategy_name).value()) {
        connection c = redis_fixture::server->connect(db);
        flush_database(c);
        load_function_library(c).value();
        store.emplace(std::move(c), mapping, *strat, scheduler_options{60000, 1000, 60000});
    }
    service_mapping mapping;
    std::unique_ptr<strategy> strat;
    std::optional<redis_store> store;
};

job_spec job_of(const std::string& text) { return parse_job_spec(json::parse(text)).value(); }

worker_capabilities worker_of(const service_mapping& m, const std::string& text) { return parse_worker(json::parse(text), m).value(); }

using test::process_result;
process_result run(const std::string& command) { return test::run_command(command); }

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(redis_fixture);

BOOST_AUTO_TEST_CASE(urls_parse_with_defaults_and_clear_errors) {
    auto u = parse_redis_url("redis://127.0.0.1:6380/3").value();
    BOOST_TEST(u.host == "127.0.0.1");
    BOOST_TEST(u.port == 6380);
    BOOST_TEST(u.db == 3);
    auto d = parse_redis_url("redis://cache").value();
    BOOST_TEST(d.port == 6379);
    BOOST_TEST(d.db == 0);
    auto v6 = parse_redis_url("redis://:secret@[::1]:7000/2").value();
    BOOST_TEST(v6.host == "::1");
    BOOST_TEST(v6.password == "secret");
    BOOST_TEST(v6.display() == "[::1]:7000/2");

    auto bad_port = parse_redis_url("redis://h:99999/0");
    BOOST_REQUIRE(!bad_port);
    BOOST_TEST(bad_port.error().path == "--store");
    BOOST_TEST(bad_port.error().message.find("port") != std::string::npos);
    auto bad_db = parse_redis_url("redis://h:6379/zero");
    BOOST_REQUIRE(!bad_db);
    BOOST_TEST(bad_db.error().message.find("database number") != std::string::npos);
    BOOST_TEST(!parse_redis_url("http://h:6379/0"));
    BOOST_TEST(!parse_redis_url("redis://:6379/0"));
}

BOOST_AUTO_TEST_CASE(connecting_to_nothing_names_the_server) {
    auto u = parse_redis_url("redis://127.0.0.1:1/0").value();
    auto c = connection::open(u, std::chrono::seconds(2));
    BOOST_REQUIRE(!c);
    BOOST_TEST(c.error().text().find("127.0.0.1:1/0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(errors_name_the_command_and_the_redis_error) {
    connection c = redis_fixture::server->connect(0);
    c.command({"SET", "a-string", "x"});
    try {
        c.command({"HGET", "a-string", "f"});
        BOOST_FAIL("HGET on a string must fail");
    } catch (const redis_error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find("HGET") != std::string::npos, what);
        BOOST_TEST(what.find("WRONGTYPE") != std::string::npos, what);
    }
    c.command({"DEL", "a-string"});
}

// pipeline: every command is sent before a reply is read; replies come back in order; an error
// reply names its command, and the replies after it are still read, so the connection goes on.
BOOST_AUTO_TEST_CASE(pipeline_keeps_order_and_survives_an_error_reply) {
    connection c = redis_fixture::server->connect(0);
    const std::vector<std::vector<std::string>> ok{
        {"SET", "p-a", "1"}, {"INCR", "p-a"}, {"GET", "p-a"}, {"RPUSH", "p-l", "x", "y"}, {"LRANGE", "p-l", "0", "-1"}};
    const std::vector<reply> r = c.pipeline(ok);
    BOOST_REQUIRE(r.size() == 5u);
    BOOST_TEST(r[1].integer == 2);
    BOOST_TEST(r[2].str == "2");
    BOOST_TEST(r[3].integer == 2);
    BOOST_REQUIRE(r[4].elements.size() == 2u);
    BOOST_TEST(r[4].elements[1].str == "y");

    const std::vector<std::vector<std::string>> bad{{"INCR", "p-a"}, {"HGET", "p-l", "f"}, {"INCR", "p-a"}};
    try {
        c.pipeline(bad);
        BOOST_FAIL("HGET on a list must fail");
    } catch (const redis_error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find("HGET") != std::string::npos, what);
        BOOST_TEST(what.find("WRONGTYPE") != std::string::npos, what);
    }
    // Both INCRs ran, and the next command gets its own reply, not a leftover one.
    BOOST_TEST(c.command({"GET", "p-a"}).str == "4");
    c.command({"DEL", "p-a", "p-l"});
}

BOOST_AUTO_TEST_CASE(library_loads_and_refuses_to_downgrade_a_newer_one) {
    connection c = redis_fixture::server->connect(0);
    BOOST_TEST(function_library_version() >= 1);
    BOOST_REQUIRE(load_function_library(c));
    BOOST_TEST(c.command({"FCALL_RO", "jobrouter_version", "0"}).integer == function_library_version());
    BOOST_REQUIRE(load_function_library(c));  // loading again is fine

    std::string newer(kFunctionLibrary);
    const std::string marker = "local LIBRARY_VERSION = ";
    auto at = newer.find(marker);
    newer.replace(at + marker.size(), newer.find('\n', at) - at - marker.size(), "999");
    c.command({"FUNCTION", "LOAD", "REPLACE", newer});
    auto refused = load_function_library(c);
    BOOST_REQUIRE(!refused);
    BOOST_TEST(refused.error().text().find("999") != std::string::npos, refused.error().text());
    BOOST_TEST(refused.error().text().find("newer") != std::string::npos, refused.error().text());
    c.command({"FUNCTION", "LOAD", "REPLACE", std::string(kFunctionLibrary)});
    BOOST_REQUIRE(load_function_library(c));
}

BOOST_AUTO_TEST_CASE(claim_writes_emp_keys_and_a_lease) {
    store_on_db s(2);
    connection& c = s.store->conn();
    s.store->advance(1700000000000);
    BOOST_REQUIRE(s.store->register_worker(worker_of(s.mapping, R"({"worker_id":"w1","job_service_required_map":["sim"]})")));
    BOOST_REQUIRE(s.store->submit(job_of(R"({"id":"a","service_required":"sim","priority":70,"payload":{"x":1}})")));
    BOOST_TEST(c.command({"ZCARD", "jobs:pending"}).integer == 1);
    BOOST_TEST(c.command({"HGET", "job:a", "status"}).text() == "pending");
    BOOST_TEST(c.command({"HGET", "job:a", "payload"}).text() == R"({"x":1})");

    auto claimed = s.store->claim("w1");
    BOOST_REQUIRE(claimed);
    BOOST_REQUIRE(claimed->has_value());
    BOOST_TEST(**claimed == "a");
    BOOST_TEST(c.command({"ZCARD", "jobs:pending"}).integer == 0);
    BOOST_TEST(c.command({"HGET", "job:a", "status"}).text() == "assigned");
    BOOST_TEST(c.command({"HGET", "job:a", "worker_id"}).text() == "w1");
    BOOST_TEST(c.command({"HGET", "job:a", "lease_deadline"}).text() == "1700000060000");
    BOOST_TEST(c.command({"HEXISTS", "jobs:active:w1", "a"}).integer == 1);
    BOOST_TEST(c.command({"HGET", "worker:w1", "status"}).text() == "busy");
    BOOST_TEST(c.command({"ZSCORE", "jobrouter:timers", "a"}).text() == "1700000060001");

    // The lease runs out: the job is retried (back-off 1000 ms), then pending again.
    s.store->advance(1700000060001);
    BOOST_TEST(c.command({"HGET", "job:a", "status"}).text() == "retrying");
    BOOST_TEST(c.command({"HGET", "worker:w1", "status"}).text() == "idle");
    s.store->advance(1700000061000);
    BOOST_TEST(c.command({"HGET", "job:a", "status"}).text() == "pending");

    // State-dependent errors read as the memory scheduler's.
    auto wrong = s.store->complete("a", nullptr);
    BOOST_REQUIRE(!wrong);
    BOOST_TEST(wrong.error().text() == R"(job_id: job "a" is pending, not assigned)");
    auto unknown = s.store->claim("nobody");
    BOOST_REQUIRE(!unknown);
    BOOST_TEST(unknown.error().text() == R"(worker_id: unknown worker "nobody")");
    auto dup = s.store->submit(job_of(R"({"id":"a","service_required":"sim"})"));
    BOOST_REQUIRE(!dup);
    BOOST_TEST(dup.error().text().find("duplicate job id") != std::string::npos);
}

// serve keeps a copy of the workers' capabilities per process (submit warnings) and reads them
// again when jobrouter:workers_gen moved: it must move on every change of what the registered
// workers can take, and only then.
BOOST_AUTO_TEST_CASE(workers_generation_moves_when_the_workers_change) {
    store_on_db s(4);
    connection& c = s.store->conn();
    s.store->advance(1700000000000);
    auto gen = [&c] { return c.command({"GET", "jobrouter:workers_gen"}).text(); };
    const std::string before = gen();
    BOOST_REQUIRE(s.store->register_worker(worker_of(s.mapping, R"({"worker_id":"w1","job_service_required_map":["sim"]})")));
    const std::string joined = gen();
    BOOST_TEST(joined != before);
    // The same capabilities again: nothing changed.
    BOOST_REQUIRE(s.store->register_worker(worker_of(s.mapping, R"({"worker_id":"w1","job_service_required_map":["sim"]})")));
    BOOST_TEST(gen() == joined);
    BOOST_REQUIRE(s.store->register_worker(worker_of(s.mapping, R"({"worker_id":"w1","job_service_required_map":["sim","render"]})")));
    const std::string changed = gen();
    BOOST_TEST(changed != joined);
    BOOST_REQUIRE(s.store->unregister_worker("w1"));
    BOOST_TEST(gen() != changed);
}

BOOST_AUTO_TEST_CASE(find_matching_job_follows_emps_convention) {
    store_on_db s(3);
    connection& c = s.store->conn();
    s.store->advance(1700000000000);
    // 150 jobs nobody here can take rank first (D1: EMP would scan only the first 100).
    for (int i = 0; i < 150; ++i)
        BOOST_REQUIRE(s.store->submit(job_of(R"({"id":"big)" + std::to_string(i) +
                                          R"(","service_required":"comfyui","priority":90,"requirements":{"hardware":{"gpu_memory_gb":80}}})")));
    BOOST_REQUIRE(s.store->submit(job_of(
        R"({"id":"fit","service_required":"comfyui","customer_id":"acme","requirements":{"hardware":{"gpu_memory_gb":16},"models":["sdxl"]}})")));
    BOOST_REQUIRE(s.store->submit(job_of(R"({"id":"other","service_required":"a1111","priority":99})")));

    // What an EMP worker sends (redis-direct-base-worker's buildCapabilities).
    const std::string caps = R"({"worker_id":"emp-worker-1","machine_id":"m1","services":["comfyui"],)"
                             R"("job_service_required_map":["comfyui"],"hardware":{"gpu_memory_gb":24,"ram_gb":64,"cpu_cores":16},)"
                             R"("models":{"comfyui":["sdxl","flux"]},"customer_access":{"isolation":"loose","denied_customers":[]},)"
                             R"("performance":{"concurrent_jobs":1},"metadata":{"version":"1.0"}})";
    reply r = c.command({"FCALL", "findMatchingJob", "0", caps, "100"});
    BOOST_REQUIRE(!r.is_nil());
    json::object answer = json::parse(r.text()).as_object();
    BOOST_TEST(answer.at("jobId").as_string() == "fit");
    const json::object& j = answer.at("job").as_object();
    BOOST_TEST(j.at("id").as_string() == "fit");
    BOOST_TEST(j.at("status").as_string() == "assigned");
    BOOST_TEST(j.at("worker_id").as_string() == "emp-worker-1");
    BOOST_TEST(j.at("service_required").as_string() == "comfyui");
    BOOST_TEST(j.at("customer_id").as_string() == "acme");
    BOOST_TEST(j.at("priority").as_string() == "50");  // hash strings, as EMP replies
    BOOST_TEST(json::parse(j.at("requirements").as_string()).at("models").as_array().size() == 1u);
    BOOST_TEST(c.command({"HEXISTS", "jobs:active:emp-worker-1", "fit"}).integer == 1);
    BOOST_TEST(c.command({"HGET", "worker:emp-worker-1", "current_job_id"}).text() == "fit");
    BOOST_TEST(!c.command({"ZSCORE", "jobrouter:timers", "fit"}).is_nil());  // the normal lease
    BOOST_TEST(c.command({"ZSCORE", "jobs:pending", "fit"}).is_nil());

    // Nothing else fits: nil, as EMP.
    BOOST_TEST(c.command({"FCALL", "findMatchingJob", "0", caps, "100"}).is_nil());

    // A worker that sends only worker_type offers its type's job types (from the mapping).
    reply by_type = c.command({"FCALL", "findMatchingJob", "0", R"({"worker_id":"typed","worker_type":"simulation"})", "100"});
    BOOST_TEST(by_type.is_nil());
    BOOST_REQUIRE(s.store->submit(job_of(R"({"id":"sim1","service_required":"simulation"})")));
    by_type = c.command({"FCALL", "findMatchingJob", "0", R"({"worker_id":"typed","worker_type":"simulation"})", "100"});
    BOOST_REQUIRE(!by_type.is_nil());
    BOOST_TEST(json::parse(by_type.text()).at("jobId").as_string() == "sim1");

    // Bad capabilities: an error reply that says what is wrong.
    try {
        c.command({"FCALL", "findMatchingJob", "0", "not json", "100"});
        BOOST_FAIL("bad JSON must be refused");
    } catch (const redis_error& e) {
        BOOST_TEST(std::string(e.what()).find("capabilities") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(replay_refuses_a_non_empty_database_without_flush) {
    connection c = redis_fixture::server->connect(5);
    flush_database(c);
    c.command({"SET", "someone-elses-key", "1"});
    const std::string bin = JOBROUTER_BINARY;
    const std::string url = redis_fixture::server->url(5);
    const std::string trace =
        R"(printf '%s\n' '{"op":"register","worker":{"worker_id":"w","job_service_required_map":["s"]}}' '{"op":"submit","job":{"id":"a","service_required":"s"}}' '{"op":"claim","worker_id":"w"}')";

    auto refused = run(trace + " | " + bin + " replay --store " + url + " 2>&1");
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(refused.out.find("database 5") != std::string::npos, refused.out);
    BOOST_TEST(refused.out.find("--flush") != std::string::npos, refused.out);
    BOOST_TEST(refused.out.find("\"op\"") == std::string::npos, refused.out);  // nothing replayed
    BOOST_TEST(c.command({"EXISTS", "someone-elses-key"}).integer == 1);

    auto flushed = run(trace + " | " + bin + " replay --store " + url + " --flush");
    BOOST_TEST(flushed.exit_code == 0);
    BOOST_TEST(flushed.out == "{\"op\":\"claim\",\"worker_id\":\"w\",\"job_id\":\"a\"}\n");
    BOOST_TEST(c.command({"EXISTS", "someone-elses-key"}).integer == 0);

    auto bad_url = run(bin + " replay --store redis://h:notaport/0 < /dev/null 2>&1");
    BOOST_TEST(bad_url.exit_code == 2);
    BOOST_TEST(bad_url.out.find("port") != std::string::npos, bad_url.out);
    auto flush_alone = run(bin + " replay --flush < /dev/null 2>&1");
    BOOST_TEST(flush_alone.exit_code == 2);
}
