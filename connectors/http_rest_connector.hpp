// http_rest_connector: a generic REST connector ("HttpRestConnector" in service-mapping.json),
// configured per service in `services.<s>.api_config`, enough to reach an OpenAI-compatible
// chat service (one POST, the reply's `choices[0].message.content` is the result) or a
// ComfyUI-like one (POST /prompt -> prompt_id, then poll GET /history/{id}). It speaks plain
// HTTP/1.1 with Beast on the io_context it is built with (one fresh connection per request);
// https URLs are refused with a clear error (no TLS in this build).
//
// Config keys (defaults in http_rest_settings.hpp; every number may be a string of digits, as ${VAR} leaves it; `{{...}}` are
// placeholders filled from the job at use, see request_template.hpp):
//   url                  required; "http://host[:port]/path?query", may hold placeholders
//   method               GET, POST (default), PUT, PATCH or DELETE
//   headers              {"Name": "value"}, values may hold placeholders, e.g.
//                        "Bearer {{env.OPENAI_API_KEY}}" (an unset variable fails the job, not
//                        retryable, naming it)
//   body                 a JSON template; absent = the job's payload as it is (sent for POST,
//                        PUT and PATCH; with GET or DELETE only when `body` is given)
//   result_path          where the result is in the (last) reply; absent = the whole reply
//   request_timeout_ms   deadline of each step of each request: resolve, connect, write, read
//                        (default 30000)
//   total_timeout_ms     deadline of the whole job, retries and polling included (default 600000)
//   max_attempts         tries of one request on a connect error or a 5xx (default 3), with
//   retry_backoff_ms     a wait of retry_backoff_ms * 2^(k-1) (default 500), at most
//   retry_backoff_max_ms retry_backoff_max_ms (default 10000)
//   max_response_bytes   a larger reply fails the job (default 16 MiB)
//   poll                 optional; submit-then-poll:
//     id_path            where the submitted job's id is in the submit reply (required)
//     url                poll URL template, e.g. "http://h:8188/history/{{id}}" (required)
//     interval_ms        wait before each poll (default 1000)
//     status_path        where the status is in a poll reply (required; may use {{id}});
//                        absent from a reply = still running
//     done_values        statuses meaning done (default ["completed","succeeded","success","done"])
//     failed_values      statuses meaning failed (default ["failed","error"])
//     running_values     when given, any status in none of the three lists fails the job
//     progress_path      a number 0..100 in a poll reply, reported as progress
//     error_path         what to quote from a failed reply
//     failure_retryable  whether a failure the service reports may be retried (default false)
// Outcomes: a connect error (refused, unreachable, connect timeout) or a 5xx is retried in the
// connector up to max_attempts, then fails retryable; a step timeout, a connection closed before
// the reply was complete and the total timeout fail retryable at once (the request may have been
// received, so it is not repeated); a 4xx fails not retryable with the status and the start of
// the body; a reply that is not JSON, or lacks id_path or result_path, fails not retryable; bad
// config fails not retryable naming the field.
//
// Executor: the io_context it is built with; every callback is posted there, never made from
// inside start() or cancel(). Ownership: the caller owns the connector (one per job); network
// handlers share its run state, so destroying it (which cancels) while one is queued is safe,
// and after cancel() (or destruction) no callback is made. cancel() closes the connection.
#pragma once

#include "connectors/connector.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string_view>

namespace jobrouter {

namespace detail {
struct rest_run;
}

class http_rest_connector final : public connector {
public:
    static constexpr std::string_view kName = "HttpRestConnector";

    explicit http_rest_connector(boost::asio::io_context& io);
    ~http_rest_connector() override;
    http_rest_connector(const http_rest_connector&) = delete;
    http_rest_connector& operator=(const http_rest_connector&) = delete;

    std::string_view name() const override { return kName; }
    /// Starts the job (once per connector object); returns at once.
    void start(connector_job job, connector_callbacks callbacks) override;
    /// Closes the connection and stops every timer; no callback follows.
    void cancel() override;

private:
    std::shared_ptr<detail::rest_run> run_;
};

}  // namespace jobrouter
