#include "app/command.hpp"

namespace jobrouter {

const std::vector<command_info>& commands() {
    static const std::vector<command_info> list{
        {"serve", "run the scheduler: HTTP API, WebSocket events, in-process workers", run_serve_command},
        {"submit", "submit a job to a running server (--wait: until it ends)", run_submit_command},
        {"status", "show a job, or the server's workers and recent jobs", run_status_command},
        {"replay", "apply a trace of events and print every matching decision", run_replay_command},
        {"check-config", "check a service-mapping.json: each problem and its fix, the routing table",
         run_check_config_command},
    };
    return list;
}

}  // namespace jobrouter
