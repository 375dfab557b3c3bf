#include "connectors/connector_names.hpp"

#include "connectors/connector_registry.hpp"

namespace jobrouter {

// One source of truth: the registry. check-config trusts this list to tell which services can
// run in this binary, so it is exactly what make_connector can build, never a hand-kept copy.
const std::vector<std::string>& built_in_connector_names() {
    static const std::vector<std::string> names = connector_registry_names();
    return names;
}

}  // namespace jobrouter
