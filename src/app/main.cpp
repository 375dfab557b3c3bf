// jobrouter: one binary, several commands (see `jobrouter --help`).
#include "app/command.hpp"

#include <cstring>
#include <iostream>

namespace {

void print_help() {
    std::cout << "Usage: jobrouter <command> [options]\n"
                 "       jobrouter <command> --help\n"
                 "\n"
                 "A job scheduler that routes jobs to workers by service_required, with two\n"
                 "matching strategies (service-name, job-type) and a service-mapping.json.\n"
                 "\n"
                 "Commands:\n";
    for (const auto& c : jobrouter::commands()) std::cout << "  " << c.name << std::string(14 - std::strlen(c.name), ' ') << c.summary << "\n";
    std::cout << "\nOptions:\n"
                 "  -h [ --help ]    show this help and exit\n"
                 "  --version        print the version and exit\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        print_help();
        return jobrouter::kExitUsage;
    }
    const std::string first = argv[1];
    if (first == "--help" || first == "-h" || first == "help") {
        print_help();
        return jobrouter::kExitOk;
    }
    if (first == "--version") {
        std::cout << "jobrouter " << JOBROUTER_VERSION << "\n";
        return jobrouter::kExitOk;
    }
    for (const auto& c : jobrouter::commands())
        if (first == c.name) return c.run(std::vector<std::string>(argv + 2, argv + argc));
    std::cerr << "jobrouter: unknown command '" << first << "'. Commands:";
    for (const auto& c : jobrouter::commands()) std::cerr << " " << c.name;
    std::cerr << "\nTry 'jobrouter --help'.\n";
    return jobrouter::kExitUsage;
}
