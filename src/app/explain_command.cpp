// jobrouter explain: why a job is not being taken (or a worker takes nothing), asked of a
// running `jobrouter serve` (GET /api/jobs/{id}/explain, GET /api/workers/{id}/explain).
#include "app/client_util.hpp"
#include "app/command.hpp"
#include "core/scheduler.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>

namespace po = boost::program_options;

namespace jobrouter {

namespace {

std::string text_of(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

std::string field(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v ? text_of(*v) : std::string{};
}

// "R3a hardware: gpu_memory_gb needs 24, worker has 16", or the detail alone when no rule failed.
std::string reason(const json::object& o) {
    const json::value* rule = o.if_contains("rule");
    if (!rule || !rule->is_string()) return field(o, "detail");
    const std::string r(rule->get_string());
    return r + " " + std::string(rule_title(r)) + ": " + field(o, "detail");
}

// One "<id>  <reason>" line per entry, ids padded to one column.
void print_rows(std::ostream& out, const json::array& rows, std::string_view id_key) {
    std::size_t width = 0;
    for (const auto& row : rows) width = std::max(width, field(row.as_object(), id_key).size());
    for (const auto& row : rows) {
        const std::string id = field(row.as_object(), id_key);
        out << id << std::string(width - id.size() + 2, ' ') << reason(row.as_object()) << "\n";
    }
}

}  // namespace

int run_explain_command(const std::vector<std::string>& args) {
    std::string server = client::default_server(), auth_token = client::default_auth_token(), job_id, worker_id;
    std::size_t limit = 10;
    bool as_json = false;
    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help and exit")
        ("server", po::value(&server)->default_value(server)->value_name("HOST:PORT"), "the server (env JOBROUTER_SERVER)")
        ("auth-token", po::value(&auth_token)->value_name("TOKEN"), client::kAuthTokenHelp)
        ("worker", po::value(&worker_id)->value_name("WORKER_ID"), "explain a worker instead: the pending jobs it cannot take")
        ("limit", po::value(&limit)->default_value(limit)->value_name("N"), "with --worker: look at the first N pending jobs (1..1000)")
        ("json", po::bool_switch(&as_json), "print the server's JSON reply instead");
    po::options_description hidden;
    hidden.add_options()("job", po::value(&job_id));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description positional;
    positional.add("job", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        if (vm.count("help")) {
            std::cout << "Usage: jobrouter explain JOB_ID [options]\n"
                         "       jobrouter explain --worker WORKER_ID [options]\n\n"
                         "Why a job is not being taken: a verdict, then each registered worker and the first rule\n"
                         "that keeps it from the job (R1 workflow, R2 service, R3a hardware, R3b isolation,\n"
                         "R3c customer, R3d models, R3e capability, R4 negative), or \"would match\" and whether\n"
                         "it is idle, busy or waiting. With --worker: the pending jobs, in rank order, that this\n"
                         "worker cannot take, and why.\n\n"
                      << opts;
            return kExitOk;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return client::usage_error("explain", e.what());
    }
    if (job_id.empty() == worker_id.empty()) return client::usage_error("explain", "give either JOB_ID or --worker WORKER_ID");
    if (limit < 1 || limit > 1000) return client::usage_error("explain", "--limit: must be in 1..1000");

    auto http = client::connect_to("explain", server, auth_token);
    if (!http) return kExitUsage;
    const std::string target = job_id.empty() ? "/api/workers/" + worker_id + "/explain?limit=" + std::to_string(limit)
                                              : "/api/jobs/" + job_id + "/explain";
    auto got = client::call(http->get(target));
    if (!got) {
        std::cerr << "jobrouter explain: " << got.error().text() << "\n";
        return kExitFailure;
    }
    if (as_json) {
        std::cout << json::serialize(*got) << "\n";
        return kExitOk;
    }
    const json::object& o = got->as_object();
    if (!job_id.empty()) {
        std::cout << field(o, "verdict") << "\n";
        print_rows(std::cout, o.at("workers").as_array(), "worker_id");
        return kExitOk;
    }
    const json::array& jobs = o.at("jobs").as_array();
    if (jobs.empty()) {
        std::cout << "worker " << quoted(worker_id) << " can take each of the first " << limit << " pending jobs (if any)\n";
        return kExitOk;
    }
    std::cout << "worker " << quoted(worker_id) << " cannot take " << jobs.size() << " of the first " << limit
              << " pending jobs:\n";
    print_rows(std::cout, jobs, "job_id");
    return kExitOk;
}

}  // namespace jobrouter
