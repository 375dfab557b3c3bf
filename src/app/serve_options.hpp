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
    std::string store = "memory";            ///< --store memory|redis://HOST:PORT/DB
    std::int64_t store_timeout_ms = 2000;    ///< --store-timeout-ms: deadline of each Redis command
    std::string workers = "simulation:2";    ///< --workers / WORKERS: in-process workers, type:count,...
    std::string machine_id;                  ///< --machine-id: "" = the host name
    std::string log_format = "text";         ///< --log-format text|json
    std::string log_level = "info";          ///< --log-level debug|info|warn|error
    scheduler_options scheduling;            ///< --lease-ms, --retry-backoff-ms, --retry-backoff-max-ms
    std::int64_t retention_ms = 3600000;     ///< --retention-ms: finished jobs are kept this long
    std::int64_t retention_count = 100000;   ///< --retention-count: and at most this many
    std::int64_t worker_timeout_ms = 60000;  ///< --worker-timeout-ms: silent external workers are removed
    std::int64_t shutdown_grace_ms = 10000;  ///< --shutdown-grace-ms: running jobs may finish this long
    std::int64_t max_wait_ms = 60000;        ///< --max-wait-ms: the longest long-poll claim
    // Limits (README "Security and limits"); the defaults are http_limits' and dispatcher_options'.
    std::int64_t max_body_bytes = 1048576;   ///< --max-body-bytes: larger request bodies get 413
    std::int64_t max_header_bytes = 16384;   ///< --max-header-bytes: larger headers get 431
    std::int64_t max_json_depth = 64;        ///< --max-json-depth
    std::int64_t max_string_bytes = 65536;   ///< --max-string-bytes: any JSON string or key in a body
    std::int64_t max_id_bytes = 256;         ///< --max-id-bytes: ids, service_required, customer/workflow ids
    std::int64_t max_requirements_bytes = 16384;  ///< --max-requirements-bytes
    std::int64_t max_pending_jobs = 100000;  ///< --max-pending-jobs: then 429
    std::int64_t max_pending_per_type = 50000;  ///< --max-pending-per-type: then 429
    std::int64_t max_connections = 1024;     ///< --max-connections: then 503
    std::int64_t header_timeout_ms = 10000;  ///< --header-timeout-ms: a request's header must arrive within this
    std::int64_t idle_timeout_ms = 60000;    ///< --idle-timeout-ms: a kept-alive connection may idle this long
    std::int64_t read_timeout_ms = 30000;    ///< --read-timeout-ms: a whole request must arrive within this
    std::int64_t write_timeout_ms = 30000;   ///< --write-timeout-ms: a reply must be taken within this
    std::int64_t max_ws_queue = 1024;        ///< --max-ws-queue: events queued for one WebSocket client
    std::int64_t max_ws_message_bytes = 65536;  ///< --max-ws-message-bytes: largest message a WebSocket client may send
    // Authentication: bearer tokens, never logged.
    std::string auth_token;                  ///< --auth-token / JOBROUTER_AUTH_TOKEN: client routes (and worker routes without a worker token)
    std::string worker_token;                ///< --worker-token / JOBROUTER_WORKER_TOKEN: worker routes
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
