// command: the subcommands of the jobrouter binary (replay, check-config, ...). Each parses its own
// options with Boost.Program_options, so `jobrouter <command> --help` describes exactly what
// that command accepts.
#pragma once

#include <string>
#include <vector>

namespace jobrouter {

/// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< could not run: unreadable input, bad mapping, ...
inline constexpr int kExitUsage = 2;    ///< bad options or arguments

struct command_info {
    const char* name;
    const char* summary;
    int (*run)(const std::vector<std::string>& args);  ///< args after the command name
};

/// Every command, in the order `jobrouter --help` lists them.
const std::vector<command_info>& commands();

int run_replay_command(const std::vector<std::string>& args);
int run_serve_command(const std::vector<std::string>& args);
int run_submit_command(const std::vector<std::string>& args);
int run_status_command(const std::vector<std::string>& args);
int run_check_config_command(const std::vector<std::string>& args);
int run_explain_command(const std::vector<std::string>& args);
int run_simulate_command(const std::vector<std::string>& args);

}  // namespace jobrouter
