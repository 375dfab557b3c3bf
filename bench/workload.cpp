#include "bench/workload.hpp"

#include "core/embedded_mapping.hpp"
#include "core/job_class.hpp"

#include <cstdio>
#include <stdexcept>

namespace jobrouter::bench {

namespace {

// splitmix64's finaliser: a cheap, well-mixed hash of (seed, salt, k).
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// The 8 requirement signatures, each exercising a different rule of matching.md section 3.
const char* const kSignatures[kSignatureCount] = {
    R"({})",
    R"({"hardware":{"gpu_memory_gb":8}})",
    R"({"hardware":{"gpu_memory_gb":16,"ram_gb":32}})",
    R"({"hardware":{"gpu_memory_gb":24}})",
    R"({"models":["sdxl"]})",
    R"({"hardware":{"gpu_memory_gb":16},"models":["flux"],"location.region":"us"})",
    R"({"location":{"region":"eu"}})",
    R"({"positive_requirements":{"hardware":{"gpu_memory_gb":8}},"negative_requirements":{"hardware":{"gpu_model":"A100"}}})",
};

constexpr std::int64_t kOrphanPriority = 100;

}  // namespace

workload::workload(const workload_options& options) : options_(options) {
    if (options_.types == 0) throw std::invalid_argument("--types must be at least 1");
    if (options_.signatures == 0 || options_.signatures > kSignatureCount)
        throw std::invalid_argument("--signatures must be in 1.." + std::to_string(kSignatureCount));
    if (options_.types_per_worker == 0 || options_.types_per_worker > options_.types)
        throw std::invalid_argument("--types-per-worker must be in 1..--types");
    for (std::size_t s = 0; s < options_.signatures; ++s) {
        json::value v = json::parse(kSignatures[s]);
        if (auto r = validate_requirements(v, "signature"); !r) throw std::logic_error(r.error().text());
        signatures_.push_back(v.get_object());
    }
    char name[32];
    for (std::size_t t = 0; t < options_.types; ++t) {
        std::snprintf(name, sizeof name, "type-%03zu", t);
        type_names_.emplace_back(name);
    }
    for (std::size_t t = 0; t < kOrphanTypes; ++t) orphan_names_.push_back("orphan-" + std::to_string(t));
}

std::uint64_t workload::hash(std::uint64_t salt, std::uint64_t k) const {
    return mix(mix(options_.seed ^ (salt << 56)) ^ k);
}

std::string workload::job_id(std::uint64_t k) {
    char id[24];
    std::snprintf(id, sizeof id, "j%010llu", static_cast<unsigned long long>(k));
    return id;
}

std::string workload::worker_id(std::size_t i) {
    char id[24];
    std::snprintf(id, sizeof id, "w%06zu", i);
    return id;
}

workload::job_fields workload::fields(std::uint64_t k, job_kind kind) const {
    const std::uint64_t h = hash(1, k);
    job_fields f;
    f.signature = (h >> 20) % options_.signatures;
    if (kind == job_kind::orphan) {
        f.service_required = orphan_names_[h % kOrphanTypes];
        f.priority = kOrphanPriority;
    } else {
        f.service_required = type_names_[h % options_.types];
        f.priority = 40 + 10 * static_cast<std::int64_t>((h >> 40) % 4);
    }
    return f;
}

job_spec workload::job(std::uint64_t k, job_kind kind) const {
    job_fields f = fields(k, kind);
    job_spec spec;
    spec.id = job_id(k);
    spec.service_required = std::move(f.service_required);
    spec.priority = f.priority;
    spec.requirements = signatures_[f.signature];
    spec.payload = json::string(options_.payload_bytes, 'p');
    return spec;
}

json::value workload::job_json(std::uint64_t k, job_kind kind) const {
    job_fields f = fields(k, kind);
    json::object o;
    o["id"] = job_id(k);
    o["service_required"] = f.service_required;
    o["priority"] = f.priority;
    o["requirements"] = signatures_[f.signature];
    o["payload"] = json::string(options_.payload_bytes, 'p');
    return o;
}

json::value workload::worker_json(std::size_t i) const {
    const std::uint64_t h = hash(2, i);
    auto pick = [&](int shift, std::size_t n) { return static_cast<std::size_t>((h >> shift) % n); };

    json::array offered;
    offered.emplace_back(type_names_[i % options_.types]);
    for (std::uint64_t salt = 0; offered.size() < options_.types_per_worker; ++salt) {
        const std::string& t = type_names_[hash(3, i * 1000003 + salt) % options_.types];
        bool dup = false;
        for (const auto& o : offered) dup = dup || o.get_string() == t;
        if (!dup) offered.emplace_back(t);
    }

    static const int gpu[] = {8, 16, 24, 48};
    json::object hw;
    hw["gpu_memory_gb"] = gpu[pick(0, 4)];
    hw["ram_gb"] = pick(4, 2) ? 64 : 32;
    hw["gpu_model"] = pick(6, 2) ? "A100" : "RTX 4090";

    json::object models;
    for (std::size_t t = 0; t < offered.size(); ++t) {
        switch (pick(10 + 2 * static_cast<int>(t % 16), 4)) {
        case 0: models[offered[t].get_string()] = json::array{"sdxl"}; break;
        case 1: models[offered[t].get_string()] = json::array{"flux"}; break;
        default: models[offered[t].get_string()] = json::array{"sdxl", "flux"}; break;
        }
    }

    json::object w;
    w["worker_id"] = worker_id(i);
    w["services"] = offered;
    w["job_service_required_map"] = offered;
    w["hardware"] = std::move(hw);
    w["models"] = std::move(models);
    w["location"] = json::object{{"region", pick(8, 2) ? "us" : "eu"}};
    return w;
}

std::vector<worker_capabilities> workload::workers(std::size_t n, const service_mapping& mapping) const {
    std::vector<worker_capabilities> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        auto caps = parse_worker(worker_json(i), mapping);
        if (!caps) throw std::logic_error("generated worker rejected: " + caps.error().text());
        out.push_back(std::move(*caps));
    }
    return out;
}

service_mapping default_mapping() {
    auto m = load_mapping(kEmbeddedMapping, kEmbeddedMappingName, [](const std::string&) { return std::nullopt; });
    if (!m) throw std::runtime_error(m.error().text());
    return std::move(*m);
}

}  // namespace jobrouter::bench
