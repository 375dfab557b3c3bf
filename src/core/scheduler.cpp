#include "core/scheduler.hpp"

#include <algorithm>
#include <limits>

namespace jobrouter {

namespace {

constexpr time_ms kTimeMax = std::numeric_limits<time_ms>::max();

time_ms add_saturated(time_ms a, time_ms b) { return a > kTimeMax - b ? kTimeMax : a + b; }

error not_assigned(const job& j) {
    return make_error("job_id", "job " + quoted(j.id) + " is " + std::string(to_string(j.status)) + ", not assigned");
}

error not_known(std::string_view id) { return make_error("job_id", "unknown job " + quoted(id)); }

}  // namespace

scheduler::scheduler(const service_mapping& mapping, const strategy& strat, scheduler_options options)
    : mapping_(mapping), strategy_(strat), options_(options) {}

class_ref scheduler::intern(std::string service_required, std::string customer_id, std::string workflow_id,
                            json::object requirements) {
    const std::string signature = job_class_signature(service_required, customer_id, workflow_id, requirements);
    if (auto it = classes_.find(signature); it != classes_.end()) return class_ref(it->second);
    auto c = std::make_unique<job_class>(make_job_class(std::move(service_required), std::move(customer_id),
                                                        std::move(workflow_id), std::move(requirements)));
    if (free_slots_.empty()) {
        c->slot = slot_count_++;
    } else {
        c->slot = free_slots_.back();
        free_slots_.pop_back();
    }
    if (next_serial_ == (1u << 31)) {
        // Serials are 31 bits (verdict = serial * 2 + passes). Once they run out, every cached
        // verdict goes, so a serial given again can never meet one written for an older class.
        next_serial_ = 1;
        for (auto& [id, w] : workers_) w.verdicts.clear();
    }
    c->serial = next_serial_++;
    // release() runs when the last job of the class goes, so classes_ only holds live ones.
    c->owner = this;
    const job_class* p = c.release();
    classes_.emplace(p->signature, p);
    return class_ref(p);
}

void scheduler::release(const job_class* c) noexcept {
    classes_.erase(c->signature);
    free_slots_.push_back(c->slot);
    delete c;
}

bool scheduler::passes_cached(worker& w, const job_class& c) {
    if (c.slot >= w.verdicts.size()) w.verdicts.resize(std::max<std::size_t>(c.slot + 1, slot_count_), 0);
    std::uint32_t& cached = w.verdicts[c.slot];
    if (cached >> 1 == c.serial) return cached & 1u;
    const bool passes = passes_requirements(c, w.profile);
    cached = c.serial << 1 | static_cast<std::uint32_t>(passes);
    return passes;
}

void scheduler::emit(event_kind kind, const std::string& job_id, const std::string& worker_id) {
    if (options_.record_events) events_.push_back(scheduler_event{kind, job_id, worker_id, now_});
}

std::optional<time_ms> scheduler::next_due() const {
    if (timers_.empty()) return std::nullopt;
    return timers_.next_at();
}

void scheduler::advance(time_ms t) {
    now_ = std::max(now_, t);
    apply_due();
}

void scheduler::apply_due() {
    while (!timers_.empty() && timers_.next_at() <= now_) {
        job& j = timers_.next_job();
        timers_.clear(j);
        if (j.is_running()) {
            // An expired lease is a failed attempt whose failure time is the deadline.
            j.last_error = "lease expired";
            record_failure(j, j.lease_deadline, true);
        } else if (j.status == job_status::retrying) {
            j.status = job_status::pending;
            index_.insert(j);
            emit(event_kind::requeued, j.id, {});
        }
    }
}

void scheduler::set_timer(job& j, time_ms at) { timers_.set(j, at); }

void scheduler::clear_timer(job& j) { timers_.clear(j); }

time_ms scheduler::backoff(std::int64_t attempts) const {
    const time_ms base = options_.retry_backoff_ms;
    const time_ms cap = options_.retry_backoff_max_ms;
    if (base == 0) return 0;
    const std::int64_t shift = std::max<std::int64_t>(attempts - 1, 0);
    if (shift >= 62 || base > (cap >> shift)) return cap;
    return std::min(base << shift, cap);
}

void scheduler::release_from_worker(job& j) {
    // A running job's worker is registered: unregistering first fails the jobs it holds.
    if (j.is_running()) worker_slots_[j.holder_slot]->assigned.erase(j.id);
    j.worker_id.clear();
    clear_timer(j);
}

void scheduler::record_failure(job& j, time_ms failure_time, bool retryable) {
    const shared_string holder = j.worker_id;
    release_from_worker(j);
    if (retryable && j.attempts < j.max_retries) {
        j.status = job_status::retrying;
        set_timer(j, add_saturated(failure_time, backoff(j.attempts)));
        emit(event_kind::retried, j.id, holder);
    } else {
        j.status = job_status::failed;
        j.failed_at = now_;
        j.worker_id = holder;  // a finished job remembers who ran it last
        emit(event_kind::failed, j.id, holder);
    }
}

result<job*> scheduler::find_job_for_update(std::string_view id) {
    job* j = jobs_.find(id);
    if (!j) return not_known(id);
    return j;
}

result<worker*> scheduler::find_worker_for_update(std::string_view id) {
    auto it = workers_.find(id);
    if (it == workers_.end()) return make_error("worker_id", "unknown worker " + quoted(id));
    return &it->second;
}

const job* scheduler::find_job(std::string_view id) const {
    return jobs_.find(id);
}

const worker* scheduler::find_worker(std::string_view id) const {
    auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : &it->second;
}

result<const job*> scheduler::submit(job_spec spec) {
    if (jobs_.find(spec.id))
        return make_error("job.id", "duplicate job id " + quoted(spec.id) + " (a job with this id already exists)");
    job j;
    j.id = spec.id;
    j.score = job_score(spec, now_);
    j.cls = intern(std::move(spec.service_required), std::move(spec.customer_id), std::move(spec.workflow_id),
                   std::move(spec.requirements));
    j.priority = spec.priority;
    j.workflow_priority = spec.workflow_priority;
    j.workflow_datetime = spec.workflow_datetime;
    j.max_retries = spec.max_retries;
    j.payload = std::move(spec.payload);
    j.extras = std::move(spec.extras);
    j.created_at = now_;
    j.seq = next_seq_++;
    job& stored = jobs_.insert(std::move(j));
    index_.insert(stored);
    emit(event_kind::submitted, stored.id, {});
    return &stored;
}

result<void> scheduler::register_worker(worker_capabilities caps) {
    auto [it, inserted] = workers_.try_emplace(caps.worker_id);
    it->second.caps = std::move(caps);
    it->second.profile = worker_profile(it->second.caps);
    it->second.id = shared_string(it->second.caps.worker_id);
    it->second.verdicts.clear();  // they were for the old capabilities
    it->second.keys = {};
    if (inserted) {
        if (free_worker_slots_.empty()) {
            it->second.slot = static_cast<std::uint32_t>(worker_slots_.size());
            worker_slots_.push_back(&it->second);
        } else {
            it->second.slot = free_worker_slots_.back();
            free_worker_slots_.pop_back();
            worker_slots_[it->second.slot] = &it->second;
        }
        emit(event_kind::worker_joined, {}, it->first);
    }
    return {};
}

result<void> scheduler::unregister_worker(std::string_view worker_id) {
    auto w = find_worker_for_update(worker_id);
    if (!w) return w.error();
    const sorted_ids held = (*w)->assigned;
    for (const std::string& id : held) {
        job& j = *jobs_.find(id);
        j.last_error = json::string("worker " + std::string(worker_id) + " left while running it");
        record_failure(j, now_, true);
    }
    emit(event_kind::worker_left, {}, std::string(worker_id));
    worker_slots_[(*w)->slot] = nullptr;
    free_worker_slots_.push_back((*w)->slot);
    workers_.erase(workers_.find(worker_id));
    apply_due();
    return {};
}

result<const job*> scheduler::claim(std::string_view worker_id) {
    auto w = find_worker_for_update(worker_id);
    if (!w) return w.error();
    const worker_capabilities& caps = (*w)->caps;
    worker& holder = **w;
    job* j = index_.best_match_if(strategy_.offered_keys(caps), holder.keys, [&holder, this](const job_class& c) {
        // The cached verdict, read here (no call); passes_cached fills it when it is missing.
        if (c.slot < holder.verdicts.size()) {
            const std::uint32_t cached = holder.verdicts[c.slot];
            if (cached >> 1 == c.serial) return (cached & 1u) != 0;
        }
        return passes_cached(holder, c);
    });
    if (!j) return nullptr;
    index_.erase(*j);
    j->status = job_status::assigned;
    ++j->attempts;
    j->worker_id = holder.id;
    j->holder_slot = holder.slot;
    j->assigned_at = now_;
    j->started_at.reset();
    j->progress = 0;
    j->lease_deadline = add_saturated(now_, options_.lease_ms);
    // The lease is seen expired by the first event *after* the deadline.
    set_timer(*j, add_saturated(j->lease_deadline, 1));
    (*w)->assigned.insert(j->id);
    emit(event_kind::assigned, j->id, caps.worker_id);
    return j;
}

result<void> scheduler::complete(std::string_view job_id, json::value job_result) {
    auto j = find_job_for_update(job_id);
    if (!j) return j.error();
    if (!(*j)->is_running()) return not_assigned(**j);
    const shared_string holder = (*j)->worker_id;
    release_from_worker(**j);
    (*j)->status = job_status::completed;
    (*j)->worker_id = holder;  // a finished job remembers who ran it
    (*j)->completed_at = now_;
    (*j)->progress = 100;
    (*j)->result = std::move(job_result);
    emit(event_kind::completed, (*j)->id, holder);
    return {};
}

result<void> scheduler::fail(std::string_view job_id, bool retryable, json::value job_error) {
    auto j = find_job_for_update(job_id);
    if (!j) return j.error();
    if (!(*j)->is_running()) return not_assigned(**j);
    (*j)->last_error = std::move(job_error);
    record_failure(**j, now_, retryable);
    apply_due();  // a zero back-off makes the job pending at once
    return {};
}

result<void> scheduler::cancel(std::string_view job_id) {
    auto j = find_job_for_update(job_id);
    if (!j) return j.error();
    job& x = **j;
    if (x.is_final()) return make_error("job_id", "job " + quoted(x.id) + " is already " + std::string(to_string(x.status)));
    if (x.status == job_status::pending) index_.erase(x);
    const shared_string holder = x.worker_id;
    release_from_worker(x);
    x.status = job_status::cancelled;
    x.cancelled_at = now_;
    emit(event_kind::cancelled, x.id, holder);
    return {};
}

void scheduler::renew_leases(const worker& w) {
    for (const std::string& id : w.assigned) {
        job& j = *jobs_.find(id);
        j.lease_deadline = add_saturated(now_, options_.lease_ms);
        set_timer(j, add_saturated(j.lease_deadline, 1));
    }
}

result<void> scheduler::heartbeat(std::string_view worker_id) {
    auto w = find_worker_for_update(worker_id);
    if (!w) return w.error();
    renew_leases(**w);
    return {};
}

result<heartbeat_outcome> scheduler::heartbeat(std::string_view worker_id, std::optional<std::span<const std::string>> listed) {
    auto w = find_worker_for_update(worker_id);
    if (!w) return w.error();
    worker& wk = **w;
    heartbeat_outcome out;
    if (listed) {
        std::vector<std::string_view> names(listed->begin(), listed->end());
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        for (std::string_view id : names)
            if (!wk.assigned.count(id)) out.unknown.emplace_back(id);
        if (wk.last_heartbeat) {
            const time_ms previous = *wk.last_heartbeat;
            const sorted_ids held = wk.assigned;  // a copy: handing back edits it
            for (const std::string& id : held) {
                if (std::binary_search(names.begin(), names.end(), std::string_view(id))) continue;
                job& j = *jobs_.find(id);
                if (!j.assigned_at || *j.assigned_at >= previous) continue;
                requeue_uncounted(j, wk.caps.worker_id);
                out.handed_back.push_back(id);
            }
        }
    }
    wk.last_heartbeat = now_;
    renew_leases(wk);
    return out;
}

result<void> scheduler::progress(std::string_view job_id, std::int64_t percent) {
    auto j = find_job_for_update(job_id);
    if (!j) return j.error();
    job& x = **j;
    if (!x.is_running()) return not_assigned(x);
    x.status = job_status::in_progress;
    if (!x.started_at) x.started_at = now_;
    x.progress = static_cast<std::int32_t>(std::clamp<std::int64_t>(percent, 0, 100));
    x.lease_deadline = add_saturated(now_, options_.lease_ms);
    set_timer(x, add_saturated(x.lease_deadline, 1));
    emit(event_kind::progress, x.id, x.worker_id);
    return {};
}

result<void> scheduler::release(std::string_view job_id) {
    auto j = find_job_for_update(job_id);
    if (!j) return j.error();
    job& x = **j;
    if (!x.is_running()) return not_assigned(x);
    requeue_uncounted(x, {});
    return {};
}

void scheduler::requeue_uncounted(job& j, const std::string& worker_id) {
    release_from_worker(j);
    --j.attempts;
    j.status = job_status::pending;
    index_.insert(j);
    emit(event_kind::requeued, j.id, worker_id);
}

result<void> scheduler::forget(std::string_view job_id) {
    job* j = jobs_.find(job_id);
    if (!j) return not_known(job_id);
    if (!j->is_final())
        return make_error("job_id", "job " + quoted(job_id) + " is " + std::string(to_string(j->status)) + ", not finished");
    jobs_.erase(*j);
    return {};
}

result<std::vector<explained_job>> scheduler::explain_claim(std::string_view worker_id, std::size_t n) const {
    const worker* w = find_worker(worker_id);
    if (!w) return make_error("worker_id", "unknown worker " + quoted(worker_id));
    std::vector<explained_job> out;
    for (const job* j : index_.top(n)) {
        if (auto why = find_rejection(*j->cls, w->caps, strategy_.offered_keys(w->caps), true))
            out.push_back({j, std::move(*why)});
    }
    return out;
}

bool scheduler::can_take(const worker& w, const job_class& c) const {
    return !find_rejection(c, w.caps, strategy_.offered_keys(w.caps), false);
}

bool scheduler::has_capable_worker(const job_class& c) const {
    for (const auto& [id, w] : workers_)
        if (can_take(w, c)) return true;
    return false;
}

result<job_explanation> scheduler::explain_job(std::string_view job_id) const {
    const job* j = find_job(job_id);
    if (!j) return not_known(job_id);
    job_explanation out;
    out.j = j;
    for (const auto& [id, w] : workers_) {
        worker_verdict v = judge_worker(*j->cls, w.caps, !w.assigned.empty(), strategy_);
        if (v.matches()) out.routable = true;
        out.workers.push_back(std::move(v));
    }
    std::sort(out.workers.begin(), out.workers.end(),
              [](const worker_verdict& a, const worker_verdict& b) { return a.caps->worker_id < b.caps->worker_id; });
    out.verdict = explain_verdict(j->status, j->worker_id, j->service_required(), out.workers, strategy_);
    return out;
}

}  // namespace jobrouter
