// serve_explain_redis: serve_explain's cases (test/serve_explain_test.cpp, included) against the
// Redis store: GET /api/jobs/{id}/explain, GET /api/workers/{id}/explain, submit warnings and
// GET /api/jobs?unroutable=true give the same answers as on the memory store, with every server
// of the run on one private redis-server (test/support/redis_server.hpp), flushed before each
// case. The one difference (search for JOBROUTER_TEST_REDIS_STORE): /metrics on Redis does not
// count unroutable jobs, so the count is read from ?unroutable=true instead.
#define BOOST_TEST_MODULE serve_explain_redis
#define JOBROUTER_TEST_REDIS_STORE 1

#include <boost/test/unit_test.hpp>

#include "test/support/redis_store_module.hpp"

// The included cases' fixture lives in an anonymous namespace, as in their own module.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#include "serve_explain_test.cpp"
#pragma GCC diagnostic pop
