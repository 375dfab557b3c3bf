// jobrouter simulate: runs the simulation service (server/simulation_service.hpp) standalone,
// speaking EMP's simulation HTTP protocol and WebSocket protocol on loopback, until SIGINT or
// SIGTERM (exit 0).
#include "app/command.hpp"
#include "server/log.hpp"
#include "server/simulation_service.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include <csignal>
#include <cstdint>
#include <iostream>
#include <random>

namespace jobrouter {

namespace asio = boost::asio;
namespace po = boost::program_options;
using tcp = asio::ip::tcp;

int run_simulate_command(const std::vector<std::string>& args) {
    simulation_settings defaults;
    int http_port = 8299;
    int ws_port = 8399;
    std::string host = "127.0.0.1";
    std::int64_t duration_ms = defaults.duration_ms;
    std::int64_t steps = defaults.steps;
    double failure_rate = 0.0;
    std::uint64_t seed = 0;

    po::options_description opts("Options");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help and exit")
        ("http-port", po::value(&http_port)->default_value(http_port)->value_name("PORT"),
         "port of the HTTP protocol (POST /process, GET /history/{job_id}); 0: any free port")
        ("ws-port", po::value(&ws_port)->default_value(ws_port)->value_name("PORT"),
         "port of the WebSocket protocol (simulation_job, cancel_simulation); 0: any free port")
        ("listen-host", po::value(&host)->default_value(host)->value_name("ADDR"), "address both ports bind to")
        ("duration-ms", po::value(&duration_ms)->default_value(duration_ms)->value_name("N"),
         "a job's duration unless its request sets one (payload.duration_ms, processing_time_ms)")
        ("steps", po::value(&steps)->default_value(steps)->value_name("N"),
         "a job's progress steps unless its request sets them (payload.steps, steps)")
        ("failure-rate", po::value(&failure_rate)->default_value(failure_rate)->value_name("P"),
         "probability 0..1 that a job fails halfway (payload.should_fail overrides)")
        ("seed", po::value(&seed)->value_name("N"), "seed of the failure draws (default: random)");
    // clang-format on
    po::variables_map vm;
    const auto usage = [](const std::string& message) {
        std::cerr << "jobrouter simulate: " << message << "\nTry 'jobrouter simulate --help'.\n";
        return kExitUsage;
    };
    try {
        po::store(po::command_line_parser(args).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return usage(e.what());
    }
    if (vm.count("help")) {
        std::cout << "Usage: jobrouter simulate [options]\n\n"
                     "A simulation service speaking EMP's simulation HTTP and WebSocket protocols, for the\n"
                     "SimulationHttpConnector and SimulationWebsocketConnector. Runs until SIGINT or SIGTERM.\n\n"
                  << opts;
        return kExitOk;
    }
    if (http_port < 0 || http_port > 65535) return usage("--http-port: must be from 0 to 65535");
    if (ws_port < 0 || ws_port > 65535) return usage("--ws-port: must be from 0 to 65535");
    if (duration_ms < 0 || duration_ms > kSimulationMaxDurationMs)
        return usage("--duration-ms: must be from 0 to " + std::to_string(kSimulationMaxDurationMs));
    if (steps < 1 || steps > kSimulationMaxSteps)
        return usage("--steps: must be from 1 to " + std::to_string(kSimulationMaxSteps));
    if (!(failure_rate >= 0.0 && failure_rate <= 1.0)) return usage("--failure-rate: must be from 0 to 1");
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return usage("--listen-host: " + host + " is not an IP address");

    simulation_settings settings;
    settings.http_endpoint = tcp::endpoint(address, static_cast<unsigned short>(http_port));
    settings.ws_endpoint = tcp::endpoint(address, static_cast<unsigned short>(ws_port));
    settings.duration_ms = duration_ms;
    settings.steps = steps;
    settings.failure_rate = failure_rate;
    settings.seed = vm.count("seed") ? seed : std::random_device{}();
    settings.on_ws_message = [](std::string_view type, std::string_view job_id) {
        log::debug("simulate: websocket message", {{"type", std::string(type)}, {"job_id", std::string(job_id)}});
    };

    asio::io_context io(1);
    std::unique_ptr<simulation_service> service;
    try {
        service = start_simulation_service(io, settings);
    } catch (const boost::system::system_error& e) {
        log::error("simulate: cannot listen on " + host + " (HTTP port " + std::to_string(http_port) + ", WebSocket port " +
                   std::to_string(ws_port) + "): " + e.code().message());
        return kExitFailure;
    }
    log::info("jobrouter simulate serving",
              {{"http", host + ":" + std::to_string(service->http_endpoint().port())},
               {"ws", host + ":" + std::to_string(service->ws_endpoint().port())},
               {"duration_ms", duration_ms},
               {"steps", steps},
               {"failure_rate", failure_rate},
               {"seed", settings.seed}});

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code e, int signo) {
        if (e) return;
        log::info("simulate: signal received: stopping", {{"signal", signo}});
        service->stop();
        io.stop();
    });
    io.run();
    return kExitOk;
}

}  // namespace jobrouter
