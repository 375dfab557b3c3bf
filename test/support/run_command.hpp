// run_command: runs a shell command line and captures its standard output and exit status,
// for the tests that drive the real binary (replay, check-config, the Redis store).
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace jobrouter::test {

struct process_result {
    int exit_code = -1;  ///< -1 when the command did not exit normally
    std::string out;
};

inline process_result run_command(const std::string& command) {
    process_result r;
    FILE* pipe = ::popen(command.c_str(), "r");
    BOOST_REQUIRE_MESSAGE(pipe, "cannot run: " << command);
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace jobrouter::test
