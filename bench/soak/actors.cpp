#include "bench/soak/actors.hpp"

#include "app/http_client.hpp"

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>
#include <random>
#include <thread>

namespace jobrouter::soak {

namespace json = boost::json;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto kRequestTimeout = 10s;

std::string short_body(const std::string& body) { return body.size() > 200 ? body.substr(0, 200) + "..." : body; }

std::string lease_body(const std::string& token, const std::string& extra) {
    return R"({"lease_token":")" + token + "\"," + extra + "}";
}

// A report (progress, complete, fail) whose only acceptable answers are 200 and 409 (the job
// was cancelled meanwhile). Returns the status, 0 on a transport error.
unsigned report(http_client& c, tally& t, const std::string& job_id, const std::string& action, const std::string& body) {
    auto r = c.post("/api/jobs/" + job_id + "/" + action, body);
    if (!r) {
        t.problem(action + " " + job_id + ": " + r.error().text());
        return 0;
    }
    if (r->status == 200 || r->status == 409) {
        t.count(action + "_" + std::to_string(r->status));
        return r->status;
    }
    t.problem(action + " " + job_id + " -> " + std::to_string(r->status) + " " + short_body(r->body));
    return r->status;
}

// A heartbeat that lists the jobs the worker works on (`held`: none between jobs, the current
// one during a job), so that serve hands back what it handed to a claim whose client hung up.
// Counts what came back; returns the reply.
result<http_reply> heartbeat(http_client& c, tally& t, const std::string& id, const std::vector<std::string>& held) {
    json::array jobs(held.begin(), held.end());
    auto r = c.post("/api/workers/" + id + "/heartbeat", json::serialize(json::object{{"jobs", std::move(jobs)}}));
    if (!r || r->status != 200) return r;
    boost::system::error_code ec;
    const json::value v = json::parse(r->body, ec);
    const json::object* o = !ec && v.is_object() ? &v.get_object() : nullptr;
    const json::value* back = o ? o->if_contains("handed_back_jobs") : nullptr;
    const json::value* unknown = o ? o->if_contains("unknown_jobs") : nullptr;
    if (!back || !back->is_array() || !unknown || !unknown->is_array()) {
        t.problem("heartbeat " + id + " listing its jobs: no handed_back_jobs or unknown_jobs in " + short_body(r->body));
        return r;
    }
    for (const auto& x : back->get_array()) {
        t.count("heartbeat_handed_back");
        // Only jobs this worker never received may be handed back: it lists every one it has.
        if (x.is_string() && std::find(held.begin(), held.end(), std::string_view(x.get_string())) != held.end())
            t.problem("heartbeat " + id + " handed back " + std::string(x.get_string()) + ", which it listed");
    }
    t.count("heartbeat_unknown_jobs", unknown->get_array().size());
    return r;
}

bool register_worker(http_client& c, tally& t, const std::string& id) {
    auto r = c.post("/api/workers", R"({"worker_id":")" + id + R"(","worker_type":"simulation"})");
    if (r && r->status == 201) return true;
    t.problem("register " + id + " -> " + (r ? std::to_string(r->status) + " " + short_body(r->body) : r.error().text()));
    return false;
}

std::string worker_name(int index, int generation) {
    return "soak-w" + std::to_string(index) + "-g" + std::to_string(generation);
}

// Sends raw bytes on a fresh connection and reads what comes back until the server closes or 5 s
// pass (or, with `hang_up`, closes at once without reading). Returns the reply's first line
// ("" when the server only closed).
std::string raw_exchange(const soak_settings& s, const std::string& bytes, bool hang_up = false) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return "socket failed";
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(s.port)));
    ::inet_pton(AF_INET, s.host.c_str(), &addr.sin_addr);
    std::string got;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        char buf[4096];
        while (!hang_up) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
            if (got.size() > 65536) break;
        }
    } else {
        got = "connect failed";
    }
    ::close(fd);
    return got.substr(0, got.find("\r\n"));
}

}  // namespace

void run_submitter(actor_context ctx, int index) {
    std::mt19937_64 rng(ctx.settings.seed * 1000 + static_cast<std::uint64_t>(index));
    http_client c(ctx.settings.host, ctx.settings.port, kRequestTimeout);
    for (std::uint64_t n = 0; !ctx.phase.load_over; ++n) {
        while (!ctx.phase.load_over && ctx.record.submitted() - ctx.events.finals() >= ctx.settings.window)
            std::this_thread::sleep_for(5ms);
        if (ctx.phase.load_over) break;
        const std::string id = "soak-s" + std::to_string(index) + "-" + std::to_string(n);
        json::object body{{"id", id},
                          {"service_required", "simulation"},
                          {"priority", rng() % 100},
                          {"max_retries", 1 + rng() % 3},
                          {"payload", json::object{{"n", n}, {"pad", std::string(rng() % 1024, 'x')}}}};
        const std::string text = json::serialize(body);
        for (int attempt = 0; attempt < 5; ++attempt) {
            auto r = c.post("/api/jobs", text);
            if (!r) {
                // The server may or may not have taken it: the same id and body again is safe.
                ctx.record.count("submit_transport_error");
                std::this_thread::sleep_for(50ms);
                if (attempt == 4) ctx.record.problem("submit " + id + " never answered: " + r.error().text());
                continue;
            }
            if (r->status == 201 || r->status == 200) {
                ctx.record.accepted(id);
                if (r->status == 200) ctx.record.count("submit_replayed_200");
            } else if (r->status == 429) {
                ctx.record.count("submit_refused_429");  // not taken: the job does not exist
                std::this_thread::sleep_for(100ms);
                continue;
            } else {
                ctx.record.problem("submit " + id + " -> " + std::to_string(r->status) + " " + short_body(r->body));
            }
            break;
        }
    }
}

void run_worker(actor_context ctx, int index) {
    std::mt19937_64 rng(ctx.settings.seed * 1000 + 100 + static_cast<std::uint64_t>(index));
    http_client c(ctx.settings.host, ctx.settings.port, kRequestTimeout);
    int generation = 0;
    std::string id = worker_name(index, generation);
    auto renew_identity = [&] {
        id = worker_name(index, ++generation);
        register_worker(c, ctx.record, id);
    };
    register_worker(c, ctx.record, id);
    auto last_heartbeat = clock_type::now();
    while (!ctx.phase.all_over) {
        const bool faults = !ctx.phase.load_over;
        if (clock_type::now() - last_heartbeat > 500ms) {
            last_heartbeat = clock_type::now();
            auto hb = heartbeat(c, ctx.record, id, {});  // between jobs: it works on none
            if (hb && hb->status == 404) {
                ctx.record.count("worker_removed_then_reregistered");
                renew_identity();
            } else if (!hb || hb->status != 200) {
                ctx.record.problem("heartbeat " + id + " -> " + (hb ? std::to_string(hb->status) : hb.error().text()));
            }
        }
        if (faults && rng() % 100 < 3) {
            // A claim whose connection is gone before the answer: whatever it hands out is lost
            // on the way, and this worker goes on as if nothing had happened.
            raw_exchange(ctx.settings,
                         "POST /api/workers/" + id + "/claim?wait_ms=" + std::to_string(rng() % 2 * 500) +
                             " HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                         true);
            ctx.record.count("fault_claim_hung_up");
            continue;
        }
        auto r = c.post("/api/workers/" + id + "/claim?wait_ms=1000", "{}");
        if (!r) {
            ctx.record.problem("claim " + id + ": " + r.error().text());
            continue;
        }
        if (r->status == 204) continue;
        if (r->status == 404) {
            ctx.record.count("worker_removed_then_reregistered");
            renew_identity();
            continue;
        }
        if (r->status != 200) {
            ctx.record.problem("claim " + id + " -> " + std::to_string(r->status) + " " + short_body(r->body));
            continue;
        }
        ctx.record.count("claim_200");
        boost::system::error_code ec;
        const json::value v = json::parse(r->body, ec);
        if (ec || !v.is_object()) {
            ctx.record.problem("claim reply is not JSON: " + short_body(r->body));
            continue;
        }
        const std::string job_id(v.at("job").at("id").as_string());
        const std::string token(v.at("lease_token").as_string());
        ctx.record.hold(job_id);
        struct dropper {
            tally& t;
            const std::string& id;
            ~dropper() { t.drop(id); }
        } done_with_job{ctx.record, job_id};
        const std::uint64_t action = faults ? rng() % 100 : 0;
        const auto work = std::chrono::milliseconds(rng() % 30);
        if (action < 60) {
            report(c, ctx.record, job_id, "progress", lease_body(token, R"("progress":50,"message":"half")"));
            std::this_thread::sleep_for(work);
            if (report(c, ctx.record, job_id, "complete", lease_body(token, R"("result":{"by":")" + id + "\"}")) == 200)
                ctx.record.completed(job_id);
        } else if (action < 75) {
            report(c, ctx.record, job_id, "fail", lease_body(token, R"("error":"soak: retryable","retryable":true)"));
        } else if (action < 82) {
            report(c, ctx.record, job_id, "fail", lease_body(token, R"("error":"soak: fatal","retryable":false)"));
        } else if (action < 88) {
            // Stall past the lease without a word, then report: the lease is gone, so 409.
            ctx.record.count("fault_stall");
            std::this_thread::sleep_for(std::chrono::milliseconds(ctx.settings.lease_ms + 400));
            auto late = c.post("/api/jobs/" + job_id + "/complete", lease_body(token, R"("result":"late")"));
            if (late && late->status == 409)
                ctx.record.count("stale_complete_409");
            else
                ctx.record.problem("late complete of " + job_id + " after its lease -> " +
                                   (late ? std::to_string(late->status) + " " + short_body(late->body) : late.error().text()));
            last_heartbeat = clock_type::now() - 1s;  // heartbeat at once
        } else if (action < 93) {
            // Vanish mid-job: never speak as this worker again.
            ctx.record.count("fault_vanish");
            renew_identity();
        } else {
            // Work with a heartbeat in between, which tells of a cancel.
            std::this_thread::sleep_for(work);
            auto hb = heartbeat(c, ctx.record, id, {job_id});
            bool cancelled = false;
            if (hb && hb->status == 200) {
                const json::value h = json::parse(hb->body, ec);
                if (!ec && h.is_object())
                    if (const auto* list = h.get_object().if_contains("cancelled_jobs"); list && list->is_array())
                        for (const auto& x : list->get_array()) cancelled = cancelled || (x.is_string() && x.get_string() == job_id);
            }
            if (cancelled) {
                ctx.record.count("cancel_seen_in_heartbeat");
            } else if (report(c, ctx.record, job_id, "complete", lease_body(token, R"("result":"after heartbeat")")) == 200) {
                ctx.record.completed(job_id);
            }
        }
    }
    // A clean goodbye for the current identity (abandoned ones are removed by the worker timeout).
    (void)c.request(boost::beast::http::verb::delete_, "/api/workers/" + id);
}

void run_canceller(actor_context ctx, int index) {
    std::mt19937_64 rng(ctx.settings.seed * 1000 + 200 + static_cast<std::uint64_t>(index));
    http_client c(ctx.settings.host, ctx.settings.port, kRequestTimeout);
    while (!ctx.phase.load_over) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 40));
        const std::string id = ctx.record.recent_id(rng(), 300);
        if (id.empty()) continue;
        auto r = c.post("/api/jobs/" + id + "/cancel", "{}");
        if (!r) {
            ctx.record.problem("cancel " + id + ": " + r.error().text());
        } else if (r->status == 200 || r->status == 409 || r->status == 404) {
            ctx.record.count("cancel_" + std::to_string(r->status));
        } else {
            ctx.record.problem("cancel " + id + " -> " + std::to_string(r->status) + " " + short_body(r->body));
        }
    }
}

void run_faults(actor_context ctx, int index) {
    std::mt19937_64 rng(ctx.settings.seed * 1000 + 300 + static_cast<std::uint64_t>(index));
    http_client c(ctx.settings.host, ctx.settings.port, kRequestTimeout);
    // A request that must get `want` (the bad input changes nothing).
    auto expect = [&](const std::string& name, boost::beast::http::verb method, const std::string& target,
                      const std::string& body, unsigned want) {
        auto r = c.request(method, target, body);
        if (r && r->status == want) {
            ctx.record.count("fault_" + name);
        } else {
            ctx.record.problem("fault " + name + ": " + target + " -> " +
                               (r ? std::to_string(r->status) + " " + short_body(r->body) : r.error().text()));
        }
    };
    using boost::beast::http::verb;
    while (!ctx.phase.load_over) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 60));
        switch (rng() % 9) {
        case 0: expect("malformed_json", verb::post, "/api/jobs", R"({"id": "x", "service_required": )", 400); break;
        case 1: expect("wrong_type", verb::post, "/api/jobs", R"({"service_required": 5})", 400); break;
        case 2: expect("invalid_utf8", verb::post, "/api/jobs", "{\"service_required\":\"simulation\",\"payload\":\"\xff\xfe\"}", 400); break;
        case 3: expect("unknown_job", verb::post, "/api/jobs/soak-no-such-job/complete", R"({"lease_token":"x","result":1})", 404); break;
        case 4: expect("unknown_worker", verb::post, "/api/workers/soak-no-such-worker/claim?wait_ms=0", "{}", 404); break;
        case 5: expect("bad_query", verb::get, "/api/jobs?status=bogus", "", 400); break;
        case 6: {
            // Over --max-body-bytes: 413, or the connection closed before the body was sent.
            const std::string big = R"({"service_required":"simulation","payload":")" +
                                    std::string(static_cast<std::size_t>(ctx.settings.max_body_bytes) + 1000, 'y') + "\"}";
            auto r = c.post("/api/jobs", big);
            if (!r)
                ctx.record.count("fault_oversized_closed");
            else if (r->status == 413)
                ctx.record.count("fault_oversized_413");
            else
                ctx.record.problem("oversized body -> " + std::to_string(r->status) + " " + short_body(r->body));
            break;
        }
        case 7: {
            // Not HTTP at all: a 400 or a closed connection, never a 5xx.
            const std::string first = raw_exchange(ctx.settings, rng() % 2 ? "\x16\x03\x01 hello?\r\n\r\n"
                                                                          : "POST /api/jobs HTTP/1.1\r\nContent-Length: zz\r\n\r\n");
            if (first.rfind("HTTP/1.1 5", 0) == 0 || first == "connect failed" || first == "socket failed")
                ctx.record.problem("raw garbage -> " + first);
            else
                ctx.record.count("fault_garbage");
            break;
        }
        case 8: {
            // A forged token on a real job: 409 (or 404 once the job has been dropped), never 200.
            const std::string id = ctx.record.recent_id(rng(), 50);
            if (id.empty()) break;
            auto r = c.post("/api/jobs/" + id + "/complete", R"({"lease_token":"forged","result":"forged"})");
            if (r && (r->status == 409 || r->status == 404))
                ctx.record.count("fault_forged_token");
            else
                ctx.record.problem("forged token on " + id + " -> " + (r ? std::to_string(r->status) : r.error().text()));
            break;
        }
        }
    }
}

}  // namespace jobrouter::soak
