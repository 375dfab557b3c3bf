// scheduler: the job lifecycle of trace-format.md "Precise rules", driven by a virtual clock.
#define BOOST_TEST_MODULE scheduler
#include "core/scheduler.hpp"

#include "strategies/strategy_registry.hpp"
#include "test/support/one_service_mapping.hpp"

#include <boost/test/unit_test.hpp>

using namespace jobrouter;

namespace {

constexpr time_ms kT0 = 1700000000000;

const service_mapping& empty_mapping() { return test::one_service_mapping(); }

struct fixture {
    explicit fixture(scheduler_options o = {1000, 100, 1000}, std::string strategy_name = "job-type")
        : strat(make_strategy(strategy_name).value()), s(empty_mapping(), *strat, o) {
        s.advance(kT0);
    }

    void add_worker(const std::string& json_text) {
        BOOST_REQUIRE(s.register_worker(parse_worker(json::parse(json_text), empty_mapping()).value()));
    }
    const job* submit(const std::string& json_text) {
        auto r = s.submit(parse_job_spec(json::parse(json_text)).value());
        BOOST_REQUIRE(r);
        return *r;
    }
    std::string claim(const std::string& worker_id) {
        auto r = s.claim(worker_id);
        BOOST_REQUIRE(r);
        return *r ? (*r)->id : std::string("null");
    }
    job_status status(const std::string& id) { return s.find_job(id)->status; }
    void at(time_ms offset) { s.advance(kT0 + offset); }

    std::unique_ptr<strategy> strat;
    scheduler s;
};

}  // namespace

BOOST_AUTO_TEST_CASE(claim_takes_the_best_ranked_match_and_assigns_it) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"low","service_required":"x","priority":10})");
    f.submit(R"({"id":"high","service_required":"x","priority":90})");
    BOOST_TEST(f.claim("w") == "high");
    const job* j = f.s.find_job("high");
    BOOST_TEST(j->status == job_status::assigned);
    BOOST_TEST(j->worker_id == "w");
    BOOST_TEST(j->attempts == 1);
    BOOST_TEST(f.s.find_worker("w")->assigned.count("high") == 1u);
    BOOST_TEST(f.s.pending_count() == 1u);
}

BOOST_AUTO_TEST_CASE(fifo_to_the_millisecond_and_id_descending_ties) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.at(5);
    f.submit(R"({"id":"b-later","service_required":"x"})");
    f.submit(R"({"id":"a-older","service_required":"x","workflow_datetime":1700000000004})");
    f.submit(R"({"id":"c-same","service_required":"x","workflow_datetime":1700000000004})");
    BOOST_TEST(f.claim("w") == "c-same");  // same score as a-older: id descending
    BOOST_TEST(f.claim("w") == "a-older");
    BOOST_TEST(f.claim("w") == "b-later");
}

BOOST_AUTO_TEST_CASE(workflow_priority_ranks_before_priority) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"p90","service_required":"x","priority":90})");
    f.submit(R"({"id":"wp95","service_required":"x","priority":1,"workflow_priority":95})");
    f.submit(R"({"id":"zero","service_required":"x","priority":0})");
    BOOST_TEST(f.claim("w") == "wp95");
    BOOST_TEST(f.claim("w") == "p90");
    BOOST_TEST(f.claim("w") == "zero");
}

BOOST_AUTO_TEST_CASE(no_scan_window_d1) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"],"hardware":{"gpu_memory_gb":8}})");
    for (int i = 0; i < 1000; ++i)
        f.submit(R"({"id":"big)" + std::to_string(i) + R"(","service_required":"x","priority":99,"requirements":{"hardware":{"gpu_memory_gb":80}}})");
    f.submit(R"({"id":"small","service_required":"x","priority":1})");
    BOOST_TEST(f.claim("w") == "small");
    BOOST_TEST(f.s.bucket_count() == 1u);  // 1000 identical jobs share one bucket
}

BOOST_AUTO_TEST_CASE(identical_requirements_share_a_bucket_and_empty_buckets_go) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x","y"]})");
    f.submit(R"({"id":"1","service_required":"x","requirements":{"tier":1}})");
    f.submit(R"({"id":"2","service_required":"x","requirements":{"tier":1}})");
    f.submit(R"({"id":"3","service_required":"x","requirements":{"tier":2}})");
    f.submit(R"({"id":"4","service_required":"x","customer_id":"c","requirements":{"tier":1}})");
    f.submit(R"({"id":"5","service_required":"y","requirements":{"tier":1}})");
    BOOST_TEST(f.s.bucket_count() == 4u);
    BOOST_REQUIRE(f.s.cancel("5"));
    BOOST_TEST(f.s.bucket_count() == 3u);
}

BOOST_AUTO_TEST_CASE(only_pending_jobs_are_claimed_d6) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x"})");
    BOOST_TEST(f.claim("w") == "j");
    BOOST_TEST(f.claim("w") == "null");
    BOOST_REQUIRE(f.s.complete("j"));
    BOOST_TEST(f.claim("w") == "null");
}

BOOST_AUTO_TEST_CASE(retries_count_attempts_and_keep_the_place) {
    fixture f(scheduler_options{1000, 0, 0});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"old","service_required":"x","max_retries":2})");
    f.at(10);
    f.submit(R"({"id":"new","service_required":"x"})");
    BOOST_TEST(f.claim("w") == "old");
    BOOST_REQUIRE(f.s.fail("old"));
    BOOST_TEST(f.status("old") == job_status::pending);
    BOOST_TEST(f.claim("w") == "old");  // still ahead of the newer job
    BOOST_REQUIRE(f.s.fail("old"));
    BOOST_TEST(f.status("old") == job_status::failed);  // 2 attempts made
    BOOST_TEST(f.claim("w") == "new");
}

BOOST_AUTO_TEST_CASE(non_retryable_failure_is_final) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x","max_retries":5})");
    f.claim("w");
    BOOST_REQUIRE(f.s.fail("j", false, "bad input"));
    BOOST_TEST(f.status("j") == job_status::failed);
    BOOST_TEST(f.s.find_job("j")->last_error == json::value("bad input"));
    BOOST_TEST(f.s.find_worker("w")->assigned.empty());
}

BOOST_AUTO_TEST_CASE(backoff_doubles_per_attempt_and_is_capped) {
    fixture f(scheduler_options{1000000, 100, 250});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x","max_retries":10})");
    time_ms t = 0;
    for (time_ms wait : {100, 200, 250, 250}) {
        f.at(t);
        BOOST_TEST(f.claim("w") == "j");
        BOOST_REQUIRE(f.s.fail("j"));
        BOOST_TEST(f.status("j") == job_status::retrying);
        BOOST_TEST(*f.s.next_due() == kT0 + t + wait);
        f.at(t + wait - 1);
        BOOST_TEST(f.claim("w") == "null");
        t += wait;
    }
    f.at(t);
    BOOST_TEST(f.status("j") == job_status::pending);
}

BOOST_AUTO_TEST_CASE(lease_expires_only_after_the_deadline) {
    fixture f(scheduler_options{1000, 0, 0});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x","max_retries":2})");
    f.claim("w");
    f.at(1000);
    BOOST_TEST(f.status("j") == job_status::assigned);  // exactly at the deadline: still held
    f.at(1001);
    BOOST_TEST(f.status("j") == job_status::pending);
    BOOST_TEST(f.s.find_worker("w")->assigned.empty());
    BOOST_TEST(!f.s.complete("j"));  // a late complete is refused
    BOOST_TEST(f.claim("w") == "j");
    f.at(5000);
    BOOST_TEST(f.status("j") == job_status::failed);  // second expiry: no attempts left
}

BOOST_AUTO_TEST_CASE(expired_lease_backoff_counts_from_the_deadline) {
    fixture f(scheduler_options{1000, 500, 60000});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x"})");
    f.claim("w");
    f.at(1400);  // lease deadline 1000 -> retry at 1500
    BOOST_TEST(f.status("j") == job_status::retrying);
    f.at(1499);
    BOOST_TEST(f.status("j") == job_status::retrying);
    f.at(1500);
    BOOST_TEST(f.status("j") == job_status::pending);
}

BOOST_AUTO_TEST_CASE(heartbeat_renews_every_lease_of_the_worker) {
    fixture f(scheduler_options{1000, 0, 0});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"a","service_required":"x"})");
    f.submit(R"({"id":"b","service_required":"x"})");
    f.claim("w");
    f.claim("w");
    f.at(900);
    BOOST_REQUIRE(f.s.heartbeat("w"));
    f.at(1800);
    BOOST_TEST(f.status("a") == job_status::assigned);
    BOOST_TEST(f.status("b") == job_status::assigned);
    f.at(1901);
    BOOST_TEST(f.status("a") == job_status::pending);
    BOOST_TEST(!f.s.heartbeat("nobody"));
}

// A heartbeat that lists the worker's jobs hands back the ones it does not list, once they were
// assigned before the worker's previous heartbeat; later assignments (a claim reply that may
// still be on its way) are never handed back by it.
BOOST_AUTO_TEST_CASE(listing_heartbeat_hands_back_unlisted_jobs_assigned_before_the_previous_one) {
    fixture f(scheduler_options{10000, 0, 0, true});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.add_worker(R"({"worker_id":"v","job_types":["x"]})");
    f.submit(R"({"id":"lost","service_required":"x","priority":90})");
    f.submit(R"({"id":"kept","service_required":"x","priority":80})");
    f.submit(R"({"id":"late","service_required":"x","priority":70})");
    const std::vector<std::string> none, kept{"kept"}, listed{"kept", "ghost", "ghost"};
    BOOST_TEST(f.claim("w") == "lost");
    BOOST_TEST(f.claim("w") == "kept");
    f.at(100);
    // The first heartbeat hands back nothing: there is no previous one.
    auto r = f.s.heartbeat("w", std::span<const std::string>(kept));
    BOOST_REQUIRE(r);
    BOOST_TEST(r->handed_back.empty());
    BOOST_TEST(f.status("lost") == job_status::assigned);
    f.at(100);  // same ms as that heartbeat: not before it
    BOOST_TEST(f.claim("w") == "late");
    (void)f.s.take_events();
    f.at(600);
    r = f.s.heartbeat("w", std::span<const std::string>(listed));
    BOOST_REQUIRE(r);
    BOOST_TEST(r->handed_back == std::vector<std::string>{"lost"}, boost::test_tools::per_element());
    BOOST_TEST(r->unknown == std::vector<std::string>{"ghost"}, boost::test_tools::per_element());
    BOOST_TEST(f.status("lost") == job_status::pending);
    BOOST_TEST(f.s.find_job("lost")->attempts == 0);  // not counted
    BOOST_TEST(f.s.find_job("lost")->worker_id.empty());
    BOOST_TEST(f.status("kept") == job_status::assigned);
    BOOST_TEST(f.status("late") == job_status::assigned);  // assigned at the previous heartbeat's ms
    auto events = f.s.take_events();
    BOOST_REQUIRE(events.size() == 1u);
    BOOST_TEST(to_string(events[0].kind) == "requeued");
    BOOST_TEST(events[0].job_id == "lost");
    BOOST_TEST(events[0].worker_id == "w");
    BOOST_TEST(f.claim("v") == "lost");  // another worker gets it
    // The next one hands back "late" (assigned before heartbeat 600), not the listed "kept".
    f.at(1200);
    r = f.s.heartbeat("w", std::span<const std::string>(kept));
    BOOST_REQUIRE(r);
    BOOST_TEST(r->handed_back == std::vector<std::string>{"late"}, boost::test_tools::per_element());
    BOOST_TEST(r->unknown.empty());
    // Without a list nothing is handed back, and leases are renewed as before.
    f.at(1800);
    r = f.s.heartbeat("w", std::nullopt);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->handed_back.empty());
    BOOST_TEST(f.status("kept") == job_status::assigned);
    BOOST_TEST(f.s.find_job("kept")->lease_deadline == kT0 + 1800 + 10000);
    BOOST_TEST(!f.s.heartbeat("nobody", std::span<const std::string>(none)));
}

BOOST_AUTO_TEST_CASE(unregister_requeues_and_counts_an_attempt) {
    fixture f(scheduler_options{1000, 0, 0});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"again","service_required":"x","max_retries":2})");
    f.submit(R"({"id":"last","service_required":"x","max_retries":1})");
    f.claim("w");
    f.claim("w");
    BOOST_REQUIRE(f.s.unregister_worker("w"));
    BOOST_TEST(f.status("again") == job_status::pending);
    BOOST_TEST(f.status("last") == job_status::failed);
    BOOST_TEST(f.s.find_worker("w") == nullptr);
    BOOST_TEST(!f.s.claim("w"));
    BOOST_TEST(!f.s.unregister_worker("w"));
}

BOOST_AUTO_TEST_CASE(register_again_replaces_capabilities_and_keeps_jobs) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x"})");
    f.submit(R"({"id":"k","service_required":"y"})");
    f.claim("w");
    f.add_worker(R"({"worker_id":"w","job_types":["y"]})");
    BOOST_TEST(f.status("j") == job_status::assigned);
    BOOST_TEST(f.s.find_worker("w")->assigned.count("j") == 1u);
    BOOST_TEST(f.claim("w") == "k");
}

BOOST_AUTO_TEST_CASE(cancel_in_every_state) {
    fixture f(scheduler_options{1000, 100, 1000});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"pending","service_required":"x","priority":1})");
    f.submit(R"({"id":"assigned","service_required":"x","priority":9})");
    f.submit(R"({"id":"retrying","service_required":"x","priority":5})");
    f.claim("w");
    f.claim("w");
    BOOST_REQUIRE(f.s.fail("retrying"));
    for (const char* id : {"pending", "assigned", "retrying"}) {
        BOOST_REQUIRE(f.s.cancel(id));
        BOOST_TEST(f.status(id) == job_status::cancelled);
    }
    BOOST_TEST(f.s.find_worker("w")->assigned.empty());
    BOOST_TEST(f.s.pending_count() == 0u);
    BOOST_TEST(!f.s.next_due().has_value());
    auto again = f.s.cancel("pending");
    BOOST_REQUIRE(!again);
    BOOST_TEST(again.error().text() == "job_id: job \"pending\" is already cancelled");
    f.at(5000);
    BOOST_TEST(f.claim("w") == "null");
}

BOOST_AUTO_TEST_CASE(rejected_events_change_nothing) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"dup","service_required":"x","priority":1})");
    auto second = f.s.submit(parse_job_spec(json::parse(R"({"id":"dup","service_required":"x","priority":99})")).value());
    BOOST_REQUIRE(!second);
    BOOST_TEST(second.error().text().find("duplicate job id \"dup\"") != std::string::npos);
    BOOST_TEST(f.s.find_job("dup")->priority == 1);
    BOOST_TEST(f.s.job_count() == 1u);
    BOOST_TEST(f.s.complete("dup").error().text() == "job_id: job \"dup\" is pending, not assigned");
    BOOST_TEST(f.s.fail("ghost").error().text() == "job_id: unknown job \"ghost\"");
    BOOST_TEST(f.status("dup") == job_status::pending);
    BOOST_TEST(f.claim("w") == "dup");
}

BOOST_AUTO_TEST_CASE(explain_names_the_first_failing_rule) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"],"hardware":{"gpu_memory_gb":16},"workflow_id":"wf"})");
    f.submit(R"({"id":"a","service_required":"x","workflow_id":"other"})");
    f.submit(R"({"id":"b","service_required":"y","workflow_id":"wf"})");
    f.submit(R"({"id":"c","service_required":"x","workflow_id":"wf","requirements":{"hardware":{"gpu_memory_gb":24}}})");
    auto why = f.s.explain_claim("w").value();
    BOOST_REQUIRE_EQUAL(why.size(), 3u);
    BOOST_TEST(why[0].j->id == "c");  // same priority and time: id descending
    BOOST_TEST(why[0].why.rule == "R3a");
    BOOST_TEST(why[1].why.rule == "R2");
    BOOST_TEST(why[1].why.detail == "job needs \"y\"; worker offers [\"x\"]");
    BOOST_TEST(why[2].why.rule == "R1");
}

BOOST_AUTO_TEST_CASE(progress_marks_in_progress_and_renews_the_lease) {
    fixture f(scheduler_options{1000, 0, 0});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x"})");
    f.claim("w");
    BOOST_TEST(!f.s.progress("nope", 5));
    f.at(800);
    BOOST_REQUIRE(f.s.progress("j", 140));
    const job* j = f.s.find_job("j");
    BOOST_TEST(j->status == job_status::in_progress);
    BOOST_TEST(j->progress == 100);  // clamped
    BOOST_TEST(*j->started_at == kT0 + 800);
    f.at(1700);
    BOOST_TEST(f.status("j") == job_status::in_progress);  // renewed at 800 until 1800
    BOOST_REQUIRE(f.s.complete("j", json::value("done")));
    BOOST_TEST(f.status("j") == job_status::completed);
    BOOST_TEST(!f.s.progress("j", 50));
}

BOOST_AUTO_TEST_CASE(forget_drops_only_finished_jobs) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x"})");
    BOOST_TEST(f.s.forget("j").error().text() == "job_id: job \"j\" is pending, not finished");
    BOOST_REQUIRE(f.s.cancel("j"));
    BOOST_REQUIRE(f.s.forget("j"));
    BOOST_TEST(f.s.find_job("j") == nullptr);
    f.submit(R"({"id":"j","service_required":"x"})");  // the id is free again
    BOOST_TEST(f.claim("w") == "j");
}

BOOST_AUTO_TEST_CASE(events_report_every_state_change_in_order) {
    fixture f(scheduler_options{1000, 0, 0, true});
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x","max_retries":2})");
    f.claim("w");
    BOOST_REQUIRE(f.s.progress("j", 10));
    BOOST_REQUIRE(f.s.fail("j"));
    f.claim("w");
    BOOST_REQUIRE(f.s.cancel("j"));
    BOOST_REQUIRE(f.s.unregister_worker("w"));
    std::vector<std::string> seen;
    for (const auto& e : f.s.take_events()) seen.push_back(std::string(to_string(e.kind)) + ":" + e.job_id + ":" + e.worker_id);
    BOOST_TEST(seen == (std::vector<std::string>{"worker_joined::w", "submitted:j:", "assigned:j:w", "progress:j:w", "retried:j:w",
                                                 "requeued:j:", "assigned:j:w", "cancelled:j:w", "worker_left::w"}),
               boost::test_tools::per_element());
    BOOST_TEST(f.s.take_events().empty());
}

BOOST_AUTO_TEST_CASE(release_hands_a_job_back_without_an_attempt) {
    fixture f;
    f.add_worker(R"({"worker_id":"w","job_types":["x"]})");
    f.submit(R"({"id":"j","service_required":"x","max_retries":1})");
    f.claim("w");
    BOOST_REQUIRE(f.s.release("j"));
    BOOST_TEST(f.status("j") == job_status::pending);
    BOOST_TEST(f.s.find_job("j")->attempts == 0);
    BOOST_TEST(f.s.find_worker("w")->assigned.empty());
    BOOST_TEST(!f.s.next_due().has_value());
    BOOST_TEST(f.claim("w") == "j");
    BOOST_REQUIRE(f.s.fail("j"));
    BOOST_TEST(f.status("j") == job_status::failed);  // the one real attempt
    BOOST_TEST(!f.s.release("j"));
}
