// clock: where serve's time comes from. The scheduler core never reads a clock; the
// dispatcher asks this one and passes the time in. Tests may inject a manual clock.
#pragma once

#include "core/job.hpp"

#include <chrono>

namespace jobrouter {

class clock_source {
public:
    virtual ~clock_source() = default;
    /// Wall-clock ms since the Unix epoch (job timestamps, scores, leases).
    virtual time_ms now_ms() const = 0;
};

class system_clock_source final : public clock_source {
public:
    time_ms now_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

}  // namespace jobrouter
