#include "app/serve_options.hpp"

#include "redis/redis_url.hpp"
#include "server/auth.hpp"

#include <boost/program_options.hpp>

#include <fstream>
#include <sstream>

namespace po = boost::program_options;

namespace jobrouter {

namespace {

po::options_description describe_options(serve_options& o) {
    po::options_description d("Options (flags win over JOBROUTER_* environment variables, which win over --config)");
    d.add_options()
        ("help,h", "show this help and exit")
        ("config", po::value(&o.config_file)->value_name("FILE"), "INI file with any of these options (`listen = 0.0.0.0:7700`)")
        ("listen", po::value(&o.listen)->default_value(o.listen)->value_name("HOST:PORT"), "address to serve the HTTP API on (port 0: any free port)")
        ("mapping", po::value(&o.mapping_file)->value_name("FILE"), "service-mapping.json (default: the one compiled into the binary)")
        ("strategy", po::value(&o.strategy)->default_value(o.strategy)->value_name("NAME"), "matching strategy: job-type|service-name")
        ("store", po::value(&o.store)->default_value(o.store)->value_name("STORE"), "where jobs, workers and leases live: memory (this process), or redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (Redis 7+: survives restarts, shared by several serve processes)")
        ("store-timeout-ms", po::value(&o.store_timeout_ms)->default_value(o.store_timeout_ms)->value_name("N"), "with a Redis store: deadline of the connection and of each command; beyond it the request gets 503 and serve reconnects")
        ("workers", po::value(&o.workers)->default_value(o.workers)->value_name("SPEC"), "in-process workers, type:count,... (env WORKERS); \"none\" for none")
        ("machine-id", po::value(&o.machine_id)->value_name("ID"), "prefix of in-process worker ids (default: the host name)")
        ("log-format", po::value(&o.log_format)->default_value(o.log_format)->value_name("FMT"), "text|json")
        ("log-level", po::value(&o.log_level)->default_value(o.log_level)->value_name("LEVEL"), "debug|info|warn|error (debug logs every job state change)")
        ("lease-ms", po::value(&o.scheduling.lease_ms)->default_value(o.scheduling.lease_ms)->value_name("N"), "lease of an assignment; heartbeats and progress renew it")
        ("retry-backoff-ms", po::value(&o.scheduling.retry_backoff_ms)->default_value(o.scheduling.retry_backoff_ms)->value_name("N"), "wait before retry k: N * 2^(k-1) ms")
        ("retry-backoff-max-ms", po::value(&o.scheduling.retry_backoff_max_ms)->default_value(o.scheduling.retry_backoff_max_ms)->value_name("N"), "cap on the retry wait")
        ("retention-ms", po::value(&o.retention_ms)->default_value(o.retention_ms)->value_name("N"), "finished jobs are kept this long ...")
        ("retention-count", po::value(&o.retention_count)->default_value(o.retention_count)->value_name("N"), "... and at most this many")
        ("worker-timeout-ms", po::value(&o.worker_timeout_ms)->default_value(o.worker_timeout_ms)->value_name("N"), "an external worker silent this long is removed; its jobs are retried")
        ("shutdown-grace-ms", po::value(&o.shutdown_grace_ms)->default_value(o.shutdown_grace_ms)->value_name("N"), "on SIGINT/SIGTERM, running in-process jobs may finish this long before they are handed back")
        ("max-wait-ms", po::value(&o.max_wait_ms)->default_value(o.max_wait_ms)->value_name("N"), "the longest long-poll claim (?wait_ms is capped to it)")
        ("auth-token", po::value(&o.auth_token)->value_name("TOKEN"), "bearer token every route but /health needs (worker routes: unless --worker-token is set); prefer JOBROUTER_AUTH_TOKEN, a flag shows in ps")
        ("worker-token", po::value(&o.worker_token)->value_name("TOKEN"), "bearer token the worker routes need (register, claim, heartbeat, progress, complete, fail, unregister) instead of --auth-token; env JOBROUTER_WORKER_TOKEN")
        ("max-body-bytes", po::value(&o.max_body_bytes)->default_value(o.max_body_bytes)->value_name("N"), "larger request bodies get 413")
        ("max-header-bytes", po::value(&o.max_header_bytes)->default_value(o.max_header_bytes)->value_name("N"), "larger request headers get 431")
        ("max-json-depth", po::value(&o.max_json_depth)->default_value(o.max_json_depth)->value_name("N"), "deeper JSON bodies get 400 (1..1000)")
        ("max-string-bytes", po::value(&o.max_string_bytes)->default_value(o.max_string_bytes)->value_name("N"), "a longer JSON string or key anywhere in a body gets 400")
        ("max-id-bytes", po::value(&o.max_id_bytes)->default_value(o.max_id_bytes)->value_name("N"), "a longer id, service_required, customer_id, workflow_id, worker_id or worker_type gets 400")
        ("max-requirements-bytes", po::value(&o.max_requirements_bytes)->default_value(o.max_requirements_bytes)->value_name("N"), "a job whose requirements are longer as JSON text gets 400")
        ("max-pending-jobs", po::value(&o.max_pending_jobs)->default_value(o.max_pending_jobs)->value_name("N"), "a submission when this many jobs wait (pending or retrying) gets 429 with Retry-After")
        ("max-pending-per-type", po::value(&o.max_pending_per_type)->default_value(o.max_pending_per_type)->value_name("N"), "... or when this many jobs of its service_required wait")
        ("max-connections", po::value(&o.max_connections)->default_value(o.max_connections)->value_name("N"), "open HTTP and WebSocket connections; more get 503 with Retry-After and are closed")
        ("header-timeout-ms", po::value(&o.header_timeout_ms)->default_value(o.header_timeout_ms)->value_name("N"), "a request's header must arrive within this of its first byte (a new connection's: of the accept), else the connection is closed")
        ("idle-timeout-ms", po::value(&o.idle_timeout_ms)->default_value(o.idle_timeout_ms)->value_name("N"), "a kept-alive connection with no request for this long is closed")
        ("read-timeout-ms", po::value(&o.read_timeout_ms)->default_value(o.read_timeout_ms)->value_name("N"), "a whole request (header and body) must arrive within this of its first byte, else the connection is closed")
        ("write-timeout-ms", po::value(&o.write_timeout_ms)->default_value(o.write_timeout_ms)->value_name("N"), "a reply the client does not take within this closes the connection")
        ("max-ws-queue", po::value(&o.max_ws_queue)->default_value(o.max_ws_queue)->value_name("N"), "a /ws/events client more than N events behind is dropped")
        ("max-ws-message-bytes", po::value(&o.max_ws_message_bytes)->default_value(o.max_ws_message_bytes)->value_name("N"), "a larger message from a /ws/events client closes its connection")
        ("port-file", po::value(&o.port_file)->value_name("FILE"), "write the bound port to FILE once listening")
        ("simulate", po::bool_switch(&o.simulate), "also run the simulation service (as `jobrouter simulate`) on loopback, for the simulation connectors")
        ("simulate-http-port", po::value(&o.simulate_http_port)->default_value(o.simulate_http_port)->value_name("PORT"), "its HTTP port (the mapping's SIMULATION_HTTP_PORT)")
        ("simulate-ws-port", po::value(&o.simulate_ws_port)->default_value(o.simulate_ws_port)->value_name("PORT"), "its WebSocket port (the mapping's SIMULATION_WS_PORT)");
    return d;
}

// JOBROUTER_LEASE_MS -> lease-ms; WORKERS -> workers; anything else is not ours.
std::string env_to_option(const po::options_description& d, const std::string& var) {
    if (var == "WORKERS") return "workers";
    // The names the mapping's ${...} use, so that the service listens where the connectors go.
    if (var == "SIMULATION_HTTP_PORT") return "simulate-http-port";
    if (var == "SIMULATION_WS_PORT") return "simulate-ws-port";
    const std::string prefix = "JOBROUTER_";
    if (var.rfind(prefix, 0) != 0) return "";
    std::string name;
    for (char c : var.substr(prefix.size())) name += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "help" || !d.find_nothrow(name, false)) return "";
    return name;
}

// Large enough for any real setting, small enough that adding it to a time never overflows.
constexpr std::int64_t kMaxMs = 365LL * 24 * 3600 * 1000;  // a year
constexpr std::int64_t kMaxCount = 1LL << 40;

result<void> within(std::int64_t v, std::int64_t lo, std::int64_t hi, const char* option) {
    if (v < lo || v > hi)
        return make_error(option, "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                                      std::to_string(v));
    return {};
}

}  // namespace

std::string serve_help() {
    serve_options defaults;
    std::ostringstream out;
    out << "Usage: jobrouter serve [options]\n\n"
           "Runs the scheduler: the HTTP API and /ws/events on --listen, in-process workers from\n"
           "--workers, leases and retries on the wall clock. SIGINT/SIGTERM stop it gracefully.\n\n"
        << describe_options(defaults);
    return out.str();
}

result<serve_options> parse_serve_options(const std::vector<std::string>& args, const env_lookup& env, bool& help) {
    serve_options o;
    po::options_description d = describe_options(o);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(d).run(), vm);
        help = vm.count("help") > 0;
        if (help) return o;
        // The environment is read through the injected lookup, not environ: the variables we
        // know are asked for by name.
        std::vector<std::string> names{"WORKERS", "SIMULATION_HTTP_PORT", "SIMULATION_WS_PORT"};
        for (const auto& opt : d.options()) {
            std::string var = "JOBROUTER_";
            for (char c : opt->long_name()) var += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            names.push_back(var);
        }
        // One variable at a time, so that an error names the variable.
        for (const auto& var : names) {
            const std::string option = env_to_option(d, var);
            if (option.empty()) continue;  // po::store keeps values that are already set
            if (auto value = env(var); value && !value->empty()) {
                try {
                    po::store(po::command_line_parser(std::vector<std::string>{"--" + option + "=" + *value}).options(d).run(), vm);
                } catch (const po::error& e) {
                    return make_error(var, e.what());
                }
            }
        }
        std::string config;
        if (vm.count("config")) config = vm["config"].as<std::string>();
        if (!config.empty()) {
            std::ifstream file(config);
            if (!file) return make_error("--config", "cannot open " + quoted(config));
            try {
                po::store(po::parse_config_file(file, d), vm);
            } catch (const po::error& e) {
                return make_error("--config " + config, e.what());
            }
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return make_error("usage", e.what());
    }
    for (auto check : {within(o.scheduling.lease_ms, 1, kMaxMs, "--lease-ms"),
                       within(o.scheduling.retry_backoff_ms, 0, kMaxMs, "--retry-backoff-ms"),
                       within(o.scheduling.retry_backoff_max_ms, 0, kMaxMs, "--retry-backoff-max-ms"),
                       within(o.retention_ms, 0, kMaxMs, "--retention-ms"), within(o.retention_count, 0, kMaxCount, "--retention-count"),
                       within(o.worker_timeout_ms, 1, kMaxMs, "--worker-timeout-ms"),
                       within(o.shutdown_grace_ms, 0, kMaxMs, "--shutdown-grace-ms"), within(o.max_wait_ms, 0, kMaxMs, "--max-wait-ms"),
                       within(o.max_body_bytes, 1, 1LL << 30, "--max-body-bytes"),
                       within(o.max_header_bytes, 1024, 1LL << 20, "--max-header-bytes"),
                       within(o.max_json_depth, 1, 1000, "--max-json-depth"),
                       within(o.max_string_bytes, 1, 1LL << 30, "--max-string-bytes"),
                       within(o.max_id_bytes, 1, 1LL << 20, "--max-id-bytes"),
                       within(o.max_requirements_bytes, 2, 1LL << 30, "--max-requirements-bytes"),
                       within(o.max_pending_jobs, 1, kMaxCount, "--max-pending-jobs"),
                       within(o.max_pending_per_type, 1, kMaxCount, "--max-pending-per-type"),
                       within(o.max_connections, 1, 1000000, "--max-connections"),
                       within(o.header_timeout_ms, 1, kMaxMs, "--header-timeout-ms"),
                       within(o.idle_timeout_ms, 1, kMaxMs, "--idle-timeout-ms"),
                       within(o.read_timeout_ms, 1, kMaxMs, "--read-timeout-ms"),
                       within(o.write_timeout_ms, 1, kMaxMs, "--write-timeout-ms"),
                       within(o.max_ws_queue, 1, kMaxCount, "--max-ws-queue"),
                       within(o.max_ws_message_bytes, 1, 1LL << 30, "--max-ws-message-bytes"),
                       within(o.simulate_http_port, 0, 65535, "--simulate-http-port"),
                       within(o.simulate_ws_port, 0, 65535, "--simulate-ws-port"),
                       within(o.store_timeout_ms, 1, 600000, "--store-timeout-ms")}) {
        if (!check) return check.error();
    }
    // Tokens: checked without ever being echoed.
    for (auto [token, option] : {std::pair{&o.auth_token, "--auth-token"}, std::pair{&o.worker_token, "--worker-token"}}) {
        if (token->empty()) continue;
        if (auto problem = check_token_syntax(*token); !problem.empty()) return make_error(option, problem);
    }
    if (!o.auth_token.empty() && o.auth_token == o.worker_token)
        return make_error("--worker-token", "must differ from --auth-token (else clients could call worker routes and workers client routes)");
    if (o.log_format != "text" && o.log_format != "json")
        return make_error("--log-format", "must be text or json, got " + quoted(o.log_format));
    if (o.log_level != "debug" && o.log_level != "info" && o.log_level != "warn" && o.log_level != "error")
        return make_error("--log-level", "must be debug, info, warn or error, got " + quoted(o.log_level));
    if (o.store != "memory" && !redis::is_redis_url(o.store))
        return make_error("--store", "must be memory or redis://HOST:PORT/DB, got " + quoted(o.store));
    if (o.store != "memory")
        if (auto url = redis::parse_redis_url(o.store, "--store"); !url) return url.error();
    if (o.listen.rfind(':') == std::string::npos)
        return make_error("--listen", "must be HOST:PORT, got " + quoted(o.listen));
    return o;
}

}  // namespace jobrouter
