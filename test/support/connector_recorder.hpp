// connector_recorder: records what a connector reports through its callbacks, for the
// connector tests (mock, simulation, REST, command).
#pragma once

#include "connectors/connector.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jobrouter::test {

struct connector_recorder {
    std::vector<std::int64_t> progress;
    std::vector<std::string> messages;
    std::optional<boost::json::value> result;
    std::optional<boost::json::value> error;
    std::optional<bool> retryable;
    int endings = 0;  ///< on_complete + on_fail calls: exactly 1 once a job ended

    connector_callbacks callbacks() {
        connector_callbacks cb;
        cb.on_progress = [this](std::int64_t p, std::string m) {
            progress.push_back(p);
            messages.push_back(std::move(m));
        };
        cb.on_complete = [this](boost::json::value r) {
            result = std::move(r);
            ++endings;
        };
        cb.on_fail = [this](boost::json::value e, bool r) {
            error = std::move(e);
            retryable = r;
            ++endings;
        };
        return cb;
    }
    /// Whether the connector reported anything at all.
    bool called() const { return !progress.empty() || endings > 0; }
    /// The failure's "message", or "" when the job did not fail.
    std::string message() const { return error ? std::string(error->at("message").as_string()) : ""; }
};

}  // namespace jobrouter::test
