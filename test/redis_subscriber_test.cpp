// redis::subscriber against a real redis-server (test/support/redis_server.hpp): messages on
// its channels arrive on the io_context's thread, a dropped connection is re-made and
// re-subscribed with back-off, an unreachable or refusing Redis is reported and retried, and
// stop() inside a callback ends everything at once.
#define BOOST_TEST_MODULE redis_subscriber
#include "redis/subscriber.hpp"

#include "test/support/redis_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

using namespace jobrouter;
using namespace jobrouter::redis;
namespace asio = boost::asio;

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

// Runs `io` until `done` holds; false if 10 s pass first (the test then fails, never hangs).
bool run_until(asio::io_context& io, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    io.restart();
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        io.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
}

struct recorded {
    std::vector<std::pair<std::string, std::string>> messages;
    std::vector<std::pair<bool, std::string>> states;
    std::size_t subscribed_count() const {
        std::size_t n = 0;
        for (const auto& s : states) n += s.first;
        return n;
    }
};

struct subscription {
    subscription(asio::io_context& io, const std::string& url, std::vector<std::string> channels, subscriber::options o = {})
        : sub(io, parse_redis_url(url).value(), std::move(channels),
              [this](const std::string& c, const std::string& m) { rec.messages.emplace_back(c, m); },
              [this](bool ok, const std::string& why) { rec.states.emplace_back(ok, why); }, o) {}
    recorded rec;
    subscriber sub;
};

subscriber::options fast() {
    subscriber::options o;
    o.backoff_initial = std::chrono::milliseconds(10);
    o.backoff_max = std::chrono::milliseconds(40);
    return o;
}

void publish(const std::string& channel, const std::string& message) {
    auto c = redis_fixture::server->connect();
    c.command({"PUBLISH", channel, message});
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(redis_fixture);

BOOST_AUTO_TEST_CASE(messages_on_its_channels_arrive_in_order_and_others_do_not) {
    asio::io_context io;
    subscription s(io, redis_fixture::server->url(), {"jr:a", "jr:b"});
    s.sub.start();
    BOOST_REQUIRE(run_until(io, [&] { return s.sub.subscribed(); }));
    publish("jr:other", "not for us");
    publish("jr:a", "one");
    publish("jr:b", std::string("two\n\0three", 11));  // binary-safe
    publish("jr:a", "four");
    BOOST_REQUIRE(run_until(io, [&] { return s.rec.messages.size() >= 3; }));
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
    BOOST_REQUIRE_EQUAL(s.rec.messages.size(), 3u);
    BOOST_TEST(s.rec.messages[0].first == "jr:a");
    BOOST_TEST(s.rec.messages[0].second == "one");
    BOOST_TEST(s.rec.messages[1].first == "jr:b");
    BOOST_TEST(s.rec.messages[1].second == std::string("two\n\0three", 11));
    BOOST_TEST(s.rec.messages[2].second == "four");
    BOOST_REQUIRE_EQUAL(s.rec.states.size(), 1u);
    BOOST_TEST(s.rec.states[0].first);
    BOOST_TEST(s.rec.states[0].second.find("subscribed to 2 channel(s)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_killed_connection_is_reported_remade_and_resubscribed) {
    asio::io_context io;
    subscription s(io, redis_fixture::server->url(), {"jr:kill"}, fast());
    s.sub.start();
    BOOST_REQUIRE(run_until(io, [&] { return s.sub.subscribed(); }));
    {
        auto c = redis_fixture::server->connect();
        BOOST_TEST(c.command({"CLIENT", "KILL", "TYPE", "pubsub"}).integer >= 1);
    }
    BOOST_REQUIRE(run_until(io, [&] { return s.rec.subscribed_count() == 2; }));
    BOOST_REQUIRE_GE(s.rec.states.size(), 3u);
    BOOST_TEST(!s.rec.states[1].first);
    BOOST_TEST(s.rec.states[1].second.find("retrying in") != std::string::npos);
    BOOST_TEST(s.sub.attempts() >= 2u);
    publish("jr:kill", "after");
    BOOST_REQUIRE(run_until(io, [&] { return !s.rec.messages.empty(); }));
    BOOST_TEST(s.rec.messages[0].second == "after");
}

BOOST_AUTO_TEST_CASE(an_unreachable_redis_is_reported_and_retried_with_back_off) {
    asio::io_context io;
    // The test server's port + 1 is not Redis: either nothing listens (refused) or something
    // else does and never confirms (deadline); both are reported and retried.
    const std::string url = "redis://127.0.0.1:" + std::to_string(redis_fixture::server->port() + 1) + "/0";
    auto o = fast();
    o.connect_timeout = std::chrono::milliseconds(200);
    subscription s(io, url, {"jr:x"}, o);
    s.sub.start();
    BOOST_REQUIRE(run_until(io, [&] { return s.rec.states.size() >= 3; }));
    for (const auto& st : s.rec.states) {
        BOOST_TEST(!st.first);
        BOOST_TEST(st.second.find("redis 127.0.0.1:") == 0u, st.second);
    }
    BOOST_TEST(s.sub.attempts() >= 3u);
    BOOST_TEST(!s.sub.subscribed());
    s.sub.stop();
    const auto seen = s.rec.states.size();
    io.restart();
    io.run_for(std::chrono::milliseconds(100));
    BOOST_TEST(s.rec.states.size() == seen);  // nothing after stop()
}

BOOST_AUTO_TEST_CASE(a_refused_auth_names_redis_error_and_is_retried) {
    asio::io_context io;
    // The test server has no password: AUTH is an error reply.
    const std::string url = "redis://:wrong@127.0.0.1:" + std::to_string(redis_fixture::server->port()) + "/0";
    subscription s(io, url, {"jr:auth"}, fast());
    s.sub.start();
    BOOST_REQUIRE(run_until(io, [&] { return s.rec.states.size() >= 2; }));
    BOOST_TEST(!s.rec.states[0].first);
    BOOST_TEST(s.rec.states[0].second.find("refused: ") != std::string::npos, s.rec.states[0].second);
    BOOST_TEST(s.rec.states[0].second.find("wrong") == std::string::npos);  // no password in messages
    BOOST_TEST(!s.sub.subscribed());
}

BOOST_AUTO_TEST_CASE(stop_inside_a_message_callback_ends_everything) {
    asio::io_context io;
    std::size_t calls = 0;
    std::unique_ptr<subscriber> sub;
    sub = std::make_unique<subscriber>(
        io, parse_redis_url(redis_fixture::server->url()).value(), std::vector<std::string>{"jr:stop"},
        [&](const std::string&, const std::string&) {
            ++calls;
            sub.reset();  // destroys the subscriber inside its own callback
        },
        nullptr);
    sub->start();
    BOOST_REQUIRE(run_until(io, [&] { return sub->subscribed(); }));
    publish("jr:stop", "1");
    publish("jr:stop", "2");
    BOOST_REQUIRE(run_until(io, [&] { return calls > 0; }));
    io.restart();
    io.run_for(std::chrono::milliseconds(100));
    BOOST_TEST(calls == 1u);
    BOOST_TEST(!sub);
}
