// error: the one error type of the synchronous core (parsing, validation, rule checks).
//
// Every error a user can cause names where it happened (`path`, e.g.
// "job.requirements.hardware.gpu_memory_gb" or "mapping.json: workers.sim.services[0]")
// and what is wrong (`message`). `text()` joins them as "<path>: <message>", the form that
// replay's error lines and the CLI print.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>

namespace jobrouter {

struct error {
    error() = default;
    // Two arguments, never one: result<std::string> must not mistake a string for an error.
    error(std::string p, std::string m) : path(std::move(p)), message(std::move(m)) {}

    std::string path;     ///< where: a JSON path, a file and JSON path, or an option name
    std::string message;  ///< what is wrong, in plain words

    std::string text() const { return path.empty() ? message : path + ": " + message; }
};

/// Thrown only by `result<T>::value()` on an error; the core itself never throws.
class error_exception : public std::runtime_error {
public:
    explicit error_exception(error e) : std::runtime_error(e.text()), error_(std::move(e)) {}
    const error& get() const noexcept { return error_; }

private:
    error error_;
};

[[noreturn]] inline void throw_exception_from_error(const error& e, const boost::source_location&) {
    throw error_exception(e);
}

template <class T>
using result = boost::system::result<T, error>;

inline error make_error(std::string path, std::string message) {
    return error{std::move(path), std::move(message)};
}

}  // namespace jobrouter
