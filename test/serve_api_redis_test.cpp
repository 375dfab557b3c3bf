// serve_api_redis: serve_api's cases (test/serve_api_test.cpp, included) against the Redis
// store: the same HTTP behaviour, status codes and error texts, with every server of the run
// on one private redis-server (test/support/redis_server.hpp), flushed before each case. Every
// case and assertion runs on both stores (a difference would be guarded there by
// JOBROUTER_TEST_REDIS_STORE, with the reason).
#define BOOST_TEST_MODULE serve_api_redis
#define JOBROUTER_TEST_REDIS_STORE 1

#include <boost/test/unit_test.hpp>

#include "test/support/redis_store_module.hpp"

// The included cases' fixture lives in an anonymous namespace, as in their own module.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#include "serve_api_test.cpp"
#pragma GCC diagnostic pop
