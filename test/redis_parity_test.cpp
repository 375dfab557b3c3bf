// Store parity: `jobrouter replay --store redis://... --flush` prints the same bytes as
// `--store memory` on every matching case and on random traces, under both strategies, against
// a real redis-server that this test starts (test/support/redis_server.hpp).
#define BOOST_TEST_MODULE redis_parity
#include "test/support/run_command.hpp"
#include "redis/redis_store.hpp"

#include "test/support/random_trace.hpp"
#include "test/support/redis_server.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/wait.h>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace jobrouter;

namespace {

// One redis-server for the whole module.
struct redis_fixture {
    redis_fixture() { server = new test::redis_server(); }
    ~redis_fixture() {
        delete server;
        server = nullptr;
    }
    static test::redis_server* server;
};
test::redis_server* redis_fixture::server = nullptr;

using test::process_result;
process_result run(const std::string& command) { return test::run_command(command); }

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

std::string shell_quote(const std::string& s) { return "'" + s + "'"; }

const fs::path kCases = fs::path(JOBROUTER_FIXTURES_DIR) / "matching-cases";

// matching-cases/README.md: --retry-backoff-ms 0, then NAME.args; the strategy is ours.
std::string case_options(const std::string& name, const std::string& strategy) {
    std::map<std::string, std::string> opts{{"--retry-backoff-ms", "0"}};
    if (fs::exists(kCases / (name + ".args"))) {
        std::istringstream args(read_file(kCases / (name + ".args")));
        std::string key, value;
        while (args >> key >> value) opts[key] = value;
    }
    opts["--strategy"] = strategy;
    std::string out;
    for (const auto& [k, v] : opts) out += " " + k + " " + v;
    return out;
}

std::vector<std::string> case_names() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(kCases)) {
        const std::string f = e.path().filename().string();
        const std::string suffix = ".trace.jsonl";
        if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
            names.push_back(f.substr(0, f.size() - suffix.size()));
    }
    std::sort(names.begin(), names.end());
    return names;
}

struct replay_pair {
    process_result memory, redis;
};

// The same replay on both stores (Redis database 1, flushed first).
replay_pair replay_both(const std::string& options, const fs::path& trace) {
    const std::string bin = JOBROUTER_BINARY;
    replay_pair p;
    p.memory = run(bin + " replay --store memory" + options + " " + shell_quote(trace.string()) + " 2>&1");
    p.redis = run(bin + " replay --store " + redis_fixture::server->url(1) + " --flush" + options + " " +
                  shell_quote(trace.string()) + " 2>&1");
    return p;
}

// First differing line, for a readable failure.
std::string first_difference(const std::string& a, const std::string& b) {
    std::istringstream x(a), y(b);
    std::string la, lb;
    for (int line = 1;; ++line) {
        bool ga = static_cast<bool>(std::getline(x, la)), gb = static_cast<bool>(std::getline(y, lb));
        if (!ga && !gb) return "identical";
        if (!ga || !gb || la != lb)
            return "output line " + std::to_string(line) + ":\n  memory: " + (ga ? la : "<end>") + "\n  redis:  " + (gb ? lb : "<end>");
    }
}

void check_same(const replay_pair& p, const std::string& what) {
    BOOST_TEST_CONTEXT(what) {
        BOOST_TEST(p.memory.exit_code == 0);
        BOOST_TEST(p.redis.exit_code == 0);
        BOOST_TEST(!p.memory.out.empty());
        BOOST_TEST(p.memory.out == p.redis.out, first_difference(p.memory.out, p.redis.out));
    }
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

// A random trace in replay's format: the property test's workers and jobs, and its mix of
// events. Claims come only from registered workers; complete, fail and cancel pick any job ever
// submitted, so many are rejected (and must be rejected alike).
std::string random_trace(std::uint32_t seed, int claims_wanted) {
    test::trace_generator gen(seed);
    std::vector<std::string> worker_ids, job_ids;
    for (int i = 0; i < 8; ++i) worker_ids.push_back("w" + std::to_string(i));
    std::set<std::string> registered;
    std::int64_t now = 1700000000000;
    int next_job = 0, claims = 0;
    std::string out;
    auto emit = [&](json::object event) {
        event["t"] = now;
        out += json::serialize(event) + "\n";
    };
    while (claims < claims_wanted) {
        now += gen.pick(300);
        const int op = gen.pick(100);
        if (op < 30) {
            const std::string id = "j" + std::to_string(next_job++);
            emit({{"op", "submit"}, {"job", gen.random_job(id)}});
            job_ids.push_back(id);
        } else if (op < 60) {
            const std::string& w = worker_ids[gen.pick(8)];
            if (!registered.count(w)) continue;
            emit({{"op", "claim"}, {"worker_id", w}});
            ++claims;
        } else if (op < 72 && !job_ids.empty()) {
            emit({{"op", "complete"}, {"job_id", job_ids[gen.pick(static_cast<int>(job_ids.size()))]}, {"result", {{"ok", true}}}});
        } else if (op < 84 && !job_ids.empty()) {
            emit({{"op", "fail"}, {"job_id", job_ids[gen.pick(static_cast<int>(job_ids.size()))]}, {"retryable", gen.chance(80)}});
        } else if (op < 88 && !job_ids.empty()) {
            emit({{"op", "cancel"}, {"job_id", job_ids[gen.pick(static_cast<int>(job_ids.size()))]}});
        } else if (op < 95) {
            const std::string& w = worker_ids[gen.pick(8)];
            emit({{"op", "register"}, {"worker", gen.random_worker(w)}});
            registered.insert(w);
        } else if (op < 97) {
            const std::string& w = worker_ids[gen.pick(8)];
            emit({{"op", "unregister"}, {"worker_id", w}});
            registered.erase(w);
        } else if (op < 99) {
            emit({{"op", "heartbeat"}, {"worker_id", worker_ids[gen.pick(8)]}});
        } else {
            now += 6000;  // leases run out
            emit({{"op", "advance"}});
        }
    }
    return out;
}

struct temp_dir {
    temp_dir() {
        char t[] = "/tmp/jobrouter-parity-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(t));
        path = t;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path path;
};

void check_random_traces(const std::string& strategy) {
    temp_dir dir;
    const fs::path mapping = dir.path / "property-mapping.json";
    std::ofstream(mapping) << test::kPropertyMapping;
    const std::string options = " --strategy " + strategy + " --mapping " + shell_quote(mapping.string()) +
                                " --lease-ms 5000 --retry-backoff-ms 100 --retry-backoff-max-ms 1000";
    std::size_t claims = 0, answered = 0;
    for (std::uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
        const fs::path trace = dir.path / ("seed-" + std::to_string(seed) + ".jsonl");
        std::ofstream(trace) << random_trace(seed, 1000);
        // One seed also explains every null claim.
        const std::string explain = seed == 1 ? " --explain" : "";
        auto p = replay_both(options + explain, trace);
        check_same(p, strategy + " seed " + std::to_string(seed) + explain);
        claims += count_of(p.redis.out, "\"op\":\"claim\"");
        answered += count_of(p.redis.out, "\"op\":\"claim\"") - count_of(p.redis.out, "\"job_id\":null");
    }
    BOOST_TEST_MESSAGE(strategy << ": " << claims << " claims on both stores, " << answered << " answered with a job");
    BOOST_TEST(claims >= 5000u);
    // Not vacuous: many claims find a job, many find none.
    BOOST_TEST(answered > claims / 5);
    BOOST_TEST(claims - answered > claims / 20);
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(redis_fixture);

BOOST_AUTO_TEST_CASE(every_matching_case_under_both_strategies) {
    auto names = case_names();
    BOOST_TEST(names.size() >= 40u);
    int compared = 0;
    for (const auto& name : names)
        for (const std::string strategy : {"job-type", "service-name"})
            for (const std::string explain : {"", " --explain"}) {
                check_same(replay_both(case_options(name, strategy) + explain, kCases / (name + ".trace.jsonl")),
                           name + " " + strategy + explain);
                ++compared;
            }
    BOOST_TEST_MESSAGE(compared << " case runs compared byte for byte");
}

// Edge cases of the Lua side: byte-wise id order (non-ASCII, prefixes) where Lua's `<` would
// use the locale, empty arrays and objects inside strings and arrays (D8, D9), numbers spelled
// differently, null, ids that need escaping.
BOOST_AUTO_TEST_CASE(edge_cases_of_json_and_ids) {
    const std::string trace = R"({"op":"register","worker":{"worker_id":"w \"1\"","job_service_required_map":["s"],"tags":[[],{}],"empty":[],"obj":{},"n":16.0,"nul":null,"text":"a[]b\"[ ]","deep":{"a":{"b":[[1,[]],{"c":{}}]}},"hardware":{"gpu_memory_gb":1.6e1}}}
{"op":"submit","t":1700000000000,"job":{"id":"z","service_required":"s"}}
{"op":"submit","t":1700000000000,"job":{"id":"zz","service_required":"s"}}
{"op":"submit","t":1700000000000,"job":{"id":"\u00e9","service_required":"s"}}
{"op":"submit","t":1700000000000,"job":{"id":"a","service_required":"s","requirements":{"tags":[{}]}}}
{"op":"submit","t":1700000000000,"job":{"id":"ab","service_required":"s","requirements":{"empty":{}}}}
{"op":"submit","t":1700000000000,"job":{"id":"b","service_required":"s","requirements":{"obj":[]}}}
{"op":"submit","t":1700000000000,"job":{"id":"c","service_required":"s","requirements":{"tags":[[]],"n":16,"nul":null,"text":"a[]b\"[ ]","deep.a":{"b":[[1,[]],{"c":{}}]},"hardware":{"gpu_memory_gb":16}}}}
{"op":"submit","t":1700000000000,"job":{"id":"d","service_required":"s","requirements":{"deep":{"a":{"b":[[1,{}],{"c":{}}]}}}}}
{"op":"submit","t":1700000000000,"job":{"id":"e \" [] {}","service_required":"s","requirements":{"empty":[],"obj":{}}}}
{"op":"claim","worker_id":"w \"1\""}
{"op":"claim","worker_id":"w \"1\""}
{"op":"claim","worker_id":"w \"1\""}
{"op":"claim","worker_id":"w \"1\""}
{"op":"claim","worker_id":"w \"1\""}
{"op":"claim","worker_id":"w \"1\""}
{"op":"claim","worker_id":"w \"1\""}
)";
    temp_dir dir;
    const fs::path file = dir.path / "edge.jsonl";
    std::ofstream(file) << trace;
    for (const std::string explain : {"", " --explain"}) {
        auto p = replay_both(" --strategy job-type" + explain, file);
        check_same(p, "edge cases" + explain);
        // The memory store's answers, for the record: é (0xC3 0xA9) ranks above zz, zz above z.
        BOOST_TEST(p.memory.out.find(R"("job_id":"é")") < p.memory.out.find(R"("job_id":"zz")"));
        BOOST_TEST(p.memory.out.find(R"("job_id":"zz")") < p.memory.out.find(R"("job_id":"z")"));
        BOOST_TEST(count_of(p.memory.out, R"("job_id":null)") == 1u, p.memory.out);
    }
}

// A claim reads a service's classes 16 at a time, and once it has a match only the classes
// whose head scores at least as high (library version 3). Here two services have 40 and 24
// requirement classes whose heads mostly tie (same time, two priorities), the worker fails
// some of them, and submissions between claims move heads up and down: every claim must pick
// the job the memory store picks.
BOOST_AUTO_TEST_CASE(many_tied_classes_over_two_keys) {
    std::string trace =
        R"({"op":"register","t":1700000000000,"worker":{"worker_id":"w","job_service_required_map":["s1","s2"],"hardware":{"gpu_memory_gb":30}}})"
        "\n";
    int next = 0;
    auto submit = [&](const std::string& service, int gpu, int priority) {
        char id[16];
        std::snprintf(id, sizeof id, "j%04d", (next * 7919) % 10000);  // ids not in submission order
        ++next;
        trace += R"({"op":"submit","job":{"id":")" + std::string(id) + R"(","service_required":")" + service +
                 R"(","priority":)" + std::to_string(priority) + R"(,"requirements":{"hardware":{"gpu_memory_gb":)" +
                 std::to_string(gpu) + "}}}}\n";
    };
    for (int round = 0; round < 3; ++round)
        for (int c = 1; c <= 40; ++c) {
            submit("s1", c, c % 7 == 0 ? 60 : 50);
            if (c <= 24) submit("s2", c + 10, c % 5 == 0 ? 60 : 50);
        }
    for (int i = 0; i < 150; ++i) {
        trace += R"({"op":"claim","worker_id":"w"})" "\n";
        if (i % 10 == 0) submit(i % 20 == 0 ? "s1" : "s2", 1 + i % 30, i % 30 == 0 ? 70 : 50);
    }
    temp_dir dir;
    const fs::path file = dir.path / "tied.jsonl";
    std::ofstream(file) << trace;
    for (const std::string strategy : {"job-type", "service-name"}) {
        auto p = replay_both(" --strategy " + strategy, file);
        check_same(p, "many tied classes, " + strategy);
    }
    auto p = replay_both(" --strategy job-type", file);
    // Not vacuous: most claims find a job (the worker passes 30 of s1's 40 classes, 20 of s2's 24).
    BOOST_TEST(count_of(p.memory.out, R"("op":"claim")") == 150u);
    BOOST_TEST(count_of(p.memory.out, R"("job_id":null)") < 10u, p.memory.out);
}

BOOST_AUTO_TEST_CASE(random_traces_job_type) { check_random_traces("job-type"); }

BOOST_AUTO_TEST_CASE(random_traces_service_name) { check_random_traces("service-name"); }
