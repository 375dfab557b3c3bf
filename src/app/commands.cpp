#include "app/command.hpp"

namespace jobrouter {

const std::vector<command_info>& commands() {
    static const std::vector<command_info> list{
        {"serve", "run the scheduler: HTTP API, WebSocket events, in-process workers", run_serve_command},
        {"submit", "submit a job to a running server (--wait: until it ends)", run_submit_command},
        {"status", "show a job, or the server's workers and recent jobs", run_status_command},
        {"explain", "why a job is not taken: each worker and the rule that rejects it", run_explain_command},
        {"replay", "apply a trace of events and print every matching decision", run_replay_command},
        {"check-config", "check a service-mapping.json: each problem and its fix, the routing table",
         run_check_config_command},
        {"simulate", "run a simulation service (EMP's HTTP and WebSocket protocols) on loopback",
         run_simulate_command},
    };
    return list;
}

}  // namespace jobrouter
