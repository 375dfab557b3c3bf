// mapping_source: loads the service mapping a command runs with: a file given by --mapping,
// or the default compiled into the binary. The process environment feeds ${VAR} substitution.
#pragma once

#include "core/service_mapping.hpp"

#include <string>

namespace jobrouter {

/// The process environment as an env_lookup.
env_lookup process_environment();

/// Loads `path`, or the embedded default when `path` is empty. Errors name the file.
result<service_mapping> load_mapping_source(const std::string& path, const env_lookup& env = process_environment());

}  // namespace jobrouter
