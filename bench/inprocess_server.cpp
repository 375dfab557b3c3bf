#include "bench/inprocess_server.hpp"

#include "server/clock.hpp"
#include "server/redis_job_service.hpp"
#include "server/server.hpp"

#include <boost/asio/io_context.hpp>

#include <pthread.h>
#include <time.h>

#include <stdexcept>
#include <thread>

namespace jobrouter::bench {

namespace asio = boost::asio;

struct inprocess_server::impl {
    system_clock_source clock;
    asio::io_context io{1};
    std::unique_ptr<server> srv;
    std::thread runner;
};

inprocess_server::inprocess_server(const service_mapping& mapping, const strategy& strat, const std::string& redis_url)
    : impl_(std::make_unique<impl>()) {
    server_settings settings;
    settings.listen = asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
    // serve's defaults, except what would end a bench run early: no lease or worker may expire
    // while the client is busy (a run is bounded by the load's own deadline instead).
    settings.dispatching.scheduling.lease_ms = 600'000;
    settings.dispatching.worker_timeout_ms = 600'000;
    try {
        if (redis_url.empty()) {
            impl_->srv = std::make_unique<server>(impl_->io, mapping, strat, settings, impl_->clock);
        } else {
            redis_service_options ro;
            ro.dispatching = settings.dispatching;
            auto url = redis::parse_redis_url(redis_url);
            if (!url) throw std::runtime_error(url.error().text());
            auto service = redis_job_service::create(impl_->io, mapping, strat, *url, ro, impl_->clock, make_origin("bench"));
            if (!service) throw std::runtime_error(service.error().text());
            impl_->srv = std::make_unique<server>(impl_->io, settings, std::move(*service));
        }
        impl_->srv->start();
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("http: cannot start the in-process server on 127.0.0.1:0: ") + e.what());
    }
    endpoint_ = impl_->srv->local_endpoint();
    // From here on the server belongs to this thread; io.stop() in the destructor ends it.
    impl_->runner = std::thread([this] { impl_->io.run(); });
}

inprocess_server::~inprocess_server() {
    impl_->io.stop();
    if (impl_->runner.joinable()) impl_->runner.join();
    impl_->srv.reset();
}

std::chrono::nanoseconds inprocess_server::cpu_time() const {
    clockid_t id{};
    timespec ts{};
    if (pthread_getcpuclockid(impl_->runner.native_handle(), &id) != 0 || clock_gettime(id, &ts) != 0)
        return std::chrono::nanoseconds(-1);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace jobrouter::bench
