// redis_bench_store: the `redis` bench store (claims through the jobrouter Functions library
// on a private redis-server) and its EMP-scan variant (redis_bench_store.cpp).
#pragma once

#include "bench/store.hpp"

#include <cstddef>
#include <memory>

namespace jobrouter::bench {

/// Claims with jobrouter_claim (the index). Registered as the store "redis".
std::unique_ptr<bench_store> make_redis_store(const store_context& ctx);

/// Claims with jobrouter_emp_claim: EMP's top-max_scan scan, in Lua, over the same keys.
std::unique_ptr<bench_store> make_redis_emp_scan_store(const store_context& ctx, std::size_t max_scan);

}  // namespace jobrouter::bench
