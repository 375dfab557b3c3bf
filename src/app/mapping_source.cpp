#include "app/mapping_source.hpp"

#include "core/embedded_mapping.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace jobrouter {

env_lookup process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    };
}

result<service_mapping> load_mapping_source(const std::string& path, const env_lookup& env) {
    if (path.empty()) return load_mapping(kEmbeddedMapping, kEmbeddedMappingName, env);
    std::ifstream file(path, std::ios::binary);
    if (!file) return make_error(path, std::string("cannot open the mapping file: ") + std::strerror(errno));
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) return make_error(path, "cannot read the mapping file");
    return load_mapping(text.str(), path, env);
}

}  // namespace jobrouter
