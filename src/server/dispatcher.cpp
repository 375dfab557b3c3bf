#include "server/dispatcher.hpp"

#include "server/job_json.hpp"
#include "server/log.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace jobrouter {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Connectors report {"message": ...}; clients may send a plain string.
std::string error_text(const json::value& e) {
    if (e.is_string()) return std::string(e.get_string());
    if (const json::value* m = e.is_object() ? e.get_object().if_contains("message") : nullptr; m && m->is_string())
        return std::string(m->get_string());
    return e.is_null() ? std::string{} : json::serialize(e);
}

}  // namespace

dispatcher::dispatcher(asio::io_context& io, const service_mapping& mapping, const strategy& strat,
                       dispatcher_options options, const clock_source& clock)
    : job_service(mapping, strat),
      io_(io),
      options_(options),
      clock_(clock),
      sched_(mapping, strat,
             [&] {
                 scheduler_options o = options.scheduling;
                 o.record_events = true;
                 return o;
             }()),
      due_timer_(io),
      sweep_timer_(io),
      local_lease_timer_(io),
      // Lease tokens only guard against stale and mistaken reports; authentication is the
      // API token's job, so a seeded PRNG is enough here.
      rng_(std::random_device{}()) {
    sched_.advance(clock_.now_ms());
    sweep();
    renew_local_leases();
}

dispatcher::~dispatcher() = default;

// ---- the clock and timers --------------------------------------------------------------------

void dispatcher::advance() { sched_.advance(clock_.now_ms()); }

void dispatcher::arm_timer() {
    auto next = sched_.next_due();
    if (!next) {
        if (armed_for_) due_timer_.cancel();
        armed_for_.reset();
        return;
    }
    if (armed_for_ == next) return;
    armed_for_ = next;
    // +1 ms: never wake a hair early and spin until the wall clock catches up.
    const time_ms delay = std::max<time_ms>(*next - clock_.now_ms(), 0) + 1;
    due_timer_.expires_after(std::chrono::milliseconds(delay));
    due_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        on_timer();
    });
}

void dispatcher::on_timer() {
    armed_for_.reset();
    advance();
    after_change();
}

void dispatcher::sweep() {
    advance();
    const time_ms now = sched_.now();
    std::vector<std::string> silent;
    for (auto& [id, w] : workers_)
        if (!w.local && !w.waiting() && now - w.last_seen > options_.worker_timeout_ms) silent.push_back(id);
    for (const auto& id : silent) (void)unregister(id);
    after_change();
    sweep_timer_.expires_after(std::chrono::milliseconds(250));
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) sweep();
    });
}

// In-process workers are alive while this process is: their leases are renewed three times a
// lease, so they expire only if the loop itself stalls (and, with a shared store, when the
// process dies).
void dispatcher::renew_local_leases() {
    advance();
    for (auto& [id, w] : workers_) {
        if (!w.local) continue;
        (void)sched_.heartbeat(id);
        w.last_seen = sched_.now();
    }
    after_change();
    const time_ms period = options_.local_heartbeat_ms > 0 ? options_.local_heartbeat_ms : options_.scheduling.lease_ms / 3;
    local_lease_timer_.expires_after(std::chrono::milliseconds(std::max<time_ms>(period, 1)));
    local_lease_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) renew_local_leases();
    });
}

// ---- events -----------------------------------------------------------------------------------

void dispatcher::after_change() {
    for (;;) {
        auto events = sched_.take_events();
        if (events.empty()) break;
        std::vector<std::string> newly_pending;
        for (auto& e : events) {
            count(e.kind);
            if (!e.job_id.empty()) sync_waiting(e.job_id);
            dispatcher_event de{e, {}, 0, {}};
            const job* j = e.job_id.empty() ? nullptr : sched_.find_job(e.job_id);
            if (j) {
                de.service_required = j->service_required();
                de.progress = j->progress;
            }
            switch (e.kind) {
            case event_kind::submitted:
                pending_since_[e.job_id] = std::chrono::steady_clock::now();
                newly_pending.push_back(e.job_id);
                if (j && j->status == job_status::pending && !sched_.has_capable_worker(*j->cls)) mark_unroutable(*j);
                break;
            case event_kind::requeued:
                // Named worker: handed back by its heartbeat (it did not list the job).
                if (!e.worker_id.empty()) de.message = kHandedBackMessage;
                newly_pending.push_back(e.job_id);
                break;
            case event_kind::assigned: {
                clear_unroutable(e.job_id);
                if (auto it = pending_since_.find(e.job_id); it != pending_since_.end()) {
                    if (on_submit_to_assign)
                        on_submit_to_assign(std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second).count());
                    pending_since_.erase(it);
                }
                break;
            }
            case event_kind::progress: de.message = progress_message_; break;
            case event_kind::completed:
            case event_kind::failed:
            case event_kind::retried:
            case event_kind::cancelled: {
                tokens_.erase(e.job_id);
                if (e.kind != event_kind::retried) clear_unroutable(e.job_id);
                if (j && (e.kind == event_kind::failed || e.kind == event_kind::retried)) de.message = error_text(j->last_error);
                if (e.kind != event_kind::retried) {
                    pending_since_.erase(e.job_id);
                    finished_.emplace_back(e.at, e.job_id);
                }
                if (auto w = workers_.find(e.worker_id); w != workers_.end()) {
                    if (e.kind == event_kind::cancelled) {
                        if (w->second.local) {
                            if (w->second.on_cancel) asio::post(io_, [f = w->second.on_cancel, id = e.job_id] { f(id); });
                        } else {
                            w->second.cancelled.push_back(e.job_id);
                        }
                    }
                    // A worker whose job ended is idle from now on (for "idle longest").
                    const bool parked = w->second.waiting();
                    if (parked) idle_.erase({w->second.idle_since, w->first});
                    w->second.idle_since = e.at;
                    if (parked) idle_.emplace(w->second.idle_since, w->first);
                }
                break;
            }
            case event_kind::worker_joined:
            case event_kind::worker_left: break;
            }
            notify(de);
        }
        for (const auto& id : newly_pending) offer_job(id);
    }

    // Retention: drop finished jobs beyond the count or older than the age limit.
    const time_ms now = sched_.now();
    while (!finished_.empty() &&
           (finished_.size() > options_.retention_count || now - finished_.front().first > options_.retention_ms)) {
        const std::string id = finished_.front().second;
        finished_.pop_front();
        if (const job* j = sched_.find_job(id); j && j->is_final()) {
            by_seq_.erase(j->seq);
            bodies_.erase(id);
            (void)sched_.forget(id);
        }
    }
    arm_timer();
}

// Every change of a job's status comes with an event: the waiting counts follow the job's
// status after it, whatever the event was.
void dispatcher::sync_waiting(const std::string& job_id) {
    const job* j = sched_.find_job(job_id);
    const bool waiting = j && (j->status == job_status::pending || j->status == job_status::retrying);
    auto it = waiting_.find(job_id);
    if (waiting == (it != waiting_.end())) return;
    if (waiting) {
        const std::string type = j->service_required();
        waiting_.emplace(job_id, type);
        ++waiting_by_type_[type];
    } else {
        auto count = waiting_by_type_.find(it->second);
        if (--count->second == 0) waiting_by_type_.erase(count);
        waiting_.erase(it);
    }
}

// ---- push assignment --------------------------------------------------------------------------

void dispatcher::offer_job(const std::string& job_id) {
    const job* j = sched_.find_job(job_id);
    if (!j || j->status != job_status::pending) return;
    const std::string key = j->service_required();
    // Copy: serving a worker unparks it, which changes idle_.
    std::vector<std::string> candidates;
    for (const auto& [since, wid] : idle_) {
        const worker* w = sched_.find_worker(wid);
        if (w && offers(strategy_.offered_keys(w->caps), key)) candidates.push_back(wid);
    }
    for (const auto& wid : candidates) {
        if (!try_serve(wid)) continue;
        const job* now = sched_.find_job(job_id);
        if (!now || now->status != job_status::pending) return;
    }
}

bool dispatcher::try_serve(const std::string& worker_id) {
    const auto started = std::chrono::steady_clock::now();
    auto claimed = sched_.claim(worker_id);
    if (on_claim_duration) on_claim_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!claimed || !*claimed) return false;
    deliver(worker_id, **claimed);
    return true;
}

void dispatcher::deliver(const std::string& worker_id, const job& j) {
    auto it = workers_.find(worker_id);
    worker_state& w = it->second;
    assignment a{j.id, worker_id, new_token(), job_to_json(j)};
    tokens_[j.id] = a.lease_token;
    unpark(worker_id, w);
    if (w.wait_timer) w.wait_timer->cancel();
    if (w.local_deliver) {
        asio::post(io_, [f = std::exchange(w.local_deliver, {}), a = std::move(a)]() mutable { f(std::move(a)); });
    } else if (w.external_deliver) {
        w.last_seen = sched_.now();
        asio::post(io_, [f = std::exchange(w.external_deliver, {}), a = std::move(a)]() mutable {
            f(api_result<wait_result>(wait_result(std::move(a))));
        });
    }
}

void dispatcher::park(const std::string& worker_id, worker_state& w) { idle_.emplace(w.idle_since, worker_id); }

// Only leaves the idle set: the wait's timer keeps running (re-registration parks it again).
void dispatcher::unpark(const std::string& worker_id, worker_state& w) { idle_.erase({w.idle_since, worker_id}); }

void dispatcher::end_wait_empty(worker_state& w) {
    if (w.wait_timer) w.wait_timer->cancel();
    if (w.external_deliver)
        asio::post(io_, [f = std::exchange(w.external_deliver, {})] { f(api_result<wait_result>(wait_result())); });
    w.local_deliver = nullptr;
}

std::uint64_t dispatcher::wait_for_job(std::string_view worker_id, std::chrono::milliseconds wait,
                                       std::function<void(api_result<wait_result>)> done) {
    advance();
    auto ext = external_worker(worker_id);
    if (!ext) {
        asio::post(io_, [done = std::move(done), e = ext.error()] { done(e); });
        return 0;
    }
    auto it = workers_.find(worker_id);
    const std::string wid = it->first;
    worker_state& w = it->second;
    w.last_seen = sched_.now();
    if (w.waiting()) {  // a newer wait replaces the older one
        unpark(wid, w);
        end_wait_empty(w);
    }
    w.external_deliver = std::move(done);
    const std::uint64_t serial = ++w.wait_serial;
    if (try_serve(wid)) {
        after_change();
        return serial;
    }
    if (wait.count() <= 0) {
        end_wait_empty(w);
        after_change();
        return serial;
    }
    park(wid, w);
    if (!w.wait_timer) w.wait_timer = std::make_unique<asio::steady_timer>(io_);
    w.wait_timer->expires_after(wait);
    w.wait_timer->async_wait([this, wid](boost::system::error_code ec) {
        if (ec) return;  // cancelled: the wait was answered or replaced
        auto it = workers_.find(wid);
        if (it == workers_.end() || !it->second.external_deliver) return;
        unpark(wid, it->second);
        it->second.last_seen = clock_.now_ms();
        end_wait_empty(it->second);
    });
    after_change();
    return serial;
}

void dispatcher::withdraw_wait(std::string_view worker_id, std::uint64_t serial) {
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) return;
    worker_state& w = it->second;
    if (w.local || w.wait_serial != serial || !w.external_deliver) return;  // answered or replaced already
    advance();
    unpark(it->first, w);
    w.last_seen = sched_.now();
    end_wait_empty(w);
    after_change();
}

void dispatcher::ready_for_job(std::string_view worker_id, deliver_fn deliver_to) {
    advance();
    auto it = workers_.find(worker_id);
    if (it == workers_.end() || !accepting_local_) return;
    const std::string wid = it->first;
    worker_state& w = it->second;
    if (w.waiting()) unpark(wid, w);
    w.local_deliver = std::move(deliver_to);
    if (!try_serve(wid)) park(wid, w);
    after_change();
}

// ---- jobs --------------------------------------------------------------------------------------

std::string dispatcher::new_token() {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng_()),
                  static_cast<unsigned long long>(rng_()));
    return buf;
}

api_result<dispatcher::submit_outcome> dispatcher::submit(json::value body) {
    advance();
    if (!body.is_object()) return api_error{400, "invalid_request", "body: must be a JSON object, got " + describe(body)};
    // One body, no copies (they were ~7.5% of serve's time per job, bench http): a generated id
    // is added for parse_job_spec and taken out again, so that the stored body is the one the
    // client sent (a later submit with that id and this body is a conflict, as before).
    json::object& o = body.get_object();
    const bool generated_id = !o.contains("id");
    if (generated_id) {
        std::string id;
        do {
            char buf[48];
            std::snprintf(buf, sizeof buf, "job-%llx-%llu", static_cast<unsigned long long>(sched_.now()),
                          static_cast<unsigned long long>(next_generated_id_++));
            id = buf;
        } while (sched_.find_job(id));
        o["id"] = id;
    }
    auto spec = parse_job_spec(body, "job");
    if (generated_id) o.stable_erase("id");
    if (!spec) return bad_request(spec.error());
    if (sched_.find_job(spec->id)) {
        auto stored = bodies_.find(spec->id);
        if (stored != bodies_.end() && json_equal(stored->second, body)) {
            submit_outcome existing{submit_kind::existing, spec->id, {}};
            if (is_unroutable(spec->id))
                if (auto why = sched_.explain_job(spec->id)) existing.warnings.push_back(why->verdict);
            return existing;
        }
        return conflict("job.id: job " + quoted(spec->id) + " exists with a different body");
    }
    // Checked after validation and the idempotent replay above, before anything is stored: a
    // refused job does not exist afterwards, and resubmitting an existing one still answers.
    if (waiting_.size() >= options_.max_pending_jobs)
        return api_error{429, "too_many_pending",
                         std::to_string(waiting_.size()) + " jobs are waiting for a worker, the limit of " +
                             std::to_string(options_.max_pending_jobs) + " (--max-pending-jobs raises it); retry later",
                         1};
    if (const std::size_t n = waiting_count(spec->service_required); n >= options_.max_pending_per_type)
        return api_error{429, "too_many_pending",
                         std::to_string(n) + " jobs with service_required " + quoted(spec->service_required) +
                             " are waiting for a worker, the limit of " + std::to_string(options_.max_pending_per_type) +
                             " per type (--max-pending-per-type raises it); retry later",
                         1};
    const std::string id = spec->id;
    auto submitted = sched_.submit(std::move(*spec));
    if (!submitted) return bad_request(submitted.error());
    by_seq_[(*submitted)->seq] = id;
    bodies_[id] = std::move(body);
    after_change();
    submit_outcome created{submit_kind::created, id, {}};
    if (is_unroutable(id))
        if (auto why = sched_.explain_job(id)) created.warnings.push_back(why->verdict);
    return created;
}

api_result<json::object> dispatcher::get_job(std::string_view job_id) {
    advance();
    after_change();
    const job* j = sched_.find_job(job_id);
    if (!j) return not_found("unknown job " + quoted(job_id));
    json::object o = job_to_json(*j);
    if (auto w = workers_.find(j->worker_id); w != workers_.end()) o["worker_kind"] = w->second.local ? "in-process" : "external";
    return o;
}

api_result<void> dispatcher::cancel(std::string_view job_id) {
    advance();
    const job* j = sched_.find_job(job_id);
    if (!j) return not_found("unknown job " + quoted(job_id));
    auto r = sched_.cancel(job_id);
    if (!r) return conflict(r.error().text());
    after_change();
    return {};
}

api_result<dispatcher::job_page> dispatcher::list_jobs(const job_query& q) {
    advance();
    after_change();
    job_page page;
    std::size_t skipped = 0;
    std::uint64_t last_seq = 0;
    bool more = false;
    for (auto it = by_seq_.rbegin(); it != by_seq_.rend(); ++it) {
        const job* j = sched_.find_job(it->second);
        if (!j) continue;
        if (!q.status.empty() && to_string(j->status) != q.status) continue;
        if (!q.service_required.empty() && j->service_required() != q.service_required) continue;
        if (q.unroutable && !is_unroutable(it->second)) continue;
        ++page.total;  // every match counts, whichever page it is on
        if (q.cursor != 0 && it->first >= q.cursor) continue;
        if (q.cursor == 0 && skipped < q.offset) {
            ++skipped;
            continue;
        }
        if (page.jobs.size() < q.limit) {
            page.jobs.push_back(job_to_json(*j));
            last_seq = it->first;
        } else {
            more = true;
        }
    }
    if (more) page.next = last_seq;
    return page;
}

// ---- workers -----------------------------------------------------------------------------------

api_result<void> dispatcher::register_external(const json::value& body) {
    advance();
    auto caps = parse_worker(body, mapping_, "worker");
    if (!caps) return bad_request(caps.error());
    const std::string id = caps->worker_id;
    if (auto it = workers_.find(id); it != workers_.end() && it->second.local)
        return conflict("worker_id: " + quoted(id) + " is an in-process worker of this server");
    std::optional<std::vector<std::string>> old_keys;  // re-registration: what it offered before
    if (const worker* before = sched_.find_worker(id)) {
        auto keys = strategy_.offered_keys(before->caps);
        old_keys.emplace(keys.begin(), keys.end());
    }
    (void)sched_.register_worker(std::move(*caps));
    recheck_gained(id);
    if (old_keys) recheck_lost(*old_keys);
    auto [it, inserted] = workers_.try_emplace(id);
    it->second.last_seen = sched_.now();
    if (inserted) it->second.idle_since = sched_.now();
    // New capabilities may match jobs that were pending all along.
    if (it->second.waiting()) {
        unpark(id, it->second);
        if (!try_serve(id)) park(id, it->second);
    }
    after_change();
    return {};
}

api_result<void> dispatcher::register_local(const json::value& capabilities, cancel_fn on_cancel) {
    advance();
    auto caps = parse_worker(capabilities, mapping_, "worker");
    if (!caps) return bad_request(caps.error());
    const std::string id = caps->worker_id;
    if (workers_.count(id)) return conflict("worker_id: " + quoted(id) + " is already registered");
    (void)sched_.register_worker(std::move(*caps));
    recheck_gained(id);
    worker_state& w = workers_[id];
    w.local = true;
    w.on_cancel = std::move(on_cancel);
    w.last_seen = w.idle_since = sched_.now();
    after_change();
    return {};
}

api_result<void> dispatcher::unregister(std::string_view worker_id) {
    advance();
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) return not_found("unknown worker " + quoted(worker_id));
    unpark(it->first, it->second);
    end_wait_empty(it->second);
    std::vector<std::string> keys;
    if (const worker* rec = sched_.find_worker(worker_id)) {
        auto offered = strategy_.offered_keys(rec->caps);
        keys.assign(offered.begin(), offered.end());
    }
    (void)sched_.unregister_worker(worker_id);
    workers_.erase(it);
    recheck_lost(keys);
    after_change();
    return {};
}

api_result<json::array> dispatcher::list_workers() {
    advance();
    after_change();
    json::array out;
    for (const auto& [id, w] : workers_) {
        const worker* rec = sched_.find_worker(id);
        if (!rec) continue;
        json::object o;
        o["worker_id"] = id;
        o["worker_type"] = rec->caps.worker_type.empty() ? json::value(nullptr) : json::value(rec->caps.worker_type);
        o["kind"] = w.local ? "in-process" : "external";
        o["status"] = !rec->assigned.empty() ? "busy" : (w.waiting() ? "waiting" : "idle");
        json::array jobs;
        for (const auto& j : rec->assigned) jobs.emplace_back(j);
        o["jobs"] = std::move(jobs);
        json::array keys;
        for (const auto& k : strategy_.offered_keys(rec->caps)) keys.emplace_back(k);
        o["offers"] = std::move(keys);
        o["last_seen"] = iso_time(w.last_seen);
        out.push_back(std::move(o));
    }
    return out;
}

api_result<dispatcher::worker_state*> dispatcher::external_worker(std::string_view worker_id) {
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) return not_found("unknown worker " + quoted(worker_id));
    if (it->second.local)
        return conflict("worker " + quoted(worker_id) + " is an in-process worker of this server; the API serves external workers only");
    return &it->second;
}

api_result<void> dispatcher::unregister_external(std::string_view worker_id) {
    if (auto ext = external_worker(worker_id); !ext) return ext.error();
    return unregister(worker_id);
}

api_result<dispatcher::heartbeat_reply> dispatcher::heartbeat(std::string_view worker_id,
                                                              const std::optional<std::vector<std::string>>& jobs) {
    advance();
    auto ext = external_worker(worker_id);
    if (!ext) return ext.error();
    auto it = workers_.find(worker_id);
    auto outcome = sched_.heartbeat(worker_id, jobs ? std::optional<std::span<const std::string>>(*jobs) : std::nullopt);
    heartbeat_reply reply{std::exchange(it->second.cancelled, {}), {}, {}};
    if (outcome) {
        // A handed-back job's lease token is no longer valid: its reports get 409.
        for (const auto& id : outcome->handed_back) tokens_.erase(id);
        reply.unknown_jobs = std::move(outcome->unknown);
        reply.handed_back = std::move(outcome->handed_back);
    }
    it->second.last_seen = sched_.now();
    after_change();  // offers the handed-back jobs to idle workers
    return reply;
}

api_result<job*> dispatcher::running_job(std::string_view job_id, std::string_view token) {
    const job* j = sched_.find_job(job_id);
    if (!j) return not_found("unknown job " + quoted(job_id));
    auto t = tokens_.find(std::string(job_id));
    if (!j->is_running() || t == tokens_.end())
        return conflict("job " + quoted(job_id) + " is " + std::string(to_string(j->status)) + ": this lease is no longer valid");
    if (t->second != token) return conflict("lease_token: does not match the current lease of job " + quoted(job_id));
    if (auto w = workers_.find(j->worker_id); w != workers_.end()) w->second.last_seen = sched_.now();
    return const_cast<job*>(j);
}

api_result<void> dispatcher::progress(std::string_view job_id, std::string_view token, std::int64_t percent,
                                      const std::string& message) {
    advance();
    auto j = running_job(job_id, token);
    if (!j) {
        after_change();
        return j.error();
    }
    progress_message_ = message;
    (void)sched_.progress(job_id, percent);
    after_change();
    progress_message_.clear();
    return {};
}

api_result<void> dispatcher::complete(std::string_view job_id, std::string_view token, json::value result) {
    advance();
    auto j = running_job(job_id, token);
    if (!j) {
        after_change();
        return j.error();
    }
    (void)sched_.complete(job_id, std::move(result));
    after_change();
    return {};
}

api_result<void> dispatcher::fail(std::string_view job_id, std::string_view token, json::value error, bool retryable) {
    advance();
    auto j = running_job(job_id, token);
    if (!j) {
        after_change();
        return j.error();
    }
    (void)sched_.fail(job_id, retryable, std::move(error));
    after_change();
    return {};
}

// ---- explain and unroutable jobs ---------------------------------------------------------------

api_result<json::object> dispatcher::explain_job(std::string_view job_id) {
    advance();
    after_change();
    auto ex = sched_.explain_job(job_id);
    if (!ex) return not_found("unknown job " + quoted(job_id));
    json::array workers;
    for (const worker_verdict& v : ex->workers) {
        const std::string& wid = v.caps->worker_id;
        auto st = workers_.find(wid);
        const bool local = st != workers_.end() && st->second.local;
        const std::string state = v.busy ? "busy" : (st != workers_.end() && st->second.waiting() ? "waiting" : "idle");
        json::object o;
        o["worker_id"] = wid;
        o["kind"] = local ? "in-process" : "external";
        o["state"] = state;
        o["matches"] = v.matches();
        o["rule"] = v.why ? json::value(v.why->rule) : json::value(nullptr);
        o["detail"] = v.why ? v.why->detail : "would match (" + state + ")";
        workers.push_back(std::move(o));
    }
    return json::object{{"job_id", ex->j->id},
                        {"status", to_string(ex->j->status)},
                        {"service_required", ex->j->service_required()},
                        {"unroutable", is_unroutable(ex->j->id)},
                        {"verdict", ex->verdict},
                        {"workers", std::move(workers)}};
}

api_result<json::object> dispatcher::explain_worker(std::string_view worker_id, std::size_t limit) {
    advance();
    after_change();
    auto ex = sched_.explain_claim(worker_id, limit);
    if (!ex) return not_found("unknown worker " + quoted(worker_id));
    json::array jobs;
    for (const explained_job& e : *ex)
        jobs.push_back(json::object{{"job_id", e.j->id}, {"rule", e.why.rule}, {"detail", e.why.detail}});
    return json::object{{"worker_id", worker_id}, {"jobs", std::move(jobs)}};
}

// The unroutable set: pending or retrying jobs that no registered worker can take (every rule
// of matcher.cpp find_rejection, so R1-R4, not only R2). It is kept up to date on the events
// that can change the answer, never on the claim path:
// - a submitted job is checked against every registered worker: O(workers) per submit;
// - a worker that registers (or re-registers) is checked against the unroutable jobs only:
//   O(unroutable) per registration, since only its own capabilities are new;
// - a worker that leaves (or re-registers with other capabilities) can strand the pending and
//   retrying jobs of the keys it offered: those are re-checked against every worker, once per
//   job class: O(jobs) to walk the table plus O(classes x workers) to match, per departure.
// A job leaves the set when it is assigned, cancelled or finished. The first unroutable job of
// a type (since that type last had none) is logged with its explain verdict.
void dispatcher::mark_unroutable(const job& j) {
    if (!unroutable_.insert(j.id).second) return;
    if (++unroutable_by_type_[j.service_required()] != 1) return;
    auto ex = sched_.explain_job(j.id);
    log::warn("jobs of this type cannot be routed: " + (ex ? ex->verdict : std::string("no registered worker can take them")),
              {{"service_required", j.service_required()}, {"job_id", j.id}});
}

void dispatcher::clear_unroutable(const std::string& job_id) {
    auto it = unroutable_.find(job_id);
    if (it == unroutable_.end()) return;
    unroutable_.erase(it);
    if (const job* j = sched_.find_job(job_id))
        if (auto n = unroutable_by_type_.find(j->service_required()); n != unroutable_by_type_.end() && n->second > 0) --n->second;
}

void dispatcher::recheck_gained(const std::string& worker_id) {
    const worker* w = sched_.find_worker(worker_id);
    if (!w || unroutable_.empty()) return;
    std::vector<std::string> cleared;
    for (const auto& id : unroutable_) {
        const job* j = sched_.find_job(id);
        if (!j || sched_.can_take(*w, *j->cls)) cleared.push_back(id);
    }
    for (const auto& id : cleared) clear_unroutable(id);
}

void dispatcher::recheck_lost(const std::vector<std::string>& keys) {
    if (keys.empty()) return;
    std::unordered_map<const job_class*, bool> capable;  // one match per class, not per job
    std::vector<const job*> stranded;
    sched_.for_each_job([&](const job& j) {
        if (j.status != job_status::pending && j.status != job_status::retrying) return;
        if (std::find(keys.begin(), keys.end(), j.service_required()) == keys.end() || is_unroutable(j.id)) return;
        auto [it, fresh] = capable.try_emplace(j.cls.get(), false);
        if (fresh) it->second = sched_.has_capable_worker(*j.cls);
        if (!it->second) stranded.push_back(&j);
    });
    // Mark in submission order, so the logged job is the oldest of its type.
    std::sort(stranded.begin(), stranded.end(), [](const job* a, const job* b) { return a->seq < b->seq; });
    for (const job* j : stranded) mark_unroutable(*j);
}

// ---- shutdown ------------------------------------------------------------------------------------

void dispatcher::stop_local_workers() {
    accepting_local_ = false;
    for (auto& [id, w] : workers_) {
        if (!w.local || !w.waiting()) continue;
        unpark(id, w);
        w.local_deliver = nullptr;
    }
}

void dispatcher::release_local_jobs() {
    advance();
    stop_local_workers();
    for (auto& [id, w] : workers_) {
        if (!w.local) continue;
        const worker* rec = sched_.find_worker(id);
        if (!rec) continue;
        const std::set<std::string> held = rec->assigned;
        for (const auto& job_id : held) {
            (void)sched_.release(job_id);
            tokens_.erase(job_id);
            if (w.on_cancel) asio::post(io_, [f = w.on_cancel, job_id] { f(job_id); });
        }
    }
    after_change();
}

std::optional<std::string> dispatcher::job_status(std::string_view job_id) {
    const job* j = sched_.find_job(job_id);
    if (!j) return std::nullopt;
    return std::string(to_string(j->status));
}

bool dispatcher::holds_jobs(std::string_view worker_id) {
    const worker* w = sched_.find_worker(worker_id);
    return w && !w->assigned.empty();
}

api_result<dispatcher::health_info> dispatcher::health() { return health_info{sched_.pending_count(), sched_.job_count()}; }

api_result<dispatcher::job_gauges> dispatcher::gauges() {
    job_gauges g;
    sched_.for_each_job([&](const job& j) {
        if (j.status == job_status::pending) ++g.pending[j.service_required()];
        if (j.is_running()) ++g.running[j.service_required()];
    });
    g.unroutable = unroutable_by_type_;
    g.waiting = waiting_.size();
    return g;
}

std::size_t dispatcher::running_local_jobs() const {
    std::size_t n = 0;
    for (const auto& [id, w] : workers_)
        if (w.local)
            if (const worker* rec = sched_.find_worker(id)) n += rec->assigned.size();
    return n;
}

}  // namespace jobrouter
