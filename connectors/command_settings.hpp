// command_settings: CommandConnector's config, read and checked in one place from
// `services.<s>.api_config` (keys and defaults are listed in command_connector.hpp).
#pragma once

#include "connectors/connector.hpp"
#include "core/error.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace jobrouter {

struct command_settings {
    std::vector<std::string> argv;  ///< with shell: {"/bin/sh", "-c", script}
    bool shell = false;
    std::optional<std::string> working_dir;
    std::vector<std::pair<std::string, std::string>> env;  ///< added to (or replacing) the inherited one
    bool inherit_env = true;
    std::chrono::milliseconds timeout{600000};
    std::chrono::milliseconds kill_grace{2000};  ///< SIGTERM, then SIGKILL after this
    std::size_t max_stdout_bytes = 16 * 1024 * 1024;
    std::vector<int> retryable_exit_codes{75};  ///< EX_TEMPFAIL by default
};

/// The settings of `job.service_config`; an error names the field (not retryable: the config
/// is the same on every attempt).
result<command_settings> read_command_settings(const connector_job& job);

}  // namespace jobrouter
