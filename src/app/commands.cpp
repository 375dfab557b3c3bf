#include "app/command.hpp"

namespace jobrouter {

const std::vector<command_info>& commands() {
    static const std::vector<command_info> list{
        {"replay", "apply a trace of events and print every matching decision", run_replay_command},
    };
    return list;
}

}  // namespace jobrouter
