// serve_claim_hangup: a long-poll claim whose client has hung up gets no job. Found by the soak
// (scripts/soak.sh): a worker whose claim connection dropped (a client-side timeout, a proxy
// cutting idle connections) keeps heartbeating under the same id; a job handed out on the dead
// connection was held by it, its lease renewed by every heartbeat, and never ran: stuck in
// `assigned` for as long as the worker lived. Now the server withdraws a parked claim as soon
// as its connection closes, and does not hand a job to a claim whose client is already gone
// (it answers 204 into the closed connection). The in-process server of server_fixture, raw
// sockets for the hang-ups; every wait is bounded.
#define BOOST_TEST_MODULE serve_claim_hangup
#include <boost/test/unit_test.hpp>

#include "test/support/server_fixture.hpp"
#include "test/support/raw_socket.hpp"

using test_support::raw_socket;

namespace {

std::string claim_request(const std::string& worker_id, int wait_ms) {
    return "POST /api/workers/" + worker_id + "/claim?wait_ms=" + std::to_string(wait_ms) +
           " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
}

// Waits (bounded) until GET /api/workers no longer shows the worker parked in a claim.
void wait_not_waiting(server_fixture& f, const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
        auto w = f.worker(id);
        BOOST_REQUIRE_MESSAGE(w, "worker " << id << " is gone");
        last = json::serialize(*w);
        if (str(w->at("status")) != "waiting") return;
        std::this_thread::sleep_for(kPoll);
    }
    BOOST_FAIL("worker " << id << " still waits in a claim whose client hung up; last seen " << last);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(serve_claim_hangup, server_fixture)

BOOST_AUTO_TEST_CASE(a_waiting_claim_is_withdrawn_when_its_client_hangs_up) {
    start(config{.lease_ms = 500});
    register_worker("w1");
    {
        raw_socket s(port);
        BOOST_REQUIRE(s.connected());
        BOOST_REQUIRE(s.send(claim_request("w1", 20000)));
        wait_worker_waiting("w1");
    }  // closed while the claim waits
    wait_not_waiting(*this, "w1");

    // A job submitted now goes to nobody: the dead claim does not take it.
    const std::string id = submit(R"({"id":"after-hangup","service_required":"ext"})");
    BOOST_TEST(status_of(id) == "pending");
    // The worker, heartbeating as a live worker does, holds nothing that it does not know of.
    for (int i = 0; i < 3; ++i) BOOST_TEST(post("/api/workers/w1/heartbeat").status == 200u);
    BOOST_TEST(status_of(id) == "pending");
    // Its next claim gets the job, on its first attempt.
    auto c = claim_now("w1");
    BOOST_TEST(str(c.job.at("id")) == id);
    BOOST_TEST(c.job.at("attempts") == json::value(1));
    BOOST_TEST(report(id, "complete", c.token, R"("result":1)").status == 200u);
}

BOOST_AUTO_TEST_CASE(a_claim_whose_client_is_already_gone_gets_no_job) {
    start(config{.lease_ms = 500});
    register_worker("w1");
    const std::string id = submit(R"({"id":"pending-1","service_required":"ext"})");
    // The request and the hang-up (FIN) arrive together; the client can still read the answer.
    raw_socket s(port);
    BOOST_REQUIRE(s.connected());
    s.cork();
    BOOST_REQUIRE(s.send(claim_request("w1", 0)));
    s.shutdown_write();
    const auto reply = s.read_until_closed(kDeadline);
    BOOST_TEST(reply.data.rfind("HTTP/1.1 204", 0) == 0u, "the answer to a gone client: " << reply.data);
    BOOST_TEST(status_of(id) == "pending");
    BOOST_TEST(job(id).at("attempts") == json::value(0));
    auto c = claim_now("w1");
    BOOST_TEST(str(c.job.at("id")) == id);
}

BOOST_AUTO_TEST_CASE(a_claim_answered_before_the_hang_up_keeps_its_job) {
    // The ordinary case is unchanged: a client that reads its job and then closes keeps it.
    start(config{.lease_ms = 3000});
    register_worker("w1");
    const std::string id = submit(R"({"id":"kept","service_required":"ext"})");
    std::string token;
    {
        raw_socket s(port);
        BOOST_REQUIRE(s.send(claim_request("w1", 0)));
        const std::string reply = s.read_until("\"}", kDeadline);  // the end of the lease token
        BOOST_REQUIRE_MESSAGE(reply.rfind("HTTP/1.1 200", 0) == 0u, reply);
        const auto at = reply.find("\"lease_token\":\"");
        BOOST_REQUIRE(at != std::string::npos);
        token = reply.substr(at + 15, reply.find('"', at + 15) - at - 15);
    }
    BOOST_TEST(str(job(id).at("status")) == "assigned");
    BOOST_TEST(report(id, "complete", token, R"("result":"kept")").status == 200u);
}

BOOST_AUTO_TEST_SUITE_END()
