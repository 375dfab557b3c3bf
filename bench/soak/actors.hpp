// actors: the soak driver's clients, each a loop on a thread of its own with its own keep-alive
// connection (http_client), running until the phase flags say stop:
// - submitter: submits jobs (ids soak-<submitter>-<n>, random priority and payload size) while
//   fewer than `window` accepted jobs are unfinished; retries a submit whose connection failed
//   with the same id and body (idempotent), so no acceptance goes unrecorded;
// - worker: registers, heartbeats, long-polls claims and, per job, completes, fails (retryable
//   or not), stalls past its lease and reports late (must get 409), vanishes (abandons its id,
//   registers a new one), or drops its claim's connection; after the load phase it only
//   completes;
// - canceller: cancels random recent jobs;
// - faults: malformed JSON, wrong types, unknown ids and routes, oversized bodies, bytes that are
//   not HTTP: each must get its 4xx (or the connection closed), never a 5xx.
#pragma once

#include "bench/soak/event_log.hpp"
#include "bench/soak/soak_tally.hpp"

#include <cstdint>
#include <string>

namespace jobrouter::soak {

struct soak_settings {
    std::string host = "127.0.0.1";
    std::string port;
    std::int64_t lease_ms = 1500;         ///< serve's --lease-ms (a stall sleeps past it)
    std::int64_t max_body_bytes = 65536;  ///< serve's --max-body-bytes (an oversized body exceeds it)
    std::size_t window = 400;             ///< accepted but unfinished jobs before submitters pause
    std::uint64_t seed = 1;
};

struct actor_context {
    const soak_settings& settings;
    tally& record;
    event_log& events;
    phase_flags& phase;
};

void run_submitter(actor_context ctx, int index);
void run_worker(actor_context ctx, int index);
void run_canceller(actor_context ctx, int index);
void run_faults(actor_context ctx, int index);

}  // namespace jobrouter::soak
