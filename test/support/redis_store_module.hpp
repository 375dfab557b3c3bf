// redis_store_module.hpp: runs a test module's server_fixture cases on the Redis store. A module
// that includes this (before including the cases' .cpp, as serve_api_redis_test does) gets one
// private redis-server for the whole module, and every fixture server of the module uses it
// (default_store_url); the fixture flushes the database before each case.
#pragma once

#include "test/support/redis_server.hpp"
#include "test/support/server_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>

namespace {

struct redis_for_module {
    redis_for_module() : server(std::make_unique<jobrouter::test::redis_server>()) { default_store_url() = server->url(0); }
    std::unique_ptr<jobrouter::test::redis_server> server;
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(redis_for_module);
