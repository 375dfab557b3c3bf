// replay: runs a trace (../shared/docs/trace-format.md) through a scheduler and writes one
// answer line per event that has one. No wall clock, no randomness: the same trace and
// options give byte-identical output.
#pragma once

#include "app/replay_store.hpp"
#include "core/scheduler.hpp"

#include <iosfwd>

namespace jobrouter {

struct replay_options {
    scheduler_options scheduling;
    bool explain = false;  ///< add "why" to null claims
};

/// Reads events from `in` until EOF and writes answers to `out`. Bad events become error
/// lines; the replay always goes on. Runs on the memory store.
void run_replay(std::istream& in, std::ostream& out, const service_mapping& mapping, const strategy& strat,
                const replay_options& options);

/// The same on any store (options.scheduling is the store's business). Redis failures
/// propagate as exceptions (redis::redis_error).
void run_replay(std::istream& in, std::ostream& out, replay_store& store, const service_mapping& mapping,
                const replay_options& options);

}  // namespace jobrouter
