// Fuzz target replay: the input is a trace (one JSON event per line, trace-format.md) run
// through run_replay with the default mapping, once per strategy (with --explain under
// job-type). Replay promises to read any input to the end, answering bad lines with error
// lines, to write one JSON object per line, and to be deterministic: the same trace twice
// gives the same bytes.
#include "app/replay.hpp"
#include "core/json_util.hpp"
#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

using namespace jobrouter;

namespace {

std::string replay(const std::string& trace, const strategy& s, bool explain) {
    replay_options options;
    options.scheduling.lease_ms = 1000;
    options.scheduling.retry_backoff_ms = 100;
    options.scheduling.retry_backoff_max_ms = 400;
    options.explain = explain;
    std::istringstream in(trace);
    std::ostringstream out;
    run_replay(in, out, fuzz::default_mapping(), s, options);
    return out.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string trace(reinterpret_cast<const char*>(data), size);
    const std::string first = replay(trace, fuzz::job_type(), true);
    (void)replay(trace, fuzz::service_name(), false);
    std::istringstream lines(first);
    for (std::string line; std::getline(lines, line);) {
        auto v = parse_strict(line);
        fuzz::require(v.has_value() && v->is_object(), "every output line is a JSON object");
    }
    fuzz::require(replay(trace, fuzz::job_type(), true) == first, "replay is deterministic");
    return 0;
}
