// Fuzz target job_spec: a job object (POST /api/jobs, a trace's submit) through the strict JSON
// parser and parse_job_spec, which validates the requirements; an accepted job then gets its
// score and class and is matched, with details, against a few fixed workers (every rule of
// matching.md reads the fuzzed requirements).
#include "core/job.hpp"
#include "core/matcher.hpp"
#include "core/worker.hpp"
#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

using namespace jobrouter;

namespace {

const char* const kWorkers[] = {
    R"({"worker_id":"plain","job_service_required_map":["simulation","comfyui"]})",
    R"({"worker_id":"big","worker_type":"simulation","workflow_id":"wf-1",
        "hardware":{"gpu_memory_gb":80,"cpu_cores":64,"ram_gb":512,"gpu_model":"h100"},
        "customer_access":{"isolation":"strict","allowed_customers":["c1","c2"],"denied_customers":["c3"]},
        "models":{"simulation":["m1","m2"],"comfyui":["sdxl"]},
        "region":"us-west","custom_feature":{"enabled":true,"version":2,"tags":["a",1,1.5,null,{}]}})",
    R"({"worker_id":"loose","services":["simulation"],"job_types":["simulation"],
        "hardware":{"gpu_memory_gb":"all"},"customer_access":{"isolation":"loose","denied_customers":[]}})",
};

const std::vector<worker_capabilities>& workers() {
    static const std::vector<worker_capabilities> ws = [] {
        std::vector<worker_capabilities> out;
        for (const char* text : kWorkers) {
            auto v = parse_strict(text);
            fuzz::require(v.has_value(), "a fixed worker is valid JSON");
            auto w = parse_worker(*v, fuzz::default_mapping());
            fuzz::require(w.has_value(), "a fixed worker is a valid worker");
            out.push_back(std::move(*w));
        }
        return out;
    }();
    return ws;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto v = parse_strict(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!v) return 0;
    auto spec = parse_job_spec(*v, "job");
    if (!spec) {
        fuzz::require(!spec.error().path.empty() && !spec.error().message.empty(),
                      "a rejected job names the field and the problem");
        return 0;
    }
    (void)job_score(*spec, 1700000000000);
    (void)job_score(*spec, 0);
    const job_class cls = make_job_class(spec->service_required, spec->customer_id, spec->workflow_id, spec->requirements);
    for (const auto& w : workers()) {
        for (const strategy* s : {&fuzz::job_type(), &fuzz::service_name()}) {
            const auto keys = s->offered_keys(w);
            auto quick = find_rejection(cls, w, keys, false);
            auto detailed = find_rejection(cls, w, keys, true);
            fuzz::require(quick.has_value() == detailed.has_value(), "detail does not change the verdict");
            if (quick) fuzz::require(quick->rule == detailed->rule, "detail does not change the rule");
            if (offers(keys, cls.service_required))
                fuzz::require(passes_requirements(cls, w) == !quick.has_value(),
                              "passes_requirements agrees with find_rejection once R2 holds");
        }
    }
    return 0;
}
