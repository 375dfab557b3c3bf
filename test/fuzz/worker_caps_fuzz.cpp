// Fuzz target worker_caps: a worker's capabilities object (POST /api/workers, a trace's
// register) through the strict JSON parser and parse_worker against the default mapping; an
// accepted worker is then matched, with details, against a few fixed job classes whose
// requirements read its hardware, customers, models and custom (dotted-path) capabilities.
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

const char* const kJobs[] = {
    R"({"id":"j1","service_required":"simulation"})",
    R"({"id":"j2","service_required":"simulation","customer_id":"c1","workflow_id":"wf-1",
        "requirements":{"hardware":{"gpu_memory_gb":24,"cpu_cores":"all","ram_gb":1.5},
                        "customer_isolation":"strict","models":["m1"],"region":"us-west",
                        "custom_feature.version":2,"custom_feature":{"enabled":true},
                        "negative_requirements":{"hardware":{"gpu_model":"k80"},"region":"eu"}}})",
    R"({"id":"j3","service_required":"comfyui","customer_id":"c3",
        "requirements":{"positive_requirements":{"a.b.c":[1,{"x":null}]},
                        "negative_requirements":{"tags":[],"x.y":{}}}})",
};

const std::vector<job_class>& classes() {
    static const std::vector<job_class> cs = [] {
        std::vector<job_class> out;
        for (const char* text : kJobs) {
            auto v = parse_strict(text);
            fuzz::require(v.has_value(), "a fixed job is valid JSON");
            auto spec = parse_job_spec(*v, "job");
            fuzz::require(spec.has_value(), "a fixed job is a valid job");
            out.push_back(make_job_class(spec->service_required, spec->customer_id, spec->workflow_id,
                                         spec->requirements));
        }
        return out;
    }();
    return cs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto v = parse_strict(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!v) return 0;
    auto w = parse_worker(*v, fuzz::default_mapping(), "worker");
    if (!w) {
        fuzz::require(!w.error().path.empty() && !w.error().message.empty(),
                      "a rejected worker names the field and the problem");
        return 0;
    }
    fuzz::require(!w->worker_id.empty(), "an accepted worker has an id");
    for (const auto& cls : classes()) {
        for (const strategy* s : {&fuzz::job_type(), &fuzz::service_name()}) {
            const auto keys = s->offered_keys(*w);
            auto quick = find_rejection(cls, *w, keys, false);
            auto detailed = find_rejection(cls, *w, keys, true);
            fuzz::require(quick.has_value() == detailed.has_value(), "detail does not change the verdict");
            if (quick) fuzz::require(quick->rule == detailed->rule, "detail does not change the rule");
        }
    }
    return 0;
}
