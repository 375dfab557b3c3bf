// outcome: how a connector reports back, written once for every connector. A connector's run
// state has `bool done` and `connector_callbacks callbacks`; these helpers keep the
// interface's promise (progress until the end, then exactly one of complete or fail, nothing
// after cancel()) and the two lifetime rules every connector needs:
// - progress calls a copy of the callback: the callback may cancel, which drops the stored one;
// - complete and fail move the callback out and mark the run done first: the callback may
//   destroy the connector.
#pragma once

#include "connectors/connector.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace jobrouter::detail {

template <class Run>
void deliver_progress(Run& run, std::int64_t percent, std::string message) {
    if (run.done || !run.callbacks.on_progress) return;
    auto progress = run.callbacks.on_progress;
    progress(percent, std::move(message));
}

template <class Run>
void deliver_complete(Run& run, boost::json::value result) {
    if (run.done) return;
    run.done = true;
    auto done = std::move(run.callbacks.on_complete);
    if (done) done(std::move(result));
}

template <class Run>
void deliver_fail(Run& run, boost::json::value error, bool retryable) {
    if (run.done) return;
    run.done = true;
    auto done = std::move(run.callbacks.on_fail);
    if (done) done(std::move(error), retryable);
}

}  // namespace jobrouter::detail
