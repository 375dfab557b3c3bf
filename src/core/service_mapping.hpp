// service_mapping: the model of service-mapping.json (../shared/docs/service-mapping.md).
//
// Both shapes found in the wild (the seed's and EMP's) load into one model: for each worker
// type, its advertised services and its list of routes (job_type, service, connector).
// Loading never touches the file system or the environment itself: the caller passes the
// text, a name for messages, and an environment lookup (sans-I/O; see load_mapping_file in
// the app layer for the file version).
//
// Diagnostics that do not stop loading (an unset variable, a route to an unknown service, a
// connector missing from a present `connectors` section, duplicate routes, empty route
// lists) are collected in `diagnostics`; check-config reports them, replay ignores them.
#pragma once

#include "core/error.hpp"

#include <boost/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter {

/// One way a worker type takes a job: jobs with service_required == job_type run on
/// `service` through `connector` ("" when the service or its connector is unknown).
struct route {
    std::string job_type;
    std::string service;
    std::string connector;
    std::string json_path;  ///< where the route came from, e.g. "workers.sim.job_types_accepted[1]"
};

/// Where a worker type's routes came from (service-mapping.md "Routes of a worker type").
enum class route_source { job_service_required_map, job_types_accepted, services };

struct worker_type {
    std::string name;
    std::vector<std::string> services;  ///< workers.<type>.services (offered under service-name)
    std::vector<route> routes;          ///< in file order, duplicates kept (the first one wins)
    route_source source = route_source::services;
    boost::json::object raw;            ///< the whole entry, after ${VAR} substitution

    /// The job types of its routes, in route order, without duplicates (offered under job-type).
    std::vector<std::string> job_types() const;
    /// The first route whose job_type is `job_type` (the one that wins over duplicates), or null.
    const route* find_route(std::string_view job_type) const;
};

struct service_def {
    std::string name;
    std::string connector;                        ///< "" when absent
    std::vector<std::string> job_types_accepted;  ///< services.<s>.job_types_accepted
    bool declares_job_types = false;              ///< the key is present
    boost::json::object raw;                      ///< the whole entry, after substitution
};

struct mapping_diagnostic {
    enum class severity { warning, error };
    severity level = severity::warning;
    std::string path;     ///< "<source name>: <json path>"
    std::string message;  ///< what is wrong and, where known, how to fix it
};

struct service_mapping {
    std::string source_name;                     ///< file name or "<embedded default>"
    std::map<std::string, worker_type> workers;  ///< by worker type name
    std::map<std::string, service_def> services;
    std::optional<boost::json::object> connectors;  ///< the `connectors` section, when present
    boost::json::object raw;                        ///< the whole document, after substitution
    std::vector<mapping_diagnostic> diagnostics;

    const worker_type* find_worker_type(std::string_view name) const;
    const service_def* find_service(std::string_view name) const;
    /// "a, b, c": the worker type names, for error messages.
    std::string worker_type_list() const;
};

/// Looks up an environment variable; nullopt when unset (set to "" is a value).
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// Parses and validates a mapping document. Errors (invalid JSON, a section or entry of the
/// wrong type, a malformed route entry) name `source_name` and the JSON path.
result<service_mapping> load_mapping(std::string_view text, const std::string& source_name,
                                     const env_lookup& env);

/// Replaces ${NAME} and ${NAME:-default} inside every string value (never keys) of `doc`.
/// Each unset variable without a default becomes "" and adds a warning naming the variable
/// and the JSON path.
void substitute_env(boost::json::value& doc, const env_lookup& env, const std::string& source_name,
                    std::vector<mapping_diagnostic>& diagnostics);

}  // namespace jobrouter
