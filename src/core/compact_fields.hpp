// compact_fields: small stand-ins for the std::optional and json::value members of a job
// record, which every pending job carries (a million of them in the bench). Each reads like
// the type it replaces, so code that reads a job does not change:
//
// - compact_optional<T, Empty>: std::optional<T> in sizeof(T), for fields that never hold
//   `Empty` (times are >= 0, priorities 0..1023); converts to std::optional<T>.
// - json_box: a json::value that is usually null, as one pointer (null: JSON null).
// - object_box: a json::object that is usually empty, as one pointer.
// - boxed_optional<T>: a std::optional<T> that is usually empty, as one pointer.
// - shared_string: an immutable string shared by count (a worker's id, held by its jobs), as
//   one pointer; reads as a std::string. Not thread-safe, like the scheduler that uses it.
#pragma once

#include "core/json_util.hpp"

#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace jobrouter {

template <class T, T Empty>
class compact_optional {
public:
    compact_optional() = default;
    compact_optional(std::nullopt_t) noexcept {}
    compact_optional(T v) noexcept : v_(v) {}
    compact_optional(const std::optional<T>& o) noexcept : v_(o ? *o : Empty) {}

    compact_optional& operator=(std::nullopt_t) noexcept {
        v_ = Empty;
        return *this;
    }
    compact_optional& operator=(T v) noexcept {
        v_ = v;
        return *this;
    }

    bool has_value() const noexcept { return v_ != Empty; }
    explicit operator bool() const noexcept { return has_value(); }
    const T& operator*() const noexcept { return v_; }
    T value_or(T other) const noexcept { return has_value() ? v_ : other; }
    void reset() noexcept { v_ = Empty; }
    operator std::optional<T>() const { return has_value() ? std::optional<T>(v_) : std::nullopt; }

    friend bool operator==(const compact_optional& a, const compact_optional& b) noexcept { return a.v_ == b.v_; }
    friend bool operator==(const compact_optional& a, const T& b) noexcept { return a.has_value() && a.v_ == b; }
    friend std::ostream& operator<<(std::ostream& os, const compact_optional& o) {
        return o.has_value() ? os << o.v_ : os << "nullopt";
    }

private:
    T v_ = Empty;
};

class json_box {
public:
    json_box() = default;
    json_box(const json_box& o) : p_(o.p_ ? std::make_unique<json::value>(*o.p_) : nullptr) {}
    json_box(json_box&&) noexcept = default;
    json_box& operator=(const json_box& o) {
        if (this != &o) p_ = o.p_ ? std::make_unique<json::value>(*o.p_) : nullptr;
        return *this;
    }
    json_box& operator=(json_box&&) noexcept = default;
    json_box& operator=(json::value v) {
        if (v.is_null()) p_.reset();
        else if (p_) *p_ = std::move(v);
        else p_ = std::make_unique<json::value>(std::move(v));
        return *this;
    }

    const json::value& get() const noexcept { return p_ ? *p_ : null_value(); }
    operator const json::value&() const noexcept { return get(); }
    bool is_null() const noexcept { return !p_; }

    friend bool operator==(const json_box& a, const json::value& b) { return a.get() == b; }
    friend std::ostream& operator<<(std::ostream& os, const json_box& b) { return os << b.get(); }

private:
    static const json::value& null_value() noexcept {
        static const json::value null;
        return null;
    }
    std::unique_ptr<json::value> p_;
};

class object_box {
public:
    object_box() = default;
    object_box(const object_box& o) : p_(o.p_ ? std::make_unique<json::object>(*o.p_) : nullptr) {}
    object_box(object_box&&) noexcept = default;
    object_box& operator=(const object_box& o) {
        if (this != &o) p_ = o.p_ ? std::make_unique<json::object>(*o.p_) : nullptr;
        return *this;
    }
    object_box& operator=(object_box&&) noexcept = default;
    object_box& operator=(json::object o) {
        if (o.empty()) p_.reset();
        else p_ = std::make_unique<json::object>(std::move(o));
        return *this;
    }

    const json::object& get() const noexcept { return p_ ? *p_ : empty_object(); }
    operator const json::object&() const noexcept { return get(); }
    bool empty() const noexcept { return !p_; }
    std::size_t size() const noexcept { return p_ ? p_->size() : 0; }
    json::object::const_iterator begin() const noexcept { return get().begin(); }
    json::object::const_iterator end() const noexcept { return get().end(); }

private:
    static const json::object& empty_object() noexcept {
        static const json::object empty;
        return empty;
    }
    std::unique_ptr<json::object> p_;
};

template <class T>
class boxed_optional {
public:
    boxed_optional() = default;
    boxed_optional(const std::optional<T>& o) : p_(o ? std::make_unique<T>(*o) : nullptr) {}
    boxed_optional(const boxed_optional& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
    boxed_optional(boxed_optional&&) noexcept = default;
    boxed_optional& operator=(const boxed_optional& o) {
        if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
        return *this;
    }
    boxed_optional& operator=(boxed_optional&&) noexcept = default;
    boxed_optional& operator=(const std::optional<T>& o) {
        p_ = o ? std::make_unique<T>(*o) : nullptr;
        return *this;
    }

    bool has_value() const noexcept { return p_ != nullptr; }
    explicit operator bool() const noexcept { return has_value(); }
    const T& operator*() const noexcept { return *p_; }
    T value_or(T other) const { return p_ ? *p_ : other; }
    operator std::optional<T>() const { return p_ ? std::optional<T>(*p_) : std::nullopt; }

    friend bool operator==(const boxed_optional& a, const T& b) { return a.p_ && *a.p_ == b; }
    friend std::ostream& operator<<(std::ostream& os, const boxed_optional& o) {
        return o.p_ ? os << *o.p_ : os << "nullopt";
    }

private:
    std::unique_ptr<T> p_;
};

class shared_string {
public:
    shared_string() = default;
    explicit shared_string(std::string s) : r_(new rep{1, std::move(s)}) {}
    shared_string(const shared_string& o) noexcept : r_(o.r_) {
        if (r_) ++r_->refs;
    }
    shared_string(shared_string&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
    shared_string& operator=(shared_string o) noexcept {
        std::swap(r_, o.r_);
        return *this;
    }
    ~shared_string() {
        if (r_ && --r_->refs == 0) delete r_;
    }

    const std::string& str() const noexcept { return r_ ? r_->s : empty_string(); }
    operator const std::string&() const noexcept { return str(); }
    operator std::string_view() const noexcept { return str(); }
    operator json::string_view() const noexcept { return {str().data(), str().size()}; }  ///< json::value(s)
    bool empty() const noexcept { return str().empty(); }
    std::size_t size() const noexcept { return str().size(); }
    const char* c_str() const noexcept { return str().c_str(); }
    void clear() noexcept { *this = shared_string(); }

    friend bool operator==(const shared_string& a, std::string_view b) noexcept { return a.str() == b; }
    friend bool operator==(const shared_string& a, const shared_string& b) noexcept { return a.str() == b.str(); }
    friend std::strong_ordering operator<=>(const shared_string& a, std::string_view b) noexcept {
        return std::string_view(a.str()).compare(b) <=> 0;
    }
    friend std::ostream& operator<<(std::ostream& os, const shared_string& s) { return os << s.str(); }

private:
    struct rep {
        std::uint32_t refs;
        std::string s;
    };
    static const std::string& empty_string() noexcept {
        static const std::string empty;
        return empty;
    }
    rep* r_ = nullptr;
};

}  // namespace jobrouter
