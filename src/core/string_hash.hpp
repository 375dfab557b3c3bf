// string_hash: a fast hash for the short ids (job ids, worker ids) looked up on every claim
// and complete. std::hash<std::string_view> (murmur) spends ~70 instructions on an 11-byte id;
// this reads 8 bytes at a time and mixes with multiplications: well spread in every bit, which
// job_table's tags and home slots both need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace jobrouter {

inline std::uint64_t hash_string(std::string_view s) noexcept {
    constexpr std::uint64_t kMul = 0x9fb21c651e98df25ULL;
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ (s.size() * kMul);
    const char* p = s.data();
    std::size_t n = s.size();
    auto absorb = [&h](std::uint64_t k) {
        k *= 0xbf58476d1ce4e5b9ULL;
        k ^= k >> 31;
        h = (h ^ k) * kMul;
    };
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t k;
        std::memcpy(&k, p, 8);
        absorb(k);
    }
    if (n) {
        std::uint64_t k = 0;
        for (std::size_t i = 0; i < n; ++i) k |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
        absorb(k);
    }
    h ^= h >> 32;
    h *= kMul;
    return h ^ (h >> 29);
}

/// For unordered containers keyed by std::string, looked up by std::string_view.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return hash_string(s); }
};

}  // namespace jobrouter
