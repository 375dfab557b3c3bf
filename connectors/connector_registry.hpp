// connector_registry: builds a connector by the name service-mapping.json gives it in
// `services.<s>.connector` (service-mapping.md "Which connector runs a claimed job").
//
// The only place that knows the concrete connector classes, like strategy_registry for
// strategies. connector_names.cpp derives check-config's list of built-in connectors from
// connector_registry_names(), so the two can never disagree.
//
// A built connector belongs to its caller (one connector object per job) and runs on the
// io_context it was built with.
#pragma once

#include "connectors/connector.hpp"
#include "core/error.hpp"
#include "core/service_mapping.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobrouter {

/// The names make_connector knows, in the registry's fixed order.
std::vector<std::string> connector_registry_names();

/// Whether make_connector knows `name`.
bool has_connector(std::string_view name);

/// A new connector for one job, running on `io`. An unknown name is an error (path
/// "connector") that lists the names this build knows.
result<std::unique_ptr<connector>> make_connector(std::string_view name, boost::asio::io_context& io);

/// What is wrong with `service`'s settings (its api_config) for connector `name`, read exactly
/// as the connector reads them when a job starts; nullopt when they are usable, or when the
/// connector reads nothing at start (the simulation and mock connectors have defaults for all).
std::optional<error> check_connector_config(std::string_view name, const service_def& service);

}  // namespace jobrouter
