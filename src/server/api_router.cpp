#include "server/api_router.hpp"

#include "server/request_json.hpp"
#include "server/request_target.hpp"
#include "server/ws_session.hpp"

#include <charconv>
#include <optional>
#include <vector>

namespace jobrouter {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

using status = http::status;

// An optional non-negative integer query parameter within [lo, hi].
boost::system::result<std::optional<std::uint64_t>, api_error> int_param(const request_target& t, const std::string& name,
                                                                         std::uint64_t lo, std::uint64_t hi) {
    const auto text = t.param(name);
    if (!text || text->empty()) return std::optional<std::uint64_t>{};
    std::uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || ptr != text->data() + text->size() || v < lo || v > hi)
        return api_error{400, "invalid_request",
                         "query parameter " + name + ": must be an integer in " + std::to_string(lo) + ".." +
                             std::to_string(hi) + ", got " + quoted(*text)};
    return std::optional<std::uint64_t>(v);
}

// Appends what json::serialize would return for the serializer's value, through a stack
// buffer instead of a string of its own.
void append_serialized(std::string& out, json::serializer& sr) {
    char buf[4096];
    while (!sr.done()) {
        const std::string_view piece = sr.read(buf, sizeof buf);
        out.append(piece.data(), piece.size());
    }
}

// {"success":true,"job":...,"lease_token":"..."}: the bytes json::serialize gives for that
// object, without first copying the job into it (the job's JSON was ~10% of serve's time per
// job, bench http).
std::string claim_reply_json(const assignment& a) {
    std::string out;
    out.reserve(512);
    out.append(R"({"success":true,"job":)");
    json::serializer sr;
    sr.reset(&a.job);
    append_serialized(out, sr);
    out.append(R"(,"lease_token":)");
    sr.reset(json::string_view(a.lease_token));
    append_serialized(out, sr);
    out.push_back('}');
    return out;
}

}  // namespace

api_router::api_router(job_service& d, metrics& m, const http_limits& limits)
    : dispatcher_(d), metrics_(m), limits_(limits) {}

api_router::response api_router::error_response(unsigned version, bool keep_alive, status s, std::string code,
                                                std::string message) {
    response res{s, version};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(keep_alive);
    // Messages quote what the client sent (the target, decoded path segments), which may be
    // any bytes: the body must stay valid JSON.
    json::object body{{"error", json::object{{"code", std::move(code)}, {"message", valid_utf8(message)}}}};
    res.body() = json::serialize(body);
    return res;
}

bool api_router::upgrade(beast::tcp_stream&& stream, request&& req, connection_slot slot) {
    auto target = request_target::parse(req.target());
    if (!target || !target->is({"ws", "events"})) {
        // Written synchronously on the loop's thread, so it must never wait: the target is cut
        // (it may be as long as --max-header-bytes, and a client that does not read would fill
        // the socket's buffer), and the socket is non-blocking: what does not fit is dropped
        // with the connection.
        constexpr std::size_t kShownTarget = 256;
        const std::string_view target_text = req.target();
        const std::string shown = std::string(target_text.substr(0, kShownTarget)) + (target_text.size() > kShownTarget ? "..." : "");
        auto res = error_response(req.version(), false, status::not_found, "not_found",
                                  "no WebSocket endpoint at " + shown + " (use /ws/events)");
        res.prepare_payload();
        beast::error_code ignored;
        stream.socket().non_blocking(true, ignored);
        http::write(stream, res, ignored);
        stream.socket().close(ignored);
        return false;
    }
    event_filter filter;
    if (auto v = target->param("job_id")) filter.job_id = *v;
    if (auto v = target->param("type")) filter.service_required = *v;
    if (auto v = target->param("service_required")) filter.service_required = *v;
    std::make_shared<ws_session>(std::move(stream), dispatcher_, limits_, std::move(filter), std::move(slot))->run(std::move(req));
    return true;
}

void api_router::handle(request&& req, respond_fn respond, client_link link) {
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    auto fail = [&](status s, std::string code, std::string message) {
        respond(error_response(version, keep_alive, s, std::move(code), std::move(message)));
    };
    auto from_error = [&](const api_error& e) {
        response res = error_response(version, keep_alive, static_cast<status>(e.status), e.code, e.message);
        if (e.retry_after_s > 0) res.set(http::field::retry_after, std::to_string(e.retry_after_s));
        respond(std::move(res));
    };
    auto reply = [&](status s, const json::value& body) {
        response res{s, version};
        res.set(http::field::content_type, "application/json");
        res.keep_alive(keep_alive);
        res.body() = json::serialize(body);
        respond(std::move(res));
    };
    auto body_json = [&]() -> std::optional<json::value> {
        if (req.body().empty()) return json::value(json::object{});
        auto v = parse_request_json(req.body(), limits_);
        if (!v) {
            from_error(v.error());
            return std::nullopt;
        }
        return std::move(*v);
    };

    auto target = request_target::parse(req.target());
    if (!target) return fail(status::bad_request, "bad_target", "malformed request target " + quoted(req.target()));
    const request_target& seg = *target;
    const http::verb method = req.method();
    auto method_not_allowed = [&](const char* allowed) {
        response res = error_response(version, keep_alive, status::method_not_allowed, "method_not_allowed",
                                      std::string(req.method_string()) + " is not allowed on " + seg.path() +
                                          " (allowed: " + allowed + ")");
        res.set(http::field::allow, allowed);
        respond(std::move(res));
    };

    // GET /health, GET /metrics
    if (seg.is({"health"})) {
        if (method != http::verb::get) return method_not_allowed("GET");
        auto h = dispatcher_.health();
        if (!h) return from_error(h.error());
        return reply(status::ok, json::object{{"status", "ok"},
                                              {"strategy", dispatcher_.matching_strategy().name()},
                                              {"pending", h->pending},
                                              {"jobs", h->jobs}});
    }
    if (seg.is({"metrics"})) {
        if (method != http::verb::get) return method_not_allowed("GET");
        response res{status::ok, version};
        res.set(http::field::content_type, "text/plain; version=0.0.4");
        res.keep_alive(keep_alive);
        res.body() = metrics_.render();
        return respond(std::move(res));
    }
    if (seg.size() < 2 || seg[0] != "api") return fail(status::not_found, "not_found", "no route for " + std::string(req.target()));

    // /api/jobs ...
    if (seg[1] == "jobs") {
        if (seg.size() == 2) {
            if (method == http::verb::post) {
                auto body = body_json();
                if (!body) return;
                if (auto ok = check_ids(*body, {"id", "service_required", "customer_id", "workflow_id"}, limits_); !ok)
                    return from_error(ok.error());
                if (auto ok = check_requirements_size(*body, limits_); !ok) return from_error(ok.error());
                auto r = dispatcher_.submit(std::move(*body));
                if (!r) return from_error(r.error());
                if (r->kind == job_service::submit_kind::existing) {
                    auto job = dispatcher_.get_job(r->job_id);
                    if (!job) return from_error(job.error());
                    json::object existing{{"success", true}, {"job_id", r->job_id}, {"existing", true}, {"job", *job}};
                    if (!r->warnings.empty()) {
                        json::array warnings;
                        for (const auto& w : r->warnings) warnings.emplace_back(w);
                        existing["warnings"] = std::move(warnings);
                    }
                    return reply(status::ok, existing);
                }
                json::object created{{"success", true}, {"job_id", r->job_id}};
                if (!r->warnings.empty()) {
                    json::array warnings;
                    for (const auto& w : r->warnings) warnings.emplace_back(w);
                    created["warnings"] = std::move(warnings);
                }
                return reply(status::created, created);
            }
            if (method == http::verb::get) {
                job_service::job_query q;
                if (auto v = target->param("status")) q.status = *v;
                if (auto v = target->param("service_required")) q.service_required = *v;
                if (auto v = target->param("unroutable")) {
                    if (*v == "true" || *v == "1") q.unroutable = true;
                    else if (*v != "false" && *v != "0" && !v->empty())
                        return fail(status::bad_request, "invalid_request",
                                    "query parameter unroutable: must be true or false, got " + quoted(*v));
                }
                auto limit = int_param(*target, "limit", 1, 1000);
                if (!limit) return from_error(limit.error());
                auto cursor = int_param(*target, "cursor", 1, UINT64_MAX);
                if (!cursor) return from_error(cursor.error());
                auto offset = int_param(*target, "offset", 0, UINT64_MAX);
                if (!offset) return from_error(offset.error());
                q.limit = limit->value_or(50);
                q.cursor = cursor->value_or(0);
                q.offset = offset->value_or(0);
                static const std::vector<std::string> statuses{"pending", "assigned", "in_progress", "retrying",
                                                               "completed", "failed", "cancelled"};
                if (!q.status.empty() && std::find(statuses.begin(), statuses.end(), q.status) == statuses.end())
                    return fail(status::bad_request, "invalid_request",
                                "query parameter status: unknown status " + quoted(q.status) +
                                    " (valid: pending, assigned, in_progress, retrying, completed, failed, cancelled)");
                auto page = dispatcher_.list_jobs(q);
                if (!page) return from_error(page.error());
                json::array jobs;
                for (auto& j : page->jobs) jobs.push_back(std::move(j));
                json::object body{{"success", true}, {"jobs", std::move(jobs)}, {"total", page->total}, {"limit", q.limit}};
                body["next_cursor"] = page->next ? json::value(std::to_string(*page->next)) : json::value(nullptr);
                return reply(status::ok, body);
            }
            return method_not_allowed("GET, POST");
        }
        const std::string_view id = seg[2];
        if (seg.size() == 3) {
            if (method != http::verb::get) return method_not_allowed("GET");
            auto j = dispatcher_.get_job(id);
            if (!j) return from_error(j.error());
            return reply(status::ok, json::object{{"success", true}, {"job", *j}});
        }
        if (seg.size() == 4 && seg[3] == "explain") {
            if (method != http::verb::get) return method_not_allowed("GET");
            auto r = dispatcher_.explain_job(id);
            if (!r) return from_error(r.error());
            json::object body{{"success", true}};
            for (auto& kv : *r) body[kv.key()] = kv.value();
            return reply(status::ok, body);
        }
        if (seg.size() == 4) {
            const std::string_view action = seg[3];
            if (action != "cancel" && action != "progress" && action != "complete" && action != "fail")
                return fail(status::not_found, "not_found", "no route for " + std::string(req.target()));
            if (method != http::verb::post) return method_not_allowed("POST");
            if (action == "cancel") {
                auto r = dispatcher_.cancel(id);
                if (!r) return from_error(r.error());
                return reply(status::ok, json::object{{"success", true}, {"job_id", id}, {"status", "cancelled"}});
            }
            auto body = body_json();
            if (!body) return;
            if (!body->is_object()) return fail(status::bad_request, "invalid_request", "body: must be a JSON object");
            const json::object& o = body->get_object();
            const json::value* token = o.if_contains("lease_token");
            if (!token || !token->is_string())
                return fail(status::bad_request, "invalid_request", "lease_token: is required (the token the claim returned)");
            api_result<void> r;
            if (action == "progress") {
                const json::value* p = o.if_contains("progress");
                auto pct = p ? as_integer(*p) : std::nullopt;
                if (!pct || *pct < 0 || *pct > 100)
                    return fail(status::bad_request, "invalid_request",
                                "progress: must be an integer in 0..100, got " + (p ? describe(*p) : std::string("nothing")));
                std::string message;
                if (const json::value* m = o.if_contains("message")) {
                    if (!m->is_string()) return fail(status::bad_request, "invalid_request", "message: must be a string, got " + describe(*m));
                    message = std::string(m->get_string());
                }
                r = dispatcher_.progress(id, token->get_string(), *pct, message);
            } else if (action == "complete") {
                const json::value* result = o.if_contains("result");
                r = dispatcher_.complete(id, token->get_string(), result ? *result : json::value(nullptr));
            } else {
                bool retryable = true;
                if (const json::value* rv = o.if_contains("retryable")) {
                    if (!rv->is_bool()) return fail(status::bad_request, "invalid_request", "retryable: must be a boolean, got " + describe(*rv));
                    retryable = rv->get_bool();
                }
                const json::value* err = o.if_contains("error");
                r = dispatcher_.fail(id, token->get_string(), err ? *err : json::value("failed"), retryable);
            }
            if (!r) return from_error(r.error());
            // The status alone: get_job would build the whole job's JSON (bench http: ~8% of serve's time).
            const auto st = dispatcher_.job_status(id);
            return reply(status::ok, json::object{{"success", true}, {"job_id", id},
                                                  {"status", st ? json::value(*st) : json::value(nullptr)}});
        }
        return fail(status::not_found, "not_found", "no route for " + std::string(req.target()));
    }

    // /api/workers ...
    if (seg[1] == "workers") {
        if (seg.size() == 2) {
            if (method == http::verb::post) {
                auto body = body_json();
                if (!body) return;
                if (auto ok = check_ids(*body, {"worker_id", "worker_type"}, limits_); !ok) return from_error(ok.error());
                auto r = dispatcher_.register_external(*body);
                if (!r) return from_error(r.error());
                return reply(status::created, json::object{{"success", true}, {"worker_id", body->at("worker_id")}});
            }
            if (method == http::verb::get) {
                auto workers = dispatcher_.list_workers();
                if (!workers) return from_error(workers.error());
                return reply(status::ok, json::object{{"success", true}, {"workers", std::move(*workers)}});
            }
            return method_not_allowed("GET, POST");
        }
        const std::string_view id = seg[2];
        if (seg.size() == 3) {
            if (method != http::verb::delete_) return method_not_allowed("DELETE");
            auto r = dispatcher_.unregister_external(id);
            if (!r) return from_error(r.error());
            return reply(status::ok, json::object{{"success", true}, {"worker_id", id}});
        }
        if (seg.size() == 4 && seg[3] == "claim") {
            if (method != http::verb::post) return method_not_allowed("POST");
            auto wait = int_param(*target, "wait_ms", 0, UINT64_MAX);
            if (!wait) return from_error(wait.error());
            const auto wait_ms = std::min<std::uint64_t>(wait->value_or(0), static_cast<std::uint64_t>(limits_.max_wait.count()));
            // A client that hung up with its claim (its request and FIN came together) would
            // never see the job, and a live worker of that id would renew its lease with every
            // heartbeat: it gets nothing (the 204 goes into the closed connection).
            if (link.gone && link.gone()) {
                response res{status::no_content, version};
                res.keep_alive(false);
                return respond(std::move(res));
            }
            const std::uint64_t serial = dispatcher_.wait_for_job(id, std::chrono::milliseconds(wait_ms),
                                     [respond, version, keep_alive](api_result<job_service::wait_result> r) {
                                         if (!r) {
                                             respond(error_response(version, keep_alive, static_cast<status>(r.error().status),
                                                                    r.error().code, r.error().message));
                                             return;
                                         }
                                         response res{*r ? status::ok : status::no_content, version};
                                         res.keep_alive(keep_alive);
                                         if (*r) {
                                             res.set(http::field::content_type, "application/json");
                                             res.body() = claim_reply_json(**r);
                                         }
                                         respond(std::move(res));
                                     });
            // Likewise a client that hangs up while its claim waits: the wait is withdrawn.
            if (link.on_hang_up && serial != 0)
                link.on_hang_up([d = &dispatcher_, alive = dispatcher_.lifetime(), worker = std::string(id), serial] {
                    if (alive.lock()) d->withdraw_wait(worker, serial);
                });
            return;
        }
        if (seg.size() == 4 && seg[3] == "explain") {
            if (method != http::verb::get) return method_not_allowed("GET");
            auto limit = int_param(*target, "limit", 1, 1000);
            if (!limit) return from_error(limit.error());
            auto r = dispatcher_.explain_worker(id, limit->value_or(10));
            if (!r) return from_error(r.error());
            json::object body{{"success", true}};
            for (auto& kv : *r) body[kv.key()] = kv.value();
            return reply(status::ok, body);
        }
        if (seg.size() == 4 && seg[3] == "heartbeat") {
            if (method != http::verb::post) return method_not_allowed("POST");
            auto body = body_json();
            if (!body) return;
            auto jobs = heartbeat_jobs(*body, limits_);
            if (!jobs) return from_error(jobs.error());
            auto r = dispatcher_.heartbeat(id, *jobs);
            if (!r) return from_error(r.error());
            auto ids = [](const std::vector<std::string>& v) { return json::array(v.begin(), v.end()); };
            json::object out{{"success", true}, {"cancelled_jobs", ids(r->cancelled_jobs)}};
            // Only a heartbeat that listed its jobs gets these (the reply is otherwise as before).
            if (*jobs) {
                out["unknown_jobs"] = ids(r->unknown_jobs);
                out["handed_back_jobs"] = ids(r->handed_back);
            }
            return reply(status::ok, out);
        }
        return fail(status::not_found, "not_found", "no route for " + std::string(req.target()));
    }
    return fail(status::not_found, "not_found", "no route for " + std::string(req.target()));
}

}  // namespace jobrouter
