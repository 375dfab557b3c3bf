// Fuzz target http: the input is the byte stream of one HTTP/1.1 connection. Beast's request
// parser reads requests from it with serve's limits (as http_session does, minus the socket),
// and each one goes to the api_router in front of a real dispatcher on an io_context that is
// polled, never run, so nothing waits. The clock is manual and moves 500 ms per request, so
// leases and back-offs expire within one input.
//
// Lease tokens are random, so a fuzzer could never echo one: the literal $LEASE in a request
// body is replaced by the token of the last successful claim (the seeds use it).
//
// Properties checked: every request is answered at most once; every JSON answer parses; an
// answer other than a parked long-poll claim comes by the time the io_context is idle.
#include "fuzz_support.hpp"
#include "server/api_router.hpp"
#include "server/dispatcher.hpp"
#include "server/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace jobrouter;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::size_t kMaxRequests = 64;  // per input: bounds the time one input can take
constexpr time_ms kStepMs = 500;          // manual clock step per request

class manual_clock final : public clock_source {
public:
    time_ms now_ms() const override { return now; }
    time_ms now = 1700000000000;
};

struct answers {
    std::vector<int> count;  ///< per request: how many times it was answered
    std::string last_token;  ///< from the last 200 claim
};

// Where the answer to one request goes: checks it and remembers a claim's lease token.
void record(answers& a, std::size_t request, const api_router::response& res) {
    fuzz::require(++a.count[request] == 1, "a request is answered exactly once");
    if (res[http::field::content_type] != "application/json") return;
    boost::system::error_code ec;
    auto body = boost::json::parse(res.body(), ec);
    fuzz::require(!ec, "a JSON answer parses");
    if (res.result() == http::status::ok && body.is_object())
        if (const auto* t = body.get_object().if_contains("lease_token"); t && t->is_string())
            a.last_token = std::string(t->get_string());
}

void substitute_token(std::string& body, const std::string& token) {
    static constexpr std::string_view kPlaceholder = "$LEASE";
    for (auto pos = body.find(kPlaceholder); pos != std::string::npos; pos = body.find(kPlaceholder, pos + token.size()))
        body.replace(pos, kPlaceholder.size(), token);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    answers a;  // outlives everything that may hold an answer callback
    manual_clock clock;
    asio::io_context io{1};
    http_limits limits;
    limits.max_body_bytes = 64 * 1024;
    limits.max_header_bytes = 8 * 1024;
    limits.max_wait = std::chrono::milliseconds(2000);
    dispatcher_options options;
    options.scheduling.lease_ms = 3000;
    options.scheduling.retry_backoff_ms = 200;
    options.scheduling.retry_backoff_max_ms = 800;
    options.worker_timeout_ms = 10000;
    options.retention_ms = 20000;
    options.retention_count = 16;
    auto disp = std::make_unique<dispatcher>(io, fuzz::default_mapping(), fuzz::job_type(), options, clock);
    auto mets = std::make_unique<metrics>(*disp);
    auto router = std::make_unique<api_router>(*disp, *mets, limits);

    std::size_t offset = 0;
    while (offset < size && a.count.size() < kMaxRequests) {
        http::request_parser<http::string_body> parser;
        parser.eager(true);
        parser.body_limit(limits.max_body_bytes);
        parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
        beast::error_code ec;
        while (!parser.is_done() && offset < size) {
            const std::size_t used = parser.put(asio::buffer(data + offset, size - offset), ec);
            offset += used;
            if (ec == http::error::need_more && used > 0) {
                ec = {};
                continue;
            }
            break;
        }
        // An incomplete or malformed request: http_session answers 400/413/431 and closes.
        if (ec || !parser.is_done()) break;
        auto req = parser.release();
        if (beast::websocket::is_upgrade(req)) continue;  // needs a socket: not fuzzed here
        substitute_token(req.body(), a.last_token);
        const bool may_park = req.method() == http::verb::post && req.target().find("claim") != std::string_view::npos;

        clock.now += kStepMs;
        const std::size_t request = a.count.size();
        a.count.push_back(0);
        router->handle(std::move(req), [&a, request](api_router::response res) { record(a, request, res); });
        io.poll();
        io.restart();
        fuzz::require(a.count[request] == 1 || may_park, "only a long-poll claim is answered later");
    }
    // Parked long-poll claims are destroyed unanswered with the dispatcher, as on shutdown.
    router.reset();
    mets.reset();
    disp.reset();
    return 0;
}
