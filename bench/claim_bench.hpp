// claim_bench: one claim workload on one store, end to end: build the store, register the
// workers, load the backlog, run the timed claims (measure.hpp), and optionally drain the
// queue to count the matching jobs claims never reached. Shared by every claim scenario, and
// by the index and the emp-scan baseline alike, so both see exactly the same jobs and workers.
#pragma once

#include "bench/measure.hpp"
#include "bench/scenario.hpp"
#include "bench/store.hpp"
#include "bench/workload.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace jobrouter::bench {

using store_factory = std::function<std::unique_ptr<bench_store>(const store_context&)>;

struct claim_workload {
    std::string row_name;      ///< the row's "scenario" column
    std::size_t backlog = 0;   ///< pending jobs before and (refilled) during the runs
    bool half_orphans = false; ///< head-of-line: every other initial job is an orphan (refills are not)
    bool count_unreached = false;  ///< drain after the runs and count matching jobs left pending
};

struct claim_outcome {
    bench_row row;
    claim_result result;
    std::size_t drained = 0;    ///< jobs the drain claimed
    std::size_t unreached = 0;  ///< matching jobs still pending after the drain
};

/// The workload options of a bench_config.
workload_options workload_options_of(const bench_config& c);

claim_outcome run_claim_workload(const bench_context& ctx, const workload& w, std::string_view strategy_name,
                                 const store_factory& make_store, const claim_workload& cw);

}  // namespace jobrouter::bench
