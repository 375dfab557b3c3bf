#include "server/redis_job_service.hpp"

#include "core/json_util.hpp"
#include "core/matcher.hpp"
#include "core/worker.hpp"
#include "redis/function_library.hpp"
#include "redis/redis_store.hpp"
#include "server/job_json.hpp"
#include "server/log.hpp"
#include "server/redis_job_json.hpp"
#include "strategies/strategy_registry.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace jobrouter {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string json_list(std::span<const std::string> items) {
    json::array a;
    for (const auto& s : items) a.emplace_back(s);
    return json::serialize(a);
}

std::string status_of(const redis::reply& r) { return r.is_array() && !r.elements.empty() ? r.elements[0].text() : r.text(); }
std::string element(const redis::reply& r, std::size_t i) { return i < r.elements.size() ? r.elements[i].text() : std::string(); }

api_error unexpected(const std::string& function, const redis::reply& r) {
    return api_error{500, "store_error", "jobrouter function " + function + ": unexpected reply " + quoted(status_of(r))};
}

std::optional<event_kind> parse_event_kind(std::string_view s) {
    static const std::pair<const char*, event_kind> kinds[] = {
        {"submitted", event_kind::submitted}, {"assigned", event_kind::assigned},   {"progress", event_kind::progress},
        {"completed", event_kind::completed}, {"failed", event_kind::failed},       {"retried", event_kind::retried},
        {"requeued", event_kind::requeued},   {"cancelled", event_kind::cancelled}, {"worker_joined", event_kind::worker_joined},
        {"worker_left", event_kind::worker_left}};
    for (const auto& [name, k] : kinds)
        if (s == name) return k;
    return std::nullopt;
}

std::string string_field(const json::object& o, const char* key) {
    const json::value* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t int_field(const json::object& o, const char* key) {
    const json::value* v = o.if_contains(key);
    if (!v) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
    return 0;
}

}  // namespace

std::string events_channel(int db) { return "jobrouter:events:" + std::to_string(db); }

std::string make_origin(const std::string& machine_id) {
    std::random_device rd;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    return machine_id + ":" + std::to_string(::getpid()) + ":" + buf;
}

redis_job_service::redis_job_service(asio::io_context& io, const service_mapping& mapping, const strategy& strat,
                                     const redis::redis_url& url, redis_service_options options, const clock_source& clock,
                                     std::string origin)
    : job_service(mapping, strat),
      io_(io),
      options_(options),
      clock_(clock),
      origin_(std::move(origin)),
      link_(io, url, options.command_timeout, [this](redis::connection& c) { on_connected(c); }),
      tick_timer_(io),
      lease_timer_(io),
      rng_(std::random_device{}()) {
    link_.on_reconnected = [this] { on_reconnected(); };
}

result<std::unique_ptr<redis_job_service>> redis_job_service::create(asio::io_context& io, const service_mapping& mapping,
                                                                     const strategy& strat, const redis::redis_url& url,
                                                                     redis_service_options options, const clock_source& clock,
                                                                     std::string origin) {
    std::unique_ptr<redis_job_service> s(new redis_job_service(io, mapping, strat, url, options, clock, std::move(origin)));
    if (auto up = s->link_.connect_now(); !up) return up.error();
    // Other processes' events. Pub/sub keeps nothing for a subscriber that is away: after a
    // gap, every parked worker tries a claim (resync), and the next tick applies what is due.
    redis_job_service* self = s.get();
    s->subscriber_ = std::make_unique<redis::subscriber>(
        io, url, std::vector<std::string>{events_channel(url.db)},
        [self](const std::string&, const std::string& message) { self->remote_events(message); },
        [self](bool subscribed, const std::string& detail) {
            if (subscribed == self->subscribed_) return;
            self->subscribed_ = subscribed;
            if (subscribed) {
                // Worth a line only when it comes back after a loss.
                log::write(self->subscription_lost_ ? log::level::info : log::level::debug,
                           "subscribed to other processes' events", {{"channel", events_channel(self->url().db)}});
                self->resync();
            } else {
                self->subscription_lost_ = true;
                log::warn("lost the events subscription; parked workers poll until it is back", {{"detail", detail}});
            }
        });
    s->subscriber_->start();
    s->tick();
    s->renew_local_leases();
    return s;
}

redis_job_service::~redis_job_service() {
    if (subscriber_) subscriber_->stop();
}

// ---- connection ----------------------------------------------------------------------------------

// On every connection: the library (loaded, version-checked), the configuration, and after a
// reconnection this process's in-process workers (Redis may have lost them; re-registering
// keeps the jobs they hold).
void redis_job_service::on_connected(redis::connection& c) {
    if (auto loaded = redis::load_function_library(c); !loaded) throw error_exception(loaded.error());
    const auto& sched = options_.dispatching.scheduling;
    c.command({"FCALL", "jobrouter_configure", "0", std::to_string(sched.lease_ms), std::to_string(sched.retry_backoff_ms),
               std::to_string(sched.retry_backoff_max_ms), std::string(strategy_.name())});
    auto job_type = make_strategy("job-type");
    std::vector<std::string> types{"FCALL", "jobrouter_set_worker_types", "0"};
    for (const auto& [name, t] : mapping_.workers) {
        types.push_back(name);
        types.push_back(json_list((*job_type)->offered_keys(t)));
    }
    c.command(types);
    c.command({"HSET", "jobrouter:meta", "events_channel", events_channel(link_.url().db)});
    for (const auto& [id, w] : local_) {
        std::vector<std::string> args{"FCALL", "jobrouter_serve_register", "0", std::to_string(clock_.now_ms()), origin_};
        args.insert(args.end(), w.registration.begin(), w.registration.end());
        args.push_back("0");
        const redis::reply r = c.command(args);
        if (r.is_array() && r.elements.size() > 1) queue_events(r.elements[1].str, true);  // applied by on_reconnected
    }
}

void redis_job_service::on_reconnected() {
    routability_.clear();
    // A claim whose reply was lost: if Redis applied it, the job carries that claim's token;
    // back to pending (the attempt not counted), since its worker never got it.
    for (const auto& [worker_id, token] : std::exchange(uncertain_claims_, {})) {
        auto held = link_.command({"HKEYS", "jobs:active:" + worker_id});
        if (!held) break;
        for (const auto& job : held->elements) {
            auto t = link_.command({"HGET", "job:" + job.text(), "lease_token"});
            if (t && !t->is_nil() && t->text() == token) {
                log::info("handing back a job whose claim reply was lost when Redis went away",
                          {{"job_id", job.text()}, {"worker_id", worker_id}});
                (void)call("jobrouter_serve_release", {job.text()});
            }
        }
    }
    drain();
    resync();
}

api_result<redis::reply> redis_job_service::call(const std::string& function, std::vector<std::string> args) {
    std::vector<std::string> argv{"FCALL", function, "0", std::to_string(clock_.now_ms()), origin_};
    argv.reserve(argv.size() + args.size());
    for (auto& a : args) argv.push_back(std::move(a));
    auto r = link_.command(argv);
    if (!r) return r.error();
    if (!r->is_array() || r->elements.size() < 2) return unexpected(function, *r);
    queue_events(r->elements[1].str, true);
    return r;
}

// ---- events --------------------------------------------------------------------------------------

void redis_job_service::queue_events(std::string_view events_json, bool own) {
    if (events_json.empty() || events_json == "[]") return;
    auto parsed = parse_strict(events_json);
    if (!parsed || !parsed->is_array()) {
        log::warn("redis store: an events message is not a JSON array; ignored", {{"message", std::string(events_json.substr(0, 200))}});
        return;
    }
    for (const auto& v : parsed->get_array()) {
        if (!v.is_object()) continue;
        const json::object& o = v.get_object();
        auto kind = parse_event_kind(string_field(o, "event"));
        if (!kind) continue;
        dispatcher_event e{scheduler_event{*kind, string_field(o, "job_id"), string_field(o, "worker_id"), int_field(o, "at")},
                           string_field(o, "service_required"), int_field(o, "progress"), string_field(o, "message")};
        queue_.emplace_back(std::move(e), own);
    }
}

void redis_job_service::remote_events(std::string_view message) {
    auto parsed = parse_strict(message);
    if (!parsed || !parsed->is_object()) return;
    const json::object& o = parsed->get_object();
    if (string_field(o, "origin") == origin_) return;  // applied from the reply already
    const json::value* events = o.if_contains("events");
    if (!events) return;
    queue_events(json::serialize(*events), false);
    drain();
}

// Applies queued events; the wake-ups they cause (claims by parked workers) queue more, which
// the same loop applies, so a change is never handled inside another.
void redis_job_service::drain() {
    if (draining_) return;
    draining_ = true;
    while (!queue_.empty()) {
        std::map<std::string, int> became_pending;
        while (!queue_.empty()) {
            auto [e, own] = std::move(queue_.front());
            queue_.pop_front();
            apply_event(e, own);
            if (e.event.kind == event_kind::submitted || e.event.kind == event_kind::requeued) ++became_pending[e.service_required];
        }
        if (!became_pending.empty()) offer(became_pending);
    }
    draining_ = false;
}

void redis_job_service::apply_event(const dispatcher_event& e, bool own) {
    if (own) count(e.event.kind);
    const std::string& id = e.event.job_id;
    switch (e.event.kind) {
    case event_kind::submitted:
        if (own) pending_since_[id] = std::chrono::steady_clock::now();
        break;
    case event_kind::assigned:
        if (auto it = pending_since_.find(id); it != pending_since_.end()) {
            if (on_submit_to_assign)
                on_submit_to_assign(std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second).count());
            pending_since_.erase(it);
        }
        break;
    case event_kind::cancelled:
        if (auto it = local_jobs_.find(id); it != local_jobs_.end()) {
            if (auto w = local_.find(it->second); w != local_.end() && w->second.on_cancel)
                asio::post(io_, [f = w->second.on_cancel, id] { f(id); });
            local_jobs_.erase(it);
        }
        pending_since_.erase(id);
        break;
    case event_kind::completed:
    case event_kind::failed:
        local_jobs_.erase(id);
        pending_since_.erase(id);
        break;
    case event_kind::retried: local_jobs_.erase(id); break;
    case event_kind::worker_left:
        if (!own && parked_.count(e.event.worker_id)) end_wait_empty(e.event.worker_id);
        break;
    default: break;
    }
    notify(e);
}

// ---- push assignment -----------------------------------------------------------------------------

void redis_job_service::offer(const std::map<std::string, int>& became_pending) {
    std::map<std::string, int> left = became_pending;
    std::vector<std::pair<std::uint64_t, std::string>> candidates;
    for (const auto& [id, p] : parked_)
        for (const auto& k : p.keys)
            if (left.count(k)) {
                candidates.emplace_back(p.order, id);
                break;
            }
    std::sort(candidates.begin(), candidates.end());
    for (const auto& [order, id] : candidates) {
        if (std::all_of(left.begin(), left.end(), [](const auto& kv) { return kv.second <= 0; })) return;
        auto it = parked_.find(id);
        if (it == parked_.end() || it->second.order != order) continue;
        std::string key;
        const auto outcome = try_claim(id, &key);
        if (outcome == claim_outcome::failed) return;
        if (outcome == claim_outcome::claimed)
            if (auto k = left.find(key); k != left.end()) --k->second;
    }
}

void redis_job_service::resync() {
    last_resync_ = std::chrono::steady_clock::now();
    std::vector<std::pair<std::uint64_t, std::string>> all;
    for (const auto& [id, p] : parked_) all.emplace_back(p.order, id);
    std::sort(all.begin(), all.end());
    for (const auto& [order, id] : all) {
        auto it = parked_.find(id);
        if (it == parked_.end() || it->second.order != order) continue;
        if (try_claim(id) == claim_outcome::failed) break;
    }
    drain();
}

redis_job_service::claim_outcome redis_job_service::try_claim(const std::string& worker_id, std::string* service_required) {
    auto it = parked_.find(worker_id);
    if (it == parked_.end()) return claim_outcome::nothing;
    const bool local = it->second.local;
    std::string token = new_token();
    const auto started = std::chrono::steady_clock::now();
    auto r = call("jobrouter_serve_claim", {worker_id, token, local ? "0" : "1"});
    if (on_claim_duration) on_claim_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    it = parked_.find(worker_id);
    if (it == parked_.end()) return claim_outcome::nothing;
    auto fail_external = [&](api_error e) {
        if (auto f = std::exchange(it->second.external_deliver, {}))
            asio::post(io_, [f = std::move(f), e = std::move(e)] { f(e); });
        parked_.erase(it);
    };
    if (!r) {
        if (link_.last_reply_lost()) uncertain_claims_.emplace_back(worker_id, token);
        // Redis down: an external claim gets the 503; an in-process worker stays parked and
        // tries again after the reconnection.
        if (!local) fail_external(r.error());
        return claim_outcome::failed;
    }
    const std::string status = status_of(*r);
    if (status == "unknown_worker") {
        if (!local) fail_external(not_found("unknown worker " + quoted(worker_id)));
        else parked_.erase(it);
        return claim_outcome::nothing;
    }
    if (status == "in_process") {
        fail_external(conflict("worker " + quoted(worker_id) +
                               " is an in-process worker of this server; the API serves external workers only"));
        return claim_outcome::nothing;
    }
    if (status != "ok") {
        if (!local) fail_external(unexpected("jobrouter_serve_claim", *r));
        return claim_outcome::failed;
    }
    if (r->elements.size() < 4) return claim_outcome::nothing;
    const auto hash = hash_fields(r->elements[3]);
    assignment a{r->elements[2].text(), worker_id, std::move(token), redis_job_to_json(hash)};
    if (service_required)
        if (auto s = hash.find("service_required"); s != hash.end()) *service_required = s->second;
    parked_worker p = std::move(it->second);
    parked_.erase(it);
    if (p.timer) p.timer->cancel();
    if (local) {
        local_jobs_[a.job_id] = worker_id;
        asio::post(io_, [f = std::move(p.local_deliver), a = std::move(a)]() mutable { f(std::move(a)); });
    } else {
        asio::post(io_, [f = std::move(p.external_deliver), a = std::move(a)]() mutable {
            f(api_result<wait_result>(wait_result(std::move(a))));
        });
    }
    return claim_outcome::claimed;
}

void redis_job_service::park(const std::string& worker_id, parked_worker p) {
    end_wait_empty(worker_id);  // a newer wait replaces the older one
    p.order = next_park_++;
    parked_[worker_id] = std::move(p);
}

void redis_job_service::end_wait_empty(const std::string& worker_id) {
    auto it = parked_.find(worker_id);
    if (it == parked_.end()) return;
    if (it->second.timer) it->second.timer->cancel();
    if (auto f = std::exchange(it->second.external_deliver, {}))
        asio::post(io_, [f = std::move(f)] { f(api_result<wait_result>(wait_result())); });
    parked_.erase(it);
}

std::vector<std::string> redis_job_service::offered_keys(const std::string& services_json, const std::string& job_types_json) const {
    const std::string& text = strategy_.name() == "service-name" ? services_json : job_types_json;
    std::vector<std::string> keys;
    auto v = parse_strict(text.empty() ? "[]" : text);
    if (v && v->is_array())
        for (const auto& k : v->get_array())
            if (k.is_string()) keys.emplace_back(k.get_string());
    return keys;
}

std::uint64_t redis_job_service::wait_for_job(std::string_view worker_id, std::chrono::milliseconds wait,
                                     std::function<void(api_result<wait_result>)> done) {
    const std::string wid(worker_id);
    if (local_.count(wid)) {  // never let a claim under its id take an in-process worker's wait
        api_error e = conflict("worker " + quoted(wid) + " is an in-process worker of this server; the API serves external workers only");
        asio::post(io_, [done = std::move(done), e = std::move(e)] { done(e); });
        return 0;
    }
    parked_worker p;
    p.external_deliver = std::move(done);
    park(wid, std::move(p));
    const std::uint64_t serial = parked_.find(wid)->second.order;
    const auto outcome = try_claim(wid);
    auto it = parked_.find(wid);
    if (outcome != claim_outcome::nothing || it == parked_.end()) {
        drain();
        return serial;
    }
    if (wait.count() <= 0) {
        end_wait_empty(wid);
        drain();
        return serial;
    }
    if (auto keys = link_.command({"HMGET", "worker:" + wid, "services", "job_types"}); keys && keys->elements.size() == 2)
        it->second.keys = offered_keys(keys->elements[0].text(), keys->elements[1].text());
    it->second.timer = std::make_unique<asio::steady_timer>(io_);
    it->second.timer->expires_after(wait);
    it->second.timer->async_wait([this, wid, order = it->second.order](boost::system::error_code ec) {
        if (ec) return;
        auto at = parked_.find(wid);
        if (at == parked_.end() || at->second.order != order) return;
        end_wait_empty(wid);
    });
    drain();
    return serial;
}

void redis_job_service::withdraw_wait(std::string_view worker_id, std::uint64_t serial) {
    auto it = parked_.find(worker_id);
    // Answered, or replaced by a newer wait, already.
    if (it == parked_.end() || it->second.local || it->second.order != serial) return;
    const std::string wid = it->first;  // end_wait_empty erases the entry
    end_wait_empty(wid);
    drain();
}

void redis_job_service::ready_for_job(std::string_view worker_id, deliver_fn deliver_to) {
    auto w = local_.find(worker_id);
    if (w == local_.end() || !accepting_local_) return;
    const std::string wid(worker_id);
    parked_worker p;
    p.local = true;
    p.local_deliver = std::move(deliver_to);
    p.keys = w->second.keys;
    park(wid, std::move(p));
    (void)try_claim(wid);
    drain();
}

// ---- timers --------------------------------------------------------------------------------------

void redis_job_service::tick() {
    std::vector<std::string> args{std::to_string(options_.dispatching.retention_ms),
                                  std::to_string(options_.dispatching.retention_count),
                                  std::to_string(options_.dispatching.worker_timeout_ms)};
    for (const auto& [id, p] : parked_)
        if (!p.local) args.push_back(id);
    if (link_.up()) (void)call("jobrouter_serve_tick", std::move(args));
    drain();
    // The resync covers events lost while pub/sub was away; subscribed, it is a rare safety net.
    const auto period = subscribed_ ? options_.resync * 10 : options_.resync;
    if (link_.up() && !parked_.empty() && std::chrono::steady_clock::now() - last_resync_ >= period) resync();
    tick_timer_.expires_after(options_.tick);
    tick_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) tick();
    });
}

void redis_job_service::renew_local_leases() {
    if (!local_.empty() && link_.up()) {
        std::vector<std::string> ids;
        for (const auto& [id, w] : local_) ids.push_back(id);
        (void)call("jobrouter_serve_renew", std::move(ids));
        drain();
    }
    const time_ms period = options_.dispatching.local_heartbeat_ms > 0 ? options_.dispatching.local_heartbeat_ms
                                                                       : options_.dispatching.scheduling.lease_ms / 3;
    lease_timer_.expires_after(std::chrono::milliseconds(std::max<time_ms>(period, 1)));
    lease_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) renew_local_leases();
    });
}

// ---- jobs ----------------------------------------------------------------------------------------

std::string redis_job_service::new_token() {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng_()),
                  static_cast<unsigned long long>(rng_()));
    return buf;
}

api_error redis_job_service::job_refusal(const std::string& code, const std::string& detail, std::string_view job_id) const {
    if (code == "unknown_job") return not_found("unknown job " + quoted(job_id));
    if (code == "stale" || code == "not_assigned")
        return conflict("job " + quoted(job_id) + " is " + detail + ": this lease is no longer valid");
    if (code == "wrong_token") return conflict("lease_token: does not match the current lease of job " + quoted(job_id));
    if (code == "already_final") return conflict(make_error("job_id", "job " + quoted(job_id) + " is already " + detail).text());
    return api_error{500, "store_error", "jobrouter store: unexpected reply " + quoted(code) + " for job " + quoted(job_id)};
}

api_result<job_service::submit_outcome> redis_job_service::submit(json::value body) {
    if (!body.is_object()) return api_error{400, "invalid_request", "body: must be a JSON object, got " + describe(body)};
    const time_ms now = clock_.now_ms();
    json::value with_id = body;
    json::object& o = with_id.get_object();
    if (!o.contains("id")) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "job-%llx-%s-%llu", static_cast<unsigned long long>(now),
                      origin_.substr(origin_.size() > 8 ? origin_.size() - 8 : 0).c_str(),
                      static_cast<unsigned long long>(next_generated_id_++));
        o["id"] = buf;
    }
    auto spec = parse_job_spec(with_id, "job");
    if (!spec) return bad_request(spec.error());
    std::vector<std::string> args{std::to_string(options_.dispatching.max_pending_jobs),
                                  std::to_string(options_.dispatching.max_pending_per_type), json::serialize(body)};
    for (auto& a : redis::submit_arguments(*spec, now)) args.push_back(std::move(a));
    const std::string signature = args[5];  // id, score, class signature, ... after the three above
    auto r = call("jobrouter_serve_submit", std::move(args));
    if (!r) return r.error();
    const std::string status = status_of(*r);
    if (status == "duplicate") {
        drain();
        auto stored = parse_strict(element(*r, 2));
        if (stored && json_equal(*stored, body))
            return submit_outcome{submit_kind::existing, spec->id, submit_warnings(*spec, signature, element(*r, 3), element(*r, 4))};
        return conflict("job.id: job " + quoted(spec->id) + " exists with a different body");
    }
    if (status == "too_many_pending") {
        drain();
        const std::string n = element(*r, 3);
        if (element(*r, 2) == "all")
            return api_error{429, "too_many_pending",
                             n + " jobs are waiting for a worker, the limit of " + std::to_string(options_.dispatching.max_pending_jobs) +
                                 " (--max-pending-jobs raises it); retry later",
                             1};
        return api_error{429, "too_many_pending",
                         n + " jobs with service_required " + quoted(spec->service_required) +
                             " are waiting for a worker, the limit of " + std::to_string(options_.dispatching.max_pending_per_type) +
                             " per type (--max-pending-per-type raises it); retry later",
                         1};
    }
    if (status != "ok") return unexpected("jobrouter_serve_submit", *r);
    drain();
    return submit_outcome{submit_kind::created, spec->id, submit_warnings(*spec, signature, "pending", element(*r, 3))};
}

// The memory store decides this at submission too (dispatcher::mark_unroutable), against
// every registered worker; here the workers are this process's copy, current as of the
// submission's own atomic step whenever its generation matches the reply's.
std::vector<std::string> redis_job_service::submit_warnings(const job_spec& spec, const std::string& signature,
                                                            const std::string& status, const std::string& generation) {
    auto st = parse_job_status(status);
    if (!st || (*st != job_status::pending && *st != job_status::retrying)) return {};
    if (!routability_.current(generation)) {
        // A warning is advice: the job is stored whatever happens here.
        if (!read_roster()) return {};
        logged_unroutable_.clear();
    }
    auto make_class = [&] { return make_job_class(spec.service_required, spec.customer_id, spec.workflow_id, spec.requirements); };
    const std::string* pending = routability_.unroutable_verdict(signature, make_class, strategy_);
    if (!pending) return {};
    std::string verdict = *pending;
    if (*st == job_status::retrying)  // a resubmission of a job in its back-off: rare, judged again
        verdict = explain_verdict(*st, "", spec.service_required, judge_roster(*routability_.roster(), make_class(), strategy_), strategy_);
    if (logged_unroutable_.insert(spec.service_required).second)
        log::warn("jobs of this type cannot be routed: " + verdict, {{"service_required", spec.service_required}, {"job_id", spec.id}});
    return {std::move(verdict)};
}

api_result<json::object> redis_job_service::get_job(std::string_view job_id) {
    auto r = link_.command({"HGETALL", "job:" + std::string(job_id)});
    if (!r) return r.error();
    if (r->elements.empty()) return not_found("unknown job " + quoted(job_id));
    const auto hash = hash_fields(*r);
    json::object o = redis_job_to_json(hash);
    if (auto w = hash.find("worker_id"); w != hash.end() && !w->second.empty()) {
        auto kind = link_.command({"HGET", "worker:" + w->second, "serve_kind"});
        if (kind && !kind->is_nil() && !kind->text().empty()) o["worker_kind"] = kind->text();
    }
    return o;
}

std::optional<std::string> redis_job_service::job_status(std::string_view job_id) {
    if (last_status_.first == job_id) return last_status_.second;
    auto r = link_.command({"HGET", "job:" + std::string(job_id), "status"});
    if (!r || r->is_nil()) return std::nullopt;
    return r->text();
}

api_result<void> redis_job_service::cancel(std::string_view job_id) {
    auto r = call("jobrouter_serve_cancel", {std::string(job_id)});
    if (!r) return r.error();
    drain();
    const std::string status = status_of(*r);
    if (status != "ok") return job_refusal(status, element(*r, 2), job_id);
    return {};
}

api_result<job_service::job_page> redis_job_service::list_jobs(const job_query& q) {
    std::vector<std::string> args{"FCALL_RO",          "jobrouter_serve_list",    "0", q.status, q.service_required,
                                  std::to_string(q.limit), std::to_string(q.cursor), std::to_string(q.offset)};
    if (q.unroutable) {
        auto classes = unroutable_classes();
        if (!classes) return classes.error();
        if (classes->empty()) return job_page{};
        args.insert(args.end(), classes->begin(), classes->end());
    }
    auto r = link_.command(args);
    if (!r) return r.error();
    if (!r->is_array() || r->elements.size() < 2) return unexpected("jobrouter_serve_list", *r);
    job_page page;
    page.total = static_cast<std::size_t>(r->elements[0].integer);
    if (const std::string next = r->elements[1].text(); !next.empty()) page.next = std::stoull(next);
    for (std::size_t i = 2; i < r->elements.size(); ++i) page.jobs.push_back(redis_job_to_json(hash_fields(r->elements[i])));
    return page;
}

// ---- explain and unroutable jobs -------------------------------------------------------------------

api_result<worker_roster> redis_job_service::read_roster() {
    auto r = link_.command({"FCALL_RO", "jobrouter_serve_capabilities", "0"});
    if (!r) return r.error();
    auto roster = parse_worker_roster(*r, mapping_);
    if (!roster) return roster.error();
    routability_.replace(*roster);
    return roster;
}

// Two read-only calls: the job's fields, then every worker's capabilities; O(workers) matching
// here, as the memory store's explain.
api_result<json::object> redis_job_service::explain_job(std::string_view job_id) {
    const std::string id(job_id);
    auto f = link_.command(
        {"HMGET", "job:" + id, "status", "service_required", "customer_id", "workflow_id", "requirements", "worker_id"});
    if (!f) return f.error();
    if (f->elements.size() != 6 || f->elements[0].is_nil()) return not_found("unknown job " + quoted(job_id));
    auto status = parse_job_status(f->elements[0].text());
    if (!status) return api_error{500, "store_error", "job:" + id + " status: unknown status " + quoted(f->elements[0].text())};
    const std::string service_required = f->elements[1].text();
    auto cls = stored_job_class(service_required, f->elements[2].text(), f->elements[3].text(), f->elements[4].text(), "job:" + id);
    if (!cls) return cls.error();
    auto roster = read_roster();
    if (!roster) return roster.error();
    const auto verdicts = judge_roster(*roster, *cls, strategy_);
    json::array workers;
    bool routable = false;
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
        const worker_verdict& v = verdicts[i];
        const std::string& wid = v.caps->worker_id;
        routable = routable || v.matches();
        // "waiting": parked in a long-poll claim, or between jobs, in this process.
        const std::string state = v.busy ? "busy" : (parked_.count(wid) ? "waiting" : "idle");
        json::object o;
        o["worker_id"] = wid;
        o["kind"] = roster->workers[i].kind;
        o["state"] = state;
        o["matches"] = v.matches();
        o["rule"] = v.why ? json::value(v.why->rule) : json::value(nullptr);
        o["detail"] = v.why ? v.why->detail : "would match (" + state + ")";
        workers.push_back(std::move(o));
    }
    const bool waiting = *status == job_status::pending || *status == job_status::retrying;
    return json::object{{"job_id", id},
                        {"status", to_string(*status)},
                        {"service_required", service_required},
                        {"unroutable", waiting && !routable},
                        {"verdict", explain_verdict(*status, f->elements[5].text(), service_required, verdicts, strategy_)},
                        {"workers", std::move(workers)}};
}

// The classes of the waiting jobs (one read-only call, O(pending + timers) in Redis), each
// matched against every worker until one can take it: O(classes x workers) here.
api_result<std::vector<std::string>> redis_job_service::unroutable_classes() {
    auto roster = read_roster();
    if (!roster) return roster.error();
    auto r = link_.command({"FCALL_RO", "jobrouter_serve_waiting_classes", "0"});
    if (!r) return r.error();
    if (!r->is_array() || r->elements.size() % 5 != 0) return unexpected("jobrouter_serve_waiting_classes", *r);
    std::vector<std::string> out;
    for (std::size_t i = 0; i + 5 <= r->elements.size(); i += 5) {
        const std::string class_id = r->elements[i].text();
        auto cls = stored_job_class(r->elements[i + 1].text(), r->elements[i + 2].text(), r->elements[i + 3].text(),
                                    r->elements[i + 4].text(), "jobrouter:class:" + class_id);
        if (!cls) return cls.error();
        if (!anyone_can_take(*roster, *cls, strategy_)) out.push_back(class_id);
    }
    return out;
}

api_result<json::object> redis_job_service::explain_worker(std::string_view worker_id, std::size_t limit) {
    auto stored = link_.command({"HGET", "worker:" + std::string(worker_id), "capabilities"});
    if (!stored) return stored.error();
    if (stored->is_nil()) return not_found("unknown worker " + quoted(worker_id));
    auto raw = parse_strict(stored->text());
    if (!raw) return api_error{500, "store_error", "worker:" + std::string(worker_id) + " capabilities: " + raw.error().text()};
    auto caps = parse_worker(*raw, mapping_, "worker");
    if (!caps) return api_error{500, "store_error", "worker:" + std::string(worker_id) + " capabilities: " + caps.error().text()};
    const auto keys = strategy_.offered_keys(*caps);
    auto top = link_.command({"FCALL_RO", "jobrouter_top_pending", "0", std::to_string(limit)});
    if (!top) return top.error();
    json::array jobs;
    for (std::size_t i = 0; i + 4 < top->elements.size(); i += 5) {
        auto req = parse_strict(top->elements[i + 4].str.empty() ? "{}" : top->elements[i + 4].str);
        json::object requirements = req && req->is_object() ? req->get_object() : json::object();
        const job_class cls = make_job_class(top->elements[i + 1].str, top->elements[i + 2].str, top->elements[i + 3].str,
                                             std::move(requirements));
        if (auto why = find_rejection(cls, *caps, keys, true))
            jobs.push_back(json::object{{"job_id", top->elements[i].str}, {"rule", std::string(why->rule)}, {"detail", why->detail}});
    }
    return json::object{{"worker_id", worker_id}, {"jobs", std::move(jobs)}};
}

// ---- workers -------------------------------------------------------------------------------------

api_result<void> redis_job_service::register_external(const json::value& body) {
    auto caps = parse_worker(body, mapping_, "worker");
    if (!caps) return bad_request(caps.error());
    const std::string id = caps->worker_id;
    auto r = call("jobrouter_serve_register", {id, json::serialize(caps->raw), json_list(caps->services), json_list(caps->job_types),
                                               caps->workflow_id, caps->worker_type, "external", "0"});
    if (!r) return r.error();
    const std::string status = status_of(*r);
    if (status == "in_process") {
        drain();
        return conflict("worker_id: " + quoted(id) + " is an in-process worker of this server");
    }
    if (status != "ok") return unexpected("jobrouter_serve_register", *r);
    // New capabilities may match jobs that were pending all along.
    if (auto it = parked_.find(id); it != parked_.end()) {
        auto keys = strategy_.offered_keys(*caps);
        it->second.keys.assign(keys.begin(), keys.end());
        (void)try_claim(id);
    }
    drain();
    return {};
}

api_result<void> redis_job_service::register_local(const json::value& capabilities, cancel_fn on_cancel) {
    auto caps = parse_worker(capabilities, mapping_, "worker");
    if (!caps) return bad_request(caps.error());
    const std::string id = caps->worker_id;
    if (local_.count(id)) return conflict("worker_id: " + quoted(id) + " is already registered");
    local_worker_state w;
    w.on_cancel = std::move(on_cancel);
    w.registration = {id, json::serialize(caps->raw), json_list(caps->services), json_list(caps->job_types), caps->workflow_id,
                      caps->worker_type, "in-process"};
    auto keys = strategy_.offered_keys(*caps);
    w.keys.assign(keys.begin(), keys.end());
    std::vector<std::string> args = w.registration;
    args.push_back("1");  // fresh: a record of this id left by a process that is gone is replaced
    auto r = call("jobrouter_serve_register", std::move(args));
    if (!r) return r.error();
    if (status_of(*r) != "ok") return unexpected("jobrouter_serve_register", *r);
    local_.emplace(id, std::move(w));
    drain();
    return {};
}

api_result<void> redis_job_service::unregister(std::string_view worker_id) {
    auto r = call("jobrouter_serve_unregister", {std::string(worker_id), "0"});
    if (!r) return r.error();
    const std::string status = status_of(*r);
    if (status == "ok" || status == "unknown_worker") {
        end_wait_empty(std::string(worker_id));
        if (auto it = local_.find(worker_id); it != local_.end()) local_.erase(it);
    }
    drain();
    if (status == "unknown_worker") return not_found("unknown worker " + quoted(worker_id));
    if (status != "ok") return unexpected("jobrouter_serve_unregister", *r);
    return {};
}

api_result<void> redis_job_service::unregister_external(std::string_view worker_id) {
    auto r = call("jobrouter_serve_unregister", {std::string(worker_id), "1"});
    if (!r) return r.error();
    const std::string status = status_of(*r);
    if (status == "ok") end_wait_empty(std::string(worker_id));
    drain();
    if (status == "unknown_worker") return not_found("unknown worker " + quoted(worker_id));
    if (status == "in_process")
        return conflict("worker " + quoted(worker_id) + " is an in-process worker of this server; the API serves external workers only");
    if (status != "ok") return unexpected("jobrouter_serve_unregister", *r);
    return {};
}

api_result<json::array> redis_job_service::list_workers() {
    auto r = link_.command({"FCALL_RO", "jobrouter_serve_workers", "0"});
    if (!r) return r.error();
    json::array out;
    const time_ms now = clock_.now_ms();
    for (const auto& w : r->elements) {
        if (w.elements.size() < 4) continue;
        const std::string id = w.elements[0].text();
        const auto hash = hash_fields(w.elements[1]);
        auto field = [&](const char* k) {
            auto it = hash.find(k);
            return it == hash.end() ? std::string() : it->second;
        };
        const std::string kind = field("serve_kind").empty() ? "external" : field("serve_kind");
        json::object o;
        o["worker_id"] = id;
        o["worker_type"] = field("worker_type").empty() ? json::value(nullptr) : json::value(field("worker_type"));
        o["kind"] = kind;
        json::array jobs;
        for (const auto& j : w.elements[2].elements) jobs.emplace_back(j.text());
        o["status"] = !jobs.empty() ? "busy" : (parked_.count(id) ? "waiting" : "idle");
        o["jobs"] = std::move(jobs);
        json::array offers;
        for (auto& k : offered_keys(field("services"), field("job_types"))) offers.emplace_back(k);
        o["offers"] = std::move(offers);
        const std::string seen = w.elements[3].text();
        o["last_seen"] = iso_time(seen.empty() ? now : static_cast<time_ms>(std::stod(seen)));
        out.push_back(std::move(o));
    }
    return out;
}

bool redis_job_service::holds_jobs(std::string_view worker_id) {
    return std::any_of(local_jobs_.begin(), local_jobs_.end(), [&](const auto& kv) { return kv.second == worker_id; });
}

api_result<job_service::heartbeat_reply> redis_job_service::heartbeat(std::string_view worker_id,
                                                                      const std::optional<std::vector<std::string>>& jobs) {
    std::vector<std::string> args{std::string(worker_id), "1"};
    if (jobs) {
        args.emplace_back("1");
        args.insert(args.end(), jobs->begin(), jobs->end());
    }
    auto r = call("jobrouter_serve_heartbeat", std::move(args));
    if (!r) return r.error();
    drain();
    const std::string status = status_of(*r);
    if (status == "unknown_worker") return not_found("unknown worker " + quoted(worker_id));
    if (status == "in_process")
        return conflict("worker " + quoted(worker_id) + " is an in-process worker of this server; the API serves external workers only");
    if (status != "ok") return unexpected("jobrouter_serve_heartbeat", *r);
    heartbeat_reply reply;
    const auto& e = r->elements;
    if (!jobs) {
        for (std::size_t i = 2; i < e.size(); ++i) reply.cancelled_jobs.push_back(e[i].text());
        return reply;
    }
    // #cancelled, cancelled..., #unknown, unknown..., handed back...
    auto counted = [&](std::size_t& at, std::vector<std::string>& into) {
        if (at >= e.size()) return false;
        const std::size_t n = std::strtoull(e[at].text().c_str(), nullptr, 10);
        if (n > e.size() - at - 1) return false;
        for (std::size_t k = 0; k < n; ++k) into.push_back(e[at + 1 + k].text());
        at += n + 1;
        return true;
    };
    std::size_t at = 2;
    if (!counted(at, reply.cancelled_jobs) || !counted(at, reply.unknown_jobs))
        return unexpected("jobrouter_serve_heartbeat", *r);
    for (; at < e.size(); ++at) reply.handed_back.push_back(e[at].text());
    return reply;
}

api_result<void> redis_job_service::progress(std::string_view job_id, std::string_view token, std::int64_t percent,
                                             const std::string& message) {
    auto r = call("jobrouter_serve_progress", {std::string(job_id), std::string(token), std::to_string(percent), message});
    if (!r) return r.error();
    drain();
    const std::string status = status_of(*r);
    if (status != "ok") return job_refusal(status, element(*r, 2), job_id);
    last_status_ = {std::string(job_id), element(*r, 2)};
    return {};
}

api_result<void> redis_job_service::complete(std::string_view job_id, std::string_view token, json::value result) {
    auto r = call("jobrouter_serve_complete", {std::string(job_id), std::string(token), json::serialize(result)});
    if (!r) return r.error();
    drain();
    const std::string status = status_of(*r);
    if (status != "ok") return job_refusal(status, element(*r, 2), job_id);
    last_status_ = {std::string(job_id), element(*r, 2)};
    local_jobs_.erase(std::string(job_id));
    return {};
}

api_result<void> redis_job_service::fail(std::string_view job_id, std::string_view token, json::value error, bool retryable) {
    auto r = call("jobrouter_serve_fail", {std::string(job_id), std::string(token), retryable ? "1" : "0", json::serialize(error)});
    if (!r) return r.error();
    drain();
    const std::string status = status_of(*r);
    if (status != "ok") return job_refusal(status, element(*r, 2), job_id);
    last_status_ = {std::string(job_id), element(*r, 2)};
    local_jobs_.erase(std::string(job_id));
    return {};
}

// ---- shutdown, health, metrics ---------------------------------------------------------------------

void redis_job_service::stop_local_workers() {
    accepting_local_ = false;
    for (auto it = parked_.begin(); it != parked_.end();)
        it = it->second.local ? parked_.erase(it) : std::next(it);
}

void redis_job_service::release_local_jobs() {
    stop_local_workers();
    const auto held = std::exchange(local_jobs_, {});
    for (const auto& [job_id, worker_id] : held) {
        (void)call("jobrouter_serve_release", {job_id});
        if (auto w = local_.find(worker_id); w != local_.end() && w->second.on_cancel)
            asio::post(io_, [f = w->second.on_cancel, id = job_id] { f(id); });
    }
    drain();
}

std::size_t redis_job_service::running_local_jobs() const { return local_jobs_.size(); }

api_result<job_service::health_info> redis_job_service::health() {
    auto pending = link_.command({"ZCARD", "jobs:pending"});
    if (!pending) return pending.error();
    auto jobs = link_.command({"ZCARD", "jobrouter:jobs"});
    if (!jobs) return jobs.error();
    return health_info{static_cast<std::size_t>(pending->integer), static_cast<std::size_t>(jobs->integer)};
}

api_result<job_service::job_gauges> redis_job_service::gauges() {
    std::set<std::string> keys;
    for (const auto& [name, t] : mapping_.workers)
        for (const auto& k : strategy_.offered_keys(t)) keys.insert(k);
    std::vector<std::string> args{"FCALL_RO", "jobrouter_serve_gauges", "0"};
    args.insert(args.end(), keys.begin(), keys.end());
    auto r = link_.command(args);
    if (!r) return r.error();
    if (r->elements.size() < 2 + keys.size()) return unexpected("jobrouter_serve_gauges", *r);
    job_gauges g;
    g.waiting = static_cast<std::size_t>(r->elements[1].integer);
    std::size_t i = 2;
    for (const auto& k : keys) {
        const auto n = r->elements[i++].integer;
        if (n > 0) g.pending[k] = static_cast<std::uint64_t>(n);
    }
    for (; i + 1 < r->elements.size(); i += 2) g.running[r->elements[i].text()] = static_cast<std::uint64_t>(r->elements[i + 1].integer);
    return g;
}

}  // namespace jobrouter
