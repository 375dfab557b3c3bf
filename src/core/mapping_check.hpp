// mapping_check: the analysis behind `jobrouter check-config` (service-mapping.md
// "check-config: errors and warnings"). Sans-I/O: it gets a loaded mapping, the strategies to
// check, the WORKERS value and the connector names of this build, and returns findings and the
// routing table; the command prints them.
//
// Findings are the loader's own diagnostics (each given a fix) plus what only a strategy or
// the build can tell: job types a service accepts that no worker type can take, worker-level
// routes that disagree with their service, connectors this build lacks, settings a connector
// cannot use, worker types that offer nothing, and a bad WORKERS value. Each problem is reported once.
#pragma once

#include "core/service_mapping.hpp"
#include "strategies/strategy.hpp"

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace jobrouter {

struct finding {
    using severity = mapping_diagnostic::severity;
    severity level = severity::warning;
    std::string path;     ///< "<file>: <json path>", or the option ("--workers", "WORKERS")
    std::string message;  ///< what is wrong, naming the worker types, services and strategy
    std::string fix;      ///< the likely fix; "" when there is nothing to add to the message
};

/// One line of the routing table: jobs with service_required == `job` are taken by
/// `worker_types` and run on `service` through `connector`.
struct summary_row {
    std::string job;
    std::vector<std::string> worker_types;  ///< sorted; empty: a job type a service accepts that no worker type takes
    std::string service;
    std::string connector;        ///< "" when the service has none or is unknown
    bool service_defined = true;  ///< `service` is a key of `services`
    bool connector_built = true;  ///< `connector` is one this build has

    bool operator==(const summary_row&) const = default;
};

struct strategy_summary {
    std::string strategy;
    std::vector<summary_row> rows;  ///< sorted by job, then service
};

struct check_options {
    std::vector<const strategy*> strategies;
    std::string workers_spec;                ///< WORKERS / --workers; blank: every worker type
    std::string workers_origin = "WORKERS";  ///< the path of WORKERS errors
    std::set<std::string> built_connectors;
    /// The connector's own reading of a service's settings (services.<s>.api_config), for
    /// services whose connector is built; an error becomes an error finding. Unset: not checked
    /// (the core knows no connector; connectors/connector_registry.hpp has the real one).
    std::function<std::optional<error>(const service_def&)> check_service_config;
};

struct check_report {
    std::vector<finding> findings;            ///< errors first, then warnings; otherwise in the order found
    std::vector<strategy_summary> summaries;  ///< one per checked strategy, in the given order

    std::size_t count(finding::severity level) const;
};

check_report check_mapping(const service_mapping& mapping, const check_options& options);

}  // namespace jobrouter
