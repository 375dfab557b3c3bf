// connector_names: the connectors this build ships, by the names service-mapping.json gives
// them in `services.<s>.connector`. check-config warns about a service whose connector is not
// here (service-mapping.md: "a connector this build lacks" is a warning, fatal only in serve).
#pragma once

#include <string>
#include <vector>

namespace jobrouter {

/// The connector names this build provides, in a fixed order.
const std::vector<std::string>& built_in_connector_names();

}  // namespace jobrouter
