// serve_heartbeat_ack: an external worker's heartbeat may list the jobs it works on
// (`{"jobs":[...]}`); a job it holds but does not list, handed to it before its previous
// heartbeat, is handed back (pending, the attempt not counted, the lease token stale). This is
// how a job handed to a claim whose client hung up (serve_claim_hangup_test: serve can read the
// request before it sees the hang-up) stops being held by a worker that never saw it. Every
// case runs on both stores: the memory store and the Redis store (a private redis-server for
// the module, flushed before each case).
//
// The rule compares the job's assigned_at with the previous heartbeat's time, both in ms: the
// cases sleep a few ms between a claim and the heartbeat that must come after it, so that the
// two never share a millisecond. Nothing asserts a timing.
#define BOOST_TEST_MODULE serve_heartbeat_ack
#include <boost/test/unit_test.hpp>

#include "test/support/redis_server.hpp"
#include "test/support/server_fixture.hpp"
#include "test/support/ws_client.hpp"

#include <memory>

namespace {

constexpr auto kApart = 5ms;  // more than a millisecond: the next step gets a later ms stamp

// One redis-server for the module, started by the first Redis case.
std::string redis_url() {
    static std::unique_ptr<jobrouter::test::redis_server> server = std::make_unique<jobrouter::test::redis_server>();
    return server->url(0);
}

struct ack_fixture : server_fixture {
    void start_on(const std::string& store) { start(config{.lease_ms = 30000, .store_url = store}); }

    // A heartbeat whose body is `body`; must be 200. Returns the reply.
    json::object heartbeat(const std::string& worker, const std::string& body) {
        auto r = post("/api/workers/" + worker + "/heartbeat", body);
        BOOST_REQUIRE_MESSAGE(r.status == 200, "heartbeat " << body << " -> " << r.status << " " << r.body);
        auto v = parse_body(r.body);
        BOOST_REQUIRE(v.is_object());
        return v.get_object();
    }
    static std::vector<std::string> ids(const json::object& reply, const char* field) {
        std::vector<std::string> out;
        BOOST_REQUIRE_MESSAGE(reply.contains(field) && reply.at(field).is_array(),
                              "no array " << field << " in " << json::serialize(reply));
        for (const auto& x : reply.at(field).get_array()) out.push_back(str(x));
        return out;
    }
};

using strings = std::vector<std::string>;

// ---- the cases, each run on both stores ------------------------------------------------------

void unacknowledged_job_goes_back_after_two_heartbeats_and_to_another_worker(ack_fixture& f, const std::string& store) {
    f.start_on(store);
    f.register_worker("w1");
    f.register_worker("w2");
    auto ws = std::make_unique<ws_client>(f.port, "/ws/events?job_id=lost");
    BOOST_REQUIRE_MESSAGE(ws->open(), ws->error());
    const std::string id = f.submit(R"({"id":"lost","service_required":"ext"})");
    ws->until([](const json::object& e) { return str(e.at("event")) == "submitted"; }, "submitted of lost");
    // w1's claim gets the job, but w1 never learns of it (its client hung up, say).
    const auto c = f.claim_now("w1");
    BOOST_REQUIRE(str(c.job.at("id")) == id);
    std::this_thread::sleep_for(kApart);

    // First listing heartbeat: nothing to compare with yet, so the job stays.
    auto r = f.heartbeat("w1", R"({"jobs":[]})");
    BOOST_TEST(ack_fixture::ids(r, "handed_back_jobs").empty());
    BOOST_TEST(ack_fixture::ids(r, "unknown_jobs").empty());
    BOOST_TEST(ack_fixture::ids(r, "cancelled_jobs").empty());
    BOOST_TEST(f.status_of(id) == "assigned");

    // Second: the job was handed out before the first, and is still not listed: handed back.
    r = f.heartbeat("w1", R"({"jobs":[]})");
    BOOST_TEST(ack_fixture::ids(r, "handed_back_jobs") == strings{id}, boost::test_tools::per_element());
    auto j = f.job(id);
    BOOST_TEST(str(j.at("status")) == "pending");
    BOOST_TEST(j.at("attempts") == json::value(0));  // not counted
    const auto requeued = ws->until([](const json::object& e) { return str(e.at("event")) == "requeued"; }, "requeued of lost");
    BOOST_TEST(str(requeued.at("worker_id")) == "w1");
    BOOST_TEST(str(requeued.at("message")).find("heartbeat") != std::string::npos, json::serialize(requeued));

    // The old lease is stale: every report of it gets 409 and changes nothing.
    for (const char* action : {"progress", "complete", "fail"}) {
        auto late = f.report(id, action, c.token, std::string(action) == "progress" ? R"("progress":10)" : "");
        BOOST_TEST(late.status == 409u, action << " with the handed-back lease -> " << late.status << " " << late.body);
    }
    BOOST_TEST(f.status_of(id) == "pending");

    // Another worker gets it, on its first counted attempt, and completes it.
    const auto c2 = f.claim_now("w2");
    BOOST_TEST(str(c2.job.at("id")) == id);
    BOOST_TEST(c2.job.at("attempts") == json::value(1));
    BOOST_TEST(f.report(id, "complete", c2.token, R"("result":"w2")").status == 200u);
    BOOST_TEST(f.report(id, "complete", c.token, R"("result":"w1")").status == 409u);
}

void job_assigned_after_the_previous_heartbeat_stays(ack_fixture& f, const std::string& store) {
    f.start_on(store);
    f.register_worker("w1");
    (void)f.heartbeat("w1", R"({"jobs":[]})");
    std::this_thread::sleep_for(kApart);
    // Assigned after that heartbeat: its reply may still be on its way when the next one is sent.
    const std::string id = f.submit(R"({"id":"in-flight","service_required":"ext"})");
    const auto c = f.claim_now("w1");
    BOOST_REQUIRE(str(c.job.at("id")) == id);
    std::this_thread::sleep_for(kApart);
    auto r = f.heartbeat("w1", R"({"jobs":[]})");
    BOOST_TEST(ack_fixture::ids(r, "handed_back_jobs").empty());
    BOOST_TEST(f.status_of(id) == "assigned");
    BOOST_TEST(f.report(id, "progress", c.token, R"("progress":20)").status == 200u);
    // Unlisted through a whole further heartbeat interval, it goes back at the one after.
    r = f.heartbeat("w1", R"({"jobs":[]})");
    BOOST_TEST(ack_fixture::ids(r, "handed_back_jobs") == strings{id}, boost::test_tools::per_element());
    BOOST_TEST(f.status_of(id) == "pending");
}

void listed_job_keeps_its_lease(ack_fixture& f, const std::string& store) {
    f.start_on(store);
    f.register_worker("w1");
    const std::string id = f.submit(R"({"id":"kept","service_required":"ext","priority":90})");
    const std::string other = f.submit(R"({"id":"other","service_required":"ext","priority":10})");
    const auto c1 = f.claim_now("w1");
    const auto c2 = f.claim_now("w1");
    BOOST_REQUIRE(str(c1.job.at("id")) == id);
    BOOST_REQUIRE(str(c2.job.at("id")) == other);
    std::this_thread::sleep_for(kApart);
    for (int i = 0; i < 4; ++i) {
        auto r = f.heartbeat("w1", R"({"jobs":["kept","other"]})");
        BOOST_TEST(ack_fixture::ids(r, "handed_back_jobs").empty());
        BOOST_TEST(ack_fixture::ids(r, "unknown_jobs").empty());
    }
    BOOST_TEST(f.status_of(id) == "assigned");
    BOOST_TEST(f.status_of(other) == "assigned");
    BOOST_TEST(f.report(id, "complete", c1.token, R"("result":1)").status == 200u);
    BOOST_TEST(f.report(other, "complete", c2.token, R"("result":2)").status == 200u);
}

void listed_jobs_not_held_are_reported(ack_fixture& f, const std::string& store) {
    f.start_on(store);
    f.register_worker("w1");
    f.register_worker("w2");
    const std::string mine = f.submit(R"({"id":"mine","service_required":"ext","priority":90})");
    const std::string theirs = f.submit(R"({"id":"theirs","service_required":"ext","priority":10})");
    const auto c1 = f.claim_now("w1");
    BOOST_REQUIRE(str(c1.job.at("id")) == mine);
    const auto c2 = f.claim_now("w2");
    BOOST_REQUIRE(str(c2.job.at("id")) == theirs);
    auto r = f.heartbeat("w1", R"({"jobs":["mine","theirs","ghost","ghost"]})");
    BOOST_TEST(ack_fixture::ids(r, "unknown_jobs") == (strings{"ghost", "theirs"}), boost::test_tools::per_element());
    BOOST_TEST(ack_fixture::ids(r, "handed_back_jobs").empty());
    // A job w1 finished is not its own any more either.
    BOOST_TEST(f.report(mine, "complete", c1.token, R"("result":1)").status == 200u);
    r = f.heartbeat("w1", R"({"jobs":["mine"]})");
    BOOST_TEST(ack_fixture::ids(r, "unknown_jobs") == strings{"mine"}, boost::test_tools::per_element());
    // Reporting them changes nothing: w2 still holds its job.
    BOOST_TEST(f.status_of(theirs) == "assigned");
    BOOST_TEST(f.report(theirs, "complete", c2.token, R"("result":2)").status == 200u);
}

void malformed_jobs_is_400_and_changes_nothing(ack_fixture& f, const std::string& store) {
    f.start_on(store);
    f.register_worker("w1");
    const std::string id = f.submit(R"({"id":"held","service_required":"ext"})");
    const auto c = f.claim_now("w1");
    BOOST_REQUIRE(str(c.job.at("id")) == id);
    std::this_thread::sleep_for(kApart);
    (void)f.heartbeat("w1", R"({"jobs":["held"]})");  // from now on an unlisting heartbeat would hand it back
    std::string many = R"({"jobs":[)";
    for (int i = 0; i <= 1000; ++i) many += (i ? ",\"j" : "\"j") + std::to_string(i) + "\"";
    many += "]}";
    struct bad {
        std::string body, code, text;
    };
    const std::vector<bad> cases{
        {R"({"jobs":"held"})", "invalid_request", "body.jobs: must be an array"},
        {R"({"jobs":null})", "invalid_request", "body.jobs: must be an array"},
        {R"({"jobs":{}})", "invalid_request", "body.jobs: must be an array"},
        {R"({"jobs":["ok",7]})", "invalid_request", "body.jobs[1]: must be a string (a job id), got number 7"},
        {R"({"jobs":[["held"]]})", "invalid_request", "body.jobs[0]: must be a string"},
        {R"({"jobs":["a\nb"]})", "invalid_request", "body.jobs[0]: holds the control character U+000A at byte 1"},
        {R"({"jobs":["x\u0085"]})", "invalid_request", "body.jobs[0]: holds the control character U+0085"},
        {R"({"jobs":[")" + std::string(257, 'x') + "\"]}", "limit_exceeded", "body.jobs[0]: a value of 257 bytes"},
        {many, "limit_exceeded", "body.jobs: 1001 job ids, over the limit of 1000"},
        {R"(["held"])", "invalid_request", "body: must be a JSON object"},
        {R"({"jobs":[)", "invalid_json", "body: invalid JSON"},
    };
    for (const auto& b : cases) {
        auto r = f.post("/api/workers/w1/heartbeat", b.body);
        BOOST_TEST(r.status == 400u, b.body.substr(0, 60) << " -> " << r.status << " " << r.body);
        BOOST_TEST(r.body.find("\"code\":\"" + b.code + "\"") != std::string::npos, r.body);
        BOOST_TEST(r.body.find(b.text) != std::string::npos, "want " << b.text << " in " << r.body);
    }
    // None of them handed the job back or touched its lease.
    BOOST_TEST(f.status_of(id) == "assigned");
    BOOST_TEST(f.report(id, "progress", c.token, R"("progress":50)").status == 200u);
    // A heartbeat without `jobs` (or with no body) is answered as before: no new fields.
    for (const std::string body : {"{}", "", R"({"other":1})"}) {
        auto r = f.heartbeat("w1", body);
        BOOST_TEST(r.size() == 2u, json::serialize(r));
        BOOST_TEST(r.contains("cancelled_jobs"));
    }
    BOOST_TEST(f.status_of(id) == "in_progress");
    BOOST_TEST(f.report(id, "complete", c.token, R"("result":"held")").status == 200u);
}

}  // namespace

#define BOTH_STORES(name)                                                   \
    BOOST_FIXTURE_TEST_CASE(name##_memory, ack_fixture) { name(*this, ""); } \
    BOOST_FIXTURE_TEST_CASE(name##_redis, ack_fixture) { name(*this, redis_url()); }

BOOST_AUTO_TEST_SUITE(serve_heartbeat_ack)
BOTH_STORES(unacknowledged_job_goes_back_after_two_heartbeats_and_to_another_worker)
BOTH_STORES(job_assigned_after_the_previous_heartbeat_stays)
BOTH_STORES(listed_job_keeps_its_lease)
BOTH_STORES(listed_jobs_not_held_are_reported)
BOTH_STORES(malformed_jobs_is_400_and_changes_nothing)
BOOST_AUTO_TEST_SUITE_END()
