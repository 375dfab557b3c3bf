// serve_options: every setting of `jobrouter serve`, with its default and a doc line, parsed
// and validated here and nowhere else. Sources, strongest first: command-line flags, then the
// environment (JOBROUTER_<OPTION> with dashes as underscores, e.g. JOBROUTER_LISTEN; WORKERS
// for --workers; SIMULATION_HTTP_PORT and SIMULATION_WS_PORT, as the mapping names them), then the --config INI file (`option = value` lines), then the defaults.
#pragma once

#include "core/error.hpp"
#include "core/service_mapping.hpp"
#include "core/scheduler.hpp"

#include <boost/program_options/options_description.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace jobrouter {

struct serve_options {
    std::string config_file;                 ///< --config: INI file with any of these options
    std::string listen = "127.0.0.1:7700";   ///< --listen HOST:PORT (port 0: any free port)
    std::string mapping_file;                ///< --mapping: "" = the embedded default
    std::string strategy = "job-type";       ///< --strategy
    std::string workers = "simulation:2";    ///< --workers / WORKERS: in-process workers, type:count,...
    std::string machine_id;                  ///< --machine-id: "" = the host name
    std::string log_format = "text";         ///< --log-format text|json
    std::string log_level = "info";          ///< --log-level debug|info|warn|error
    scheduler_options scheduling;            ///< --lease-ms, --retry-backoff-ms, --retry-backoff-max-ms
    std::int64_t retention_ms = 3600000;     ///< --retention-ms: finished jobs are kept this long
    std::int64_t retention_count = 100000;   ///< --retention-count: and at most this many
    std::int64_t worker_timeout_ms = 60000;  ///< --worker-timeout-ms: silent external workers are removed
    std::int64_t shutdown_grace_ms = 10000;  ///< --shutdown-grace-ms: running jobs may finish this long
    std::int64_t max_body_bytes = 1048576;   ///< --max-body-bytes: larger request bodies get 413
    std::int64_t read_timeout_ms = 30000;    ///< --read-timeout-ms: a request must arrive within this
    std::int64_t max_wait_ms = 60000;        ///< --max-wait-ms: the longest long-poll claim
    std::string port_file;                   ///< --port-file: write the bound port here (tests, scripts)
    bool simulate = false;                   ///< --simulate: run the simulation service in-process
    std::int64_t simulate_http_port = 8299;  ///< --simulate-http-port (SIMULATION_HTTP_PORT)
    std::int64_t simulate_ws_port = 8399;    ///< --simulate-ws-port (SIMULATION_WS_PORT)
};

/// Parses `args` (after "serve") with the environment and the config file. A usage error
/// (unknown option, bad value, unreadable config file) is an error naming the option.
/// `help` is set when --help was given (nothing else is validated then).
result<serve_options> parse_serve_options(const std::vector<std::string>& args, const env_lookup& env, bool& help);

/// The --help text: every option with its default.
std::string serve_help();

}  // namespace jobrouter
