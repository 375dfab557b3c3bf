// http_rest_settings: HttpRestConnector's config, read and checked in one place from
// `services.<s>.api_config` (the keys and their defaults are listed in http_rest_connector.hpp).
// Templates and paths are kept as text here: they are rendered per job (request_template.hpp),
// because they may refer to the job and to the id a submit returns.
#pragma once

#include "connectors/connector.hpp"
#include "core/error.hpp"

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace jobrouter {

struct rest_poll_settings {
    std::string id_path;       ///< in the submit reply
    std::string url;           ///< template; {{id}} is the submitted id
    std::chrono::milliseconds interval{1000};
    std::string status_path;   ///< template (may use {{id}})
    std::vector<std::string> done_values{"completed", "succeeded", "success", "done"};
    std::vector<std::string> failed_values{"failed", "error"};
    std::optional<std::vector<std::string>> running_values;  ///< when set, other statuses fail
    std::string progress_path;  ///< template; "" for none
    std::string error_path;     ///< template; "" for none
    bool failure_retryable = false;
};

struct rest_settings {
    std::string field;  ///< "services.<s>.api_config", the prefix of every error path
    std::string url;    ///< template
    boost::beast::http::verb method = boost::beast::http::verb::post;
    std::vector<std::pair<std::string, std::string>> headers;  ///< name, value template
    std::optional<boost::json::value> body;                   ///< template; nullopt = the payload
    std::optional<std::string> result_path;                   ///< template; nullopt = whole reply
    std::chrono::milliseconds request_timeout{30000};
    std::chrono::milliseconds total_timeout{600000};
    std::int64_t max_attempts = 3;
    std::chrono::milliseconds retry_backoff{500};
    std::chrono::milliseconds retry_backoff_max{10000};
    std::size_t max_response_bytes = 16 * 1024 * 1024;
    std::optional<rest_poll_settings> poll;
};

/// The settings of `job.service_config`; an error names the field (not retryable: the config
/// is the same on every attempt).
result<rest_settings> read_rest_settings(const connector_job& job);

}  // namespace jobrouter
