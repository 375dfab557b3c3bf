// embedded_mapping: config/service-mapping.json, compiled into the binary at build time
// (cmake/embed_file.cmake). It is the mapping every command uses without --mapping.
#pragma once

#include <string_view>

namespace jobrouter {

extern const std::string_view kEmbeddedMapping;

inline constexpr const char* kEmbeddedMappingName = "<embedded config/service-mapping.json>";

}  // namespace jobrouter
