#include "connectors/connector_registry.hpp"

#include "connectors/command_connector.hpp"
#include "connectors/command_settings.hpp"
#include "connectors/http_rest_connector.hpp"
#include "connectors/http_rest_settings.hpp"
#include "connectors/mock_connector.hpp"
#include "connectors/simulation_http_connector.hpp"
#include "connectors/simulation_websocket_connector.hpp"
#include "core/json_util.hpp"

#include <functional>
#include <utility>

namespace jobrouter {

namespace {

using factory = std::function<std::unique_ptr<connector>(boost::asio::io_context&)>;

// Only connectors that really exist are listed: check-config trusts these names (through
// built_in_connector_names) to say which services can run in this binary, so a name added
// here before its class exists would hide a real problem until serve fails.
const std::vector<std::pair<std::string_view, factory>>& registry() {
    static const std::vector<std::pair<std::string_view, factory>> entries{
        {mock_connector::kName, [](boost::asio::io_context& io) { return std::make_unique<mock_connector>(io); }},
        // The two simulation services' protocols: they talk to the service at
        // services.<s>.api_config (`jobrouter simulate`, or one that serve starts in-process).
        {simulation_http_connector::kName,
         [](boost::asio::io_context& io) { return std::make_unique<simulation_http_connector>(io); }},
        {simulation_websocket_connector::kName,
         [](boost::asio::io_context& io) { return std::make_unique<simulation_websocket_connector>(io); }},
        // Generic: any REST service, configured in services.<s>.api_config.
        {http_rest_connector::kName, [](boost::asio::io_context& io) { return std::make_unique<http_rest_connector>(io); }},
        // Generic: a local program per job (payload on stdin, result on stdout).
        {command_connector::kName, [](boost::asio::io_context& io) { return std::make_unique<command_connector>(io); }},
    };
    return entries;
}

// The connectors that read required settings when a job starts, and their readers.
using config_reader = std::function<std::optional<error>(const connector_job&)>;

template <class Read>
config_reader reader(Read read) {
    return [read](const connector_job& job) -> std::optional<error> {
        auto settings = read(job);
        if (!settings) return settings.error();
        return std::nullopt;
    };
}

const std::vector<std::pair<std::string_view, config_reader>>& config_readers() {
    static const std::vector<std::pair<std::string_view, config_reader>> entries{
        {http_rest_connector::kName, reader(read_rest_settings)},
        {command_connector::kName, reader(read_command_settings)},
    };
    return entries;
}

}  // namespace

std::optional<error> check_connector_config(std::string_view name, const service_def& service) {
    for (const auto& [entry_name, read] : config_readers()) {
        if (entry_name != name) continue;
        connector_job job;
        job.service = service.name;
        job.service_config = service.raw;
        return read(job);
    }
    return std::nullopt;
}

std::vector<std::string> connector_registry_names() {
    std::vector<std::string> names;
    for (const auto& [name, make] : registry()) names.emplace_back(name);
    return names;
}

bool has_connector(std::string_view name) {
    for (const auto& [entry_name, make] : registry())
        if (entry_name == name) return true;
    return false;
}

result<std::unique_ptr<connector>> make_connector(std::string_view name, boost::asio::io_context& io) {
    std::string known;
    for (const auto& [entry_name, make] : registry()) {
        if (entry_name == name) return make(io);
        known += (known.empty() ? "" : ", ") + std::string(entry_name);
    }
    return make_error("connector", "unknown connector " + quoted(name) + " (this build has: " + known + ")");
}

}  // namespace jobrouter
