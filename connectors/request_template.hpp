// request_template: fills HttpRestConnector's templates (URLs, header values, the JSON body,
// the reply paths that contain the submitted id) from the job and the environment.
//
// A placeholder is `{{path}}` (spaces inside the braces are ignored). The path's first key picks
// a root of the scope: `payload`, `job_id`, `job_type`, `service`, `job` (the whole job as the
// API shows it), `id` (the id a submit-then-poll service returned), or `env.NAME`: the
// environment variable NAME, read when the template is rendered. The rest of the path is a
// json_path into that root (`payload.messages`, `job.customer_id`, `payload.images[0]`).
//
// - In text (URL, header value, a string inside the body), the value is inserted: a string as
//   it is, anything else as compact JSON; in a URL it is percent-encoded first.
// - In the JSON body, a string that is exactly one placeholder ("{{payload.messages}}") is
//   replaced by the value itself, of whatever JSON type; other strings are text as above; keys
//   are never rendered.
// A placeholder whose value is missing, an unset environment variable, an unknown root or an
// unterminated "{{" is an error naming the config field and the placeholder: the job cannot be
// sent as configured, and another attempt would meet the same input.
//
// `{{...}}` was chosen over `${...}` because the mapping loader substitutes `${VAR}` in every
// string of service-mapping.json when the file is loaded (service-mapping.md), long before a job
// exists; `{{env.NAME}}` is the form that is read at use and fails loudly when unset.
#pragma once

#include "core/error.hpp"

#include <boost/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace jobrouter {

/// What placeholders can refer to.
struct template_scope {
    boost::json::object roots;  ///< payload, job_id, job_type, service, job, id
    /// The environment; the process environment (getenv) when empty.
    std::function<std::optional<std::string>(const std::string& name)> env;
};

/// Percent-encodes an inserted value (URLs); identity when empty.
using text_encoder = std::function<std::string(std::string_view)>;

/// `text` with every placeholder filled in; `field` names the config field in errors.
result<std::string> render_text(std::string_view text, const template_scope& scope, const std::string& field,
                                const text_encoder& encode = {});

/// A copy of the JSON template `tmpl` with its strings rendered (see above); `field` is the
/// template's config path, extended with keys and indexes in errors.
result<boost::json::value> render_json(const boost::json::value& tmpl, const template_scope& scope,
                                       const std::string& field);

}  // namespace jobrouter
