#include "app/command.hpp"
#include "app/mapping_source.hpp"
#include "app/serve_options.hpp"
#include "core/workers_spec.hpp"
#include "server/local_workers.hpp"
#include "server/log.hpp"
#include "server/redis_job_service.hpp"
#include "server/server.hpp"
#include "server/simulation_service.hpp"
#include "strategies/strategy_registry.hpp"

#include <boost/asio/ip/host_name.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <fstream>
#include <iostream>

namespace jobrouter {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

int fail_start(const std::string& message) {
    log::error(message);
    return kExitFailure;
}

result<tcp::endpoint> resolve_listen(asio::io_context& io, const std::string& listen) {
    const auto colon = listen.rfind(':');
    std::string host = listen.substr(0, colon);
    const std::string port = listen.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, port, tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) return make_error("--listen", "cannot use " + quoted(listen) + ": " + (ec ? ec.message() : "no address"));
    return results.begin()->endpoint();
}

}  // namespace

int run_serve_command(const std::vector<std::string>& args) {
    const env_lookup env = process_environment();
    bool help = false;
    auto parsed = parse_serve_options(args, env, help);
    if (help) {
        std::cout << serve_help();
        return kExitOk;
    }
    if (!parsed) {
        std::cerr << "jobrouter serve: " << parsed.error().text() << "\nTry 'jobrouter serve --help'.\n";
        return kExitUsage;
    }
    const serve_options& o = *parsed;
    log::configure(o.log_level == "debug" ? log::level::debug
                   : o.log_level == "warn" ? log::level::warn
                   : o.log_level == "error" ? log::level::error
                                            : log::level::info,
                   o.log_format == "json" ? log::format::json : log::format::text);

    auto strat = make_strategy(o.strategy);
    if (!strat) {
        std::cerr << "jobrouter serve: " << strat.error().text() << "\n";
        return kExitUsage;
    }
    auto mapping = load_mapping_source(o.mapping_file, env);
    if (!mapping) return fail_start("cannot load the service mapping: " + mapping.error().text());
    for (const auto& d : mapping->diagnostics)
        log::warn("mapping: " + d.path + ": " + d.message);

    std::vector<worker_count> counts;
    if (o.workers != "none") {
        auto spec = parse_workers_spec(o.workers, *mapping, "--workers");
        if (!spec) {
            std::cerr << "jobrouter serve: " << spec.error().text() << "\n";
            return kExitUsage;
        }
        counts = std::move(*spec);
    }
    auto capabilities = capabilities_config_from_env(env);
    if (!capabilities) return fail_start("cannot build worker capabilities: " + capabilities.error().text());

    asio::io_context io(1);
    auto endpoint = resolve_listen(io, o.listen);
    if (!endpoint) {
        std::cerr << "jobrouter serve: " << endpoint.error().text() << "\n";
        return kExitUsage;
    }
    server_settings settings;
    settings.listen = *endpoint;
    settings.dispatching.scheduling = o.scheduling;
    settings.dispatching.retention_ms = o.retention_ms;
    settings.dispatching.retention_count = static_cast<std::size_t>(o.retention_count);
    settings.dispatching.worker_timeout_ms = o.worker_timeout_ms;
    settings.dispatching.max_pending_jobs = static_cast<std::size_t>(o.max_pending_jobs);
    settings.dispatching.max_pending_per_type = static_cast<std::size_t>(o.max_pending_per_type);
    http_limits& limits = settings.limits;
    limits.max_connections = static_cast<std::size_t>(o.max_connections);
    limits.max_header_bytes = static_cast<std::size_t>(o.max_header_bytes);
    limits.header_timeout = std::chrono::milliseconds(o.header_timeout_ms);
    limits.idle_timeout = std::chrono::milliseconds(o.idle_timeout_ms);
    limits.read_timeout = std::chrono::milliseconds(o.read_timeout_ms);
    limits.write_timeout = std::chrono::milliseconds(o.write_timeout_ms);
    limits.max_wait = std::chrono::milliseconds(o.max_wait_ms);
    limits.max_body_bytes = static_cast<std::size_t>(o.max_body_bytes);
    limits.max_json_depth = static_cast<std::size_t>(o.max_json_depth);
    limits.max_string_bytes = static_cast<std::size_t>(o.max_string_bytes);
    limits.max_id_bytes = static_cast<std::size_t>(o.max_id_bytes);
    limits.max_requirements_bytes = static_cast<std::size_t>(o.max_requirements_bytes);
    limits.max_ws_queue = static_cast<std::size_t>(o.max_ws_queue);
    limits.max_ws_message_bytes = static_cast<std::size_t>(o.max_ws_message_bytes);
    settings.auth.client_token = o.auth_token;
    settings.auth.worker_token = o.worker_token;
    settings.shutdown_grace = std::chrono::milliseconds(o.shutdown_grace_ms);

    system_clock_source clock;
    const std::string machine_id = o.machine_id.empty() ? asio::ip::host_name() : o.machine_id;
    // The store: memory (a dispatcher in this process) or Redis (the state in Redis).
    std::unique_ptr<job_service> service;
    if (o.store == "memory") {
        service = std::make_unique<dispatcher>(io, *mapping, **strat, settings.dispatching, clock);
    } else {
        redis_service_options ro;
        ro.dispatching = settings.dispatching;
        ro.command_timeout = std::chrono::milliseconds(o.store_timeout_ms);
        auto created = redis_job_service::create(io, *mapping, **strat, redis::parse_redis_url(o.store).value(), ro, clock,
                                                 make_origin(machine_id));
        if (!created) return fail_start("cannot use the Redis store (--store): " + created.error().text());
        log::info("job store: redis", {{"redis", (*created)->url().display()}, {"origin", (*created)->origin()}});
        service = std::move(*created);
    }
    server srv(io, settings, std::move(service));
    auto workers = local_workers::create(io, srv.get_dispatcher(), counts, machine_id, *capabilities,
                                         [](std::string_view m, const boost::json::object& f) { log::debug(m, f); });
    if (!workers) return fail_start("cannot start in-process workers: " + workers.error().text());
    srv.attach_workers(std::move(*workers));
    std::unique_ptr<simulation_service> simulation;
    try {
        if (o.simulate) {
            simulation_settings sim;
            sim.http_endpoint = {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(o.simulate_http_port)};
            sim.ws_endpoint = {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(o.simulate_ws_port)};
            simulation = start_simulation_service(io, sim);
            log::info("simulation service running", {{"http", "127.0.0.1:" + std::to_string(simulation->http_endpoint().port())},
                                                     {"ws", "127.0.0.1:" + std::to_string(simulation->ws_endpoint().port())}});
        }
    } catch (const boost::system::system_error& e) {
        return fail_start("cannot start the simulation service (--simulate): " + e.code().message());
    }
    try {
        srv.start();
    } catch (const boost::system::system_error& e) {
        return fail_start("cannot listen on " + o.listen + ": " + e.code().message());
    } catch (const error_exception& e) {
        return fail_start(e.get().text());
    }

    const auto bound = srv.local_endpoint();
    if (!bound.address().is_loopback() && o.auth_token.empty()) {
        // Loud: on stderr whatever the log level, as well as in the log.
        const std::string exposed = o.worker_token.empty() ? "every route" : "every client route (submit, cancel, list, metrics, events)";
        std::cerr << "WARNING: jobrouter serve listens on " << bound.address().to_string() << " without --auth-token: "
                  << exposed << " is open to anyone who can reach this address. Set JOBROUTER_AUTH_TOKEN (or --auth-token), "
                  << "or listen on 127.0.0.1.\n";
        log::warn("listening beyond loopback without --auth-token", {{"listen", bound.address().to_string()}});
    }
    if (!o.port_file.empty()) std::ofstream(o.port_file) << bound.port() << "\n";
    std::string worker_summary;
    for (const auto& c : counts) worker_summary += (worker_summary.empty() ? "" : ",") + c.worker_type + ":" + std::to_string(c.count);
    log::info("jobrouter serving", {{"listen", bound.address().to_string() + ":" + std::to_string(bound.port())},
                                    {"strategy", std::string((*strat)->name())},
                                    {"store", o.store == "memory" ? std::string("memory") : redis::parse_redis_url(o.store)->display()},
                                    {"mapping", mapping->source_name},
                                    {"workers", worker_summary.empty() ? "none" : worker_summary},
                                    {"machine_id", machine_id}});

    asio::signal_set signals(io, SIGINT, SIGTERM);
    bool stopping = false;
    std::function<void()> wait_signal = [&] {
        signals.async_wait([&](boost::system::error_code ec, int signo) {
            if (ec) return;
            if (stopping) {  // a second signal: stop now
                log::warn("second signal: exiting at once");
                io.stop();
                return;
            }
            stopping = true;
            log::info("signal received: shutting down", {{"signal", signo}});
            srv.shutdown([&] {
                if (simulation) simulation->stop();
                log::info("stopped");
                io.stop();
            });
            wait_signal();
        });
    };
    wait_signal();
    io.run();
    return kExitOk;
}

}  // namespace jobrouter
