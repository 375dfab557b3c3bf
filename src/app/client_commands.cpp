// jobrouter submit / jobrouter status: a CLI client of a running `jobrouter serve`.
#include "app/client_util.hpp"
#include "app/command.hpp"
#include "core/json_util.hpp"

#include <boost/program_options.hpp>

#include <cstdlib>
#include <iostream>
#include <thread>

namespace po = boost::program_options;

namespace jobrouter {

using client::call;
using client::connect_to;
using client::default_server;
using client::usage_error;

int run_submit_command(const std::vector<std::string>& args) {
    std::string server = default_server(), auth_token = client::default_auth_token(), service, payload = "null", requirements, id;
    int priority = -1;
    bool wait = false;
    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help and exit")
        ("server", po::value(&server)->default_value(server)->value_name("HOST:PORT"), "the server (env JOBROUTER_SERVER)")
        ("auth-token", po::value(&auth_token)->value_name("TOKEN"), client::kAuthTokenHelp)
        ("service", po::value(&service)->value_name("NAME"), "service_required of the job (required)")
        ("payload", po::value(&payload)->default_value(payload)->value_name("JSON"), "the job's payload")
        ("requirements", po::value(&requirements)->value_name("JSON"), "the job's requirements object")
        ("priority", po::value(&priority)->value_name("N"), "0..1023 (default 50)")
        ("id", po::value(&id)->value_name("ID"), "client job id: resubmitting the same job is idempotent")
        ("wait", po::bool_switch(&wait), "wait until the job ends, printing its progress; exit 1 unless it completed");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(opts).run(), vm);
        if (vm.count("help")) {
            std::cout << "Usage: jobrouter submit --service NAME [options]\n\nSubmits a job to a running jobrouter serve and prints its id.\n\n" << opts;
            return kExitOk;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return usage_error("submit", e.what());
    }
    if (service.empty()) return usage_error("submit", "--service is required");
    json::object body{{"service_required", service}};
    auto payload_json = parse_strict(payload);
    if (!payload_json) return usage_error("submit", "--payload: " + payload_json.error().message);
    body["payload"] = *payload_json;
    if (!requirements.empty()) {
        auto r = parse_strict(requirements);
        if (!r) return usage_error("submit", "--requirements: " + r.error().message);
        body["requirements"] = *r;
    }
    if (vm.count("priority")) body["priority"] = priority;
    if (!id.empty()) body["id"] = id;

    auto client = connect_to("submit", server, auth_token);
    if (!client) return kExitUsage;
    auto submitted = call(client->post("/api/jobs", json::serialize(body)));
    if (!submitted) {
        std::cerr << "jobrouter submit: " << submitted.error().text() << "\n";
        return kExitFailure;
    }
    const std::string job_id(submitted->at("job_id").as_string());
    std::cout << job_id << "\n";
    if (const auto* warnings = submitted->as_object().if_contains("warnings"); warnings && warnings->is_array())
        for (const auto& w : warnings->get_array())
            std::cerr << "warning: " << (w.is_string() ? std::string(w.get_string()) : json::serialize(w)) << "\n";
    if (!wait) return kExitOk;
    std::int64_t last_progress = -1;
    std::string last_status;
    for (;;) {
        auto got = call(client->get("/api/jobs/" + job_id));
        if (!got) {
            std::cerr << "jobrouter submit: " << got.error().text() << "\n";
            return kExitFailure;
        }
        const json::object& job = got->at("job").as_object();
        const std::string status(job.at("status").as_string());
        const std::int64_t progress = job.at("progress").to_number<std::int64_t>();
        if (status != last_status || progress != last_progress)
            std::cerr << job_id << ": " << status << " " << progress << "%\n";
        last_status = status;
        last_progress = progress;
        if (status == "completed") {
            std::cout << json::serialize(job.contains("result") ? job.at("result") : json::value(nullptr)) << "\n";
            return kExitOk;
        }
        if (status == "failed" || status == "cancelled") {
            if (job.contains("error")) std::cerr << "error: " << json::serialize(job.at("error")) << "\n";
            return kExitFailure;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

int run_status_command(const std::vector<std::string>& args) {
    std::string server = default_server(), auth_token = client::default_auth_token(), job_id;
    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help and exit")(
        "server", po::value(&server)->default_value(server)->value_name("HOST:PORT"), "the server (env JOBROUTER_SERVER)")(
        "auth-token", po::value(&auth_token)->value_name("TOKEN"), client::kAuthTokenHelp);
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
            std::cout << "Usage: jobrouter status [JOB_ID] [options]\n\nWith JOB_ID: that job as JSON. Without: the server's "
                         "health, workers and most recent jobs.\n\n"
                      << opts;
            return kExitOk;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return usage_error("status", e.what());
    }
    auto client = connect_to("status", server, auth_token);
    if (!client) return kExitUsage;
    auto show = [&](const std::string& target) -> bool {
        auto got = call(client->get(target));
        if (!got) {
            std::cerr << "jobrouter status: " << got.error().text() << "\n";
            return false;
        }
        std::cout << json::serialize(*got) << "\n";
        return true;
    };
    if (!job_id.empty()) return show("/api/jobs/" + job_id) ? kExitOk : kExitFailure;
    return show("/health") && show("/api/workers") && show("/api/jobs?limit=20") ? kExitOk : kExitFailure;
}

}  // namespace jobrouter
