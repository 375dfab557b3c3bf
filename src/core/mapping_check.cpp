#include "core/mapping_check.hpp"

#include "core/json_util.hpp"
#include "core/workers_spec.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace jobrouter {

namespace {

using severity = finding::severity;
using strings = std::vector<std::string>;

// ---- text helpers ---------------------------------------------------------------------------

// The loader's path rule, repeated here because it is private to the loader: keys that would
// make a dotted path ambiguous are written as ["key"].
std::string child_path(const std::string& parent, std::string_view key) {
    bool plain = !key.empty();
    for (unsigned char c : key)
        if (c <= ' ' || c == '.' || c == '[' || c == ']' || c == '"') plain = false;
    if (!plain) return parent + "[" + quoted(key) + "]";
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string located(const service_mapping& m, const std::string& json_path) {
    return m.source_name + ": " + json_path;
}

// "\"a\", \"b\"" (or `separator` before the last one: "\"a\" or \"b\"").
std::string quoted_list(const strings& items, std::string_view last_separator = ", ") {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? std::string(last_separator) : std::string(", ");
        out += quoted(items[i]);
    }
    return out;
}

std::string plain_list(const strings& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out.empty() ? "none" : out;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return std::string(n == 1 ? one : many);
}

strings unique_non_empty(const strings& items) {
    strings out;
    for (const auto& item : items)
        if (!item.empty() && std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
    return out;
}

bool contains(const strings& items, std::string_view item) {
    return std::find(items.begin(), items.end(), item) != items.end();
}

strings keys_of(const std::optional<json::object>& section) {
    strings out;
    if (section)
        for (const auto& kv : *section) out.emplace_back(kv.key());
    return out;
}

strings service_names(const service_mapping& m) {
    strings out;
    for (const auto& [name, def] : m.services) out.push_back(name);
    return out;
}

std::string built_list(const check_options& options) {
    return plain_list(strings(options.built_connectors.begin(), options.built_connectors.end()));
}

// ---- per-strategy findings ------------------------------------------------------------------

// Per-strategy checks write this mark where the strategy goes; findings that are otherwise
// identical under several strategies are then reported once, naming them all.
constexpr std::string_view kStrategyMark = "\x1f";

std::string strategies_phrase(const strings& names) {
    std::string out = names.size() == 1 ? "strategy " : "strategies ";
    for (std::size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
    return out;
}

std::string fill_strategy(std::string text, const std::string& phrase) {
    for (auto pos = text.find(kStrategyMark); pos != std::string::npos;
         pos = text.find(kStrategyMark, pos + phrase.size()))
        text.replace(pos, kStrategyMark.size(), phrase);
    return text;
}

// `marked[i]` was found under strategy `names[i]`.
void merge_strategy_findings(const std::vector<finding>& marked, const strings& names, std::vector<finding>& out) {
    std::vector<std::pair<const finding*, strings>> merged;
    for (std::size_t i = 0; i < marked.size(); ++i) {
        const finding& f = marked[i];
        auto same = [&](const auto& e) {
            return e.first->level == f.level && e.first->path == f.path && e.first->message == f.message &&
                   e.first->fix == f.fix;
        };
        auto it = std::find_if(merged.begin(), merged.end(), same);
        if (it == merged.end()) it = merged.insert(merged.end(), {&f, {}});
        if (!contains(it->second, names[i])) it->second.push_back(names[i]);
    }
    for (const auto& [f, strategies] : merged) {
        const std::string phrase = strategies_phrase(strategies);
        out.push_back({f->level, f->path, fill_strategy(f->message, phrase), fill_strategy(f->fix, phrase)});
    }
}

// ---- fixes for the loader's diagnostics -----------------------------------------------------

// The text between the first pair of quotes: the name the loader's message is about.
std::string first_quoted(std::string_view message) {
    const auto open = message.find('"');
    if (open == std::string_view::npos) return {};
    const auto close = message.find('"', open + 1);
    if (close == std::string_view::npos) return {};
    return std::string(message.substr(open + 1, close - open - 1));
}

// The loader words its diagnostics in a few fixed ways (service_mapping.cpp); each gets the
// fix that applies. An unrecognised message keeps an empty fix rather than a wrong one.
std::string fix_for_diagnostic(const mapping_diagnostic& d, const service_mapping& m, const check_options& options) {
    const std::string name = first_quoted(d.message);
    const auto says = [&](std::string_view fragment) { return d.message.find(fragment) != std::string::npos; };
    if (says("is not set and has no default"))
        return "set " + name + " in the environment, or give it a default where it is used: ${" + name + ":-value}";
    if (says("has no connector"))
        return "set " + child_path(child_path("services", name), "connector") +
               " to a connector (this build has: " + built_list(options) + ")";
    if (says("is not listed in the connectors section")) {
        std::string fix = "add " + quoted(name) +
                          " to the connectors section, or use one listed there: " + plain_list(keys_of(m.connectors));
        // Said here rather than in a second finding about the same line (check_built_connectors).
        if (!options.built_connectors.count(name))
            fix += "; this build does not have " + quoted(name) + " either (it has: " + built_list(options) + ")";
        return fix;
    }
    if (says("is not defined in services"))
        return "define " + child_path("services", name) +
               " (its connector and job_types_accepted), or name a service that is defined: " +
               plain_list(service_names(m));
    if (says("is empty; no job can match this route"))
        return "write the job type this route takes, or remove the route";
    if (says("has no routes"))
        return "give worker type " + quoted(name) +
               " at least one route, or remove the empty list so that its routes come from the job_types_accepted "
               "of its services";
    if (says("duplicate route for job type"))
        return "remove one of the two routes for job type " + quoted(name) + ": only the first one is ever used";
    return {};
}

// ---- WORKERS --------------------------------------------------------------------------------

// The worker types this process would run: those of WORKERS, or every one when it is blank
// or wrong (a wrong value is reported, and checking every type still finds everything else).
strings check_workers(const service_mapping& m, const check_options& options, std::vector<finding>& out) {
    strings all;
    for (const auto& [name, w] : m.workers) all.push_back(name);
    auto parsed = parse_workers_spec(options.workers_spec, m, options.workers_origin);
    if (!parsed) {
        out.push_back({severity::error, parsed.error().path, parsed.error().message,
                       "write " + options.workers_origin + " as type:count,type:count using worker types of " +
                           m.source_name + ": " + plain_list(all)});
        return all;
    }
    if (parsed->empty()) return all;
    strings in_use;
    for (const auto& item : *parsed) in_use.push_back(item.worker_type);
    return in_use;
}

// ---- settings a connector cannot use ---------------------------------------------------------

// Each service once (its first problem, as the connector reads it): a job routed there would
// fail on its first attempt with the same message, so serve refuses such a worker type too.
void check_service_configs(const service_mapping& m, const check_options& options, std::vector<finding>& out) {
    if (!options.check_service_config) return;
    for (const auto& [name, def] : m.services) {
        if (def.connector.empty() || !options.built_connectors.count(def.connector)) continue;
        if (auto problem = options.check_service_config(def))
            out.push_back({severity::error, located(m, problem->path), problem->message,
                           "see README \"Generic connectors\" for the keys " + def.connector + " reads"});
    }
}

// ---- connectors this build lacks ------------------------------------------------------------

// One finding per connector, however many services use it: it is one missing piece.
void check_built_connectors(const service_mapping& m, const check_options& options, const strings& in_use,
                            std::vector<finding>& out) {
    std::map<std::string, strings> services_by_connector;
    for (const auto& [name, def] : m.services) {
        if (def.connector.empty() || options.built_connectors.count(def.connector)) continue;
        // Already an error about this very line (not in the connectors section): one report.
        const std::string where = located(m, child_path(child_path("services", name), "connector"));
        if (std::any_of(m.diagnostics.begin(), m.diagnostics.end(), [&](const auto& d) { return d.path == where; }))
            continue;
        services_by_connector[def.connector].push_back(name);
    }
    for (const auto& [connector, services] : services_by_connector) {
        strings stopped;  // worker types in use that have a route through one of these services
        for (const auto& type : in_use) {
            const auto& w = m.workers.at(type);
            for (const auto& r : w.routes)
                if (contains(services, r.service) && !contains(stopped, type)) stopped.push_back(type);
        }
        std::string message = "connector " + quoted(connector) + " (" +
                              plural(services.size(), "service ", "services ") + quoted_list(services) +
                              ") is not in this build";
        if (!stopped.empty())
            message += "; serve would refuse to start " + plural(stopped.size(), "worker type ", "worker types ") +
                       quoted_list(stopped);
        out.push_back({severity::warning, located(m, child_path(child_path("services", services.front()), "connector")),
                       std::move(message),
                       "run these services with a build that has " + quoted(connector) +
                           ", or use a connector this build has: " + built_list(options)});
    }
}

// ---- worker-level routes against the service's own job_types_accepted -----------------------

void check_route_agreement(const service_mapping& m, std::vector<finding>& out) {
    for (const auto& [type, w] : m.workers) {
        if (w.source == route_source::services) continue;  // derived from the service: agrees by construction
        // Per service, in the order the routes first name it.
        std::vector<std::pair<std::string, std::vector<const route*>>> by_service;
        for (const auto& r : w.routes) {
            auto it =
                std::find_if(by_service.begin(), by_service.end(), [&](const auto& e) { return e.first == r.service; });
            if (it == by_service.end()) it = by_service.insert(by_service.end(), {r.service, {}});
            it->second.push_back(&r);
        }
        for (const auto& [service, routes] : by_service) {
            // An unknown service is the loader's report; one that declares nothing cannot disagree.
            const auto* def = m.find_service(service);
            if (!def || !def->declares_job_types) continue;
            strings extra;
            const route* first = nullptr;
            for (const auto* r : routes) {
                if (r->job_type.empty() || contains(def->job_types_accepted, r->job_type) ||
                    contains(extra, r->job_type))
                    continue;
                extra.push_back(r->job_type);
                if (!first) first = r;
            }
            if (extra.empty()) continue;
            const strings accepted = unique_non_empty(def->job_types_accepted);
            const std::string own =
                accepted.empty() ? "declares no job types" : "accepts only " + quoted_list(accepted);
            const std::string list_path = child_path(child_path("services", service), "job_types_accepted");
            std::string fix = "make the two agree: ";
            if (!accepted.empty())
                fix += "route the job " + plural(accepted.size(), "type ", "types ") + quoted_list(accepted) + " in " +
                       first->json_path.substr(0, first->json_path.rfind('[')) + ", or ";
            fix += "add " + quoted_list(extra) + " to " + list_path;
            out.push_back({severity::warning, located(m, first->json_path),
                           "worker type " + quoted(type) + " routes job " + plural(extra.size(), "type ", "types ") +
                               quoted_list(extra) + " to service " + quoted(service) + ", but " + list_path + " " + own,
                           std::move(fix)});
        }
    }
}

// ---- job types a service accepts that no worker type can take -------------------------------

bool references_service(const worker_type& w, const std::string& service) {
    if (contains(w.services, service)) return true;
    return std::any_of(w.routes.begin(), w.routes.end(), [&](const route& r) { return r.service == service; });
}

bool offers_all(const strategy& s, const worker_type& w, const strings& keys) {
    const strings offered = s.offered_keys(w);
    return std::all_of(keys.begin(), keys.end(), [&](const auto& k) { return contains(offered, k); });
}

std::string route_entry(const worker_type& w, const std::string& job_type, const std::string& service) {
    if (w.source == route_source::job_service_required_map)
        return "{\"job_service_required\": " + quoted(job_type) + ", \"worker_service\": " + quoted(service) + "}";
    return "{\"job_type\": " + quoted(job_type) + ", \"service\": " + quoted(service) + "}";
}

// Each candidate fix is tried on a copy of the worker type and proposed only when the strategy
// then offers the missing job types: the fix follows what the strategy does, not its name.
std::string fix_untaken(const service_mapping& m, const strategy& s, const service_def& service, const strings& untaken,
                        const std::vector<const worker_type*>& relevant) {
    for (const auto* w : relevant) {
        if (w->source == route_source::services) continue;  // its routes already include the service's job types
        worker_type with_routes = *w;
        for (const auto& t : untaken) with_routes.routes.push_back({t, service.name, service.connector, ""});
        if (!offers_all(s, with_routes, untaken)) continue;
        const std::string list_key =
            w->source == route_source::job_service_required_map ? "job_service_required_map" : "job_types_accepted";
        std::string entries;
        for (const auto& t : untaken) entries += (entries.empty() ? "" : ", ") + route_entry(*w, t, service.name);
        std::string fix = "add " + entries + " to " + child_path(child_path("workers", w->name), list_key);
        if (contains(w->services, service.name))
            fix += ", or delete that list so that worker type " + quoted(w->name) +
                   " takes the job types of its services (" +
                   child_path(child_path("services", service.name), "job_types_accepted") + ")";
        return fix;
    }
    if (untaken.size() == 1 && !m.find_service(untaken.front())) {
        const std::string& t = untaken.front();
        for (const auto* w : relevant) {
            worker_type renamed = *w;
            for (auto& name : renamed.services)
                if (name == service.name) name = t;
            for (auto& r : renamed.routes)
                if (r.service == service.name) r.service = t;
            if (!offers_all(s, renamed, untaken)) continue;
            strings places{child_path("services", service.name)};
            for (const auto& [type, other] : m.workers) {
                const std::string list_path = child_path(child_path("workers", type), "services");
                for (std::size_t i = 0; i < other.services.size(); ++i)
                    if (other.services[i] == service.name) places.push_back(list_path + "[" + std::to_string(i) + "]");
            }
            return "rename service " + quoted(service.name) + " to " + quoted(t) + " (" + plain_list(places) +
                   ", and the routes that name it), so that the name a worker offers is the one jobs ask for";
        }
    }
    if (relevant.empty())
        return "add " + quoted(service.name) +
               " to the services of the worker type that should run it (worker types: " + m.worker_type_list() +
               "), or remove " + child_path("services", service.name) + " if nothing uses it";
    // What jobs that do reach this service ask for under the strategy, if anything.
    strings reaching;
    for (const auto* w : relevant)
        for (const auto& key : unique_non_empty(s.offered_keys(*w))) {
            const auto r = s.resolve_route(*w, m, key);
            if (r && r->service == service.name && !contains(reaching, key)) reaching.push_back(key);
        }
    const std::string remove = "remove " + quoted_list(untaken) + " from " +
                               child_path(child_path("services", service.name), "job_types_accepted");
    if (reaching.empty()) return remove + ", or route them to it from the worker type that should run them";
    return "under " + std::string(kStrategyMark) + " the jobs that reach service " + quoted(service.name) +
           " ask for service_required: " + quoted_list(reaching, " or ") + "; submit these jobs that way, or " + remove;
}

void check_untaken_job_types(const service_mapping& m, const strategy& s, std::vector<finding>& out) {
    strings offered;
    for (const auto& [type, w] : m.workers)
        for (const auto& key : s.offered_keys(w))
            if (!contains(offered, key)) offered.push_back(key);

    for (const auto& [name, service] : m.services) {
        if (!service.declares_job_types) continue;
        const strings declared = unique_non_empty(service.job_types_accepted);
        strings untaken;
        for (const auto& t : declared)
            if (!contains(offered, t)) untaken.push_back(t);
        if (untaken.empty()) continue;

        std::vector<const worker_type*> relevant;
        std::string offers;
        for (const auto& [type, w] : m.workers) {
            if (!references_service(w, name)) continue;
            relevant.push_back(&w);
            const strings keys = unique_non_empty(s.offered_keys(w));
            offers += std::string(offers.empty() ? "" : "; ") + "worker type " + quoted(type) + " offers " +
                      (keys.empty() ? "nothing" : quoted_list(keys));
        }
        if (relevant.empty()) offers = "no worker type lists service " + quoted(name) + " or routes to it";

        std::string message = "service " + quoted(name) + " accepts job " + plural(declared.size(), "type ", "types ") +
                              quoted_list(declared) + ", but under " + std::string(kStrategyMark) +
                              " no worker type can take a job with service_required: " + quoted_list(untaken, " or ") +
                              " (" + offers + ")";
        const severity level = untaken.size() == declared.size() ? severity::error : severity::warning;
        out.push_back({level, located(m, child_path(child_path("services", name), "job_types_accepted")),
                       std::move(message), fix_untaken(m, s, service, untaken, relevant)});
    }
}

// A worker type with routes that still offers nothing under a strategy (the loader already
// warns about one without routes).
void check_idle_worker_types(const service_mapping& m, const strategy& s, const strings& in_use,
                             std::vector<finding>& out) {
    for (const auto& type : in_use) {
        const auto& w = m.workers.at(type);
        if (w.routes.empty() || !unique_non_empty(s.offered_keys(w)).empty()) continue;
        std::string fix = "give worker type " + quoted(type) + " what " + std::string(kStrategyMark) + " reads";
        worker_type with_services = w;
        for (const auto& r : w.routes)
            if (m.find_service(r.service) && !contains(with_services.services, r.service))
                with_services.services.push_back(r.service);
        if (!unique_non_empty(s.offered_keys(with_services)).empty())
            fix = "list the services of its routes in " + child_path(child_path("workers", type), "services") + ": " +
                  quoted_list(with_services.services);
        out.push_back({severity::warning, located(m, child_path("workers", type)),
                       "under " + std::string(kStrategyMark) + " worker type " + quoted(type) +
                           " offers nothing, so it takes no job although it has routes",
                       std::move(fix)});
    }
}

// ---- the routing table ----------------------------------------------------------------------

strategy_summary summarize(const service_mapping& m, const strategy& s, const std::set<std::string>& built) {
    using row_key = std::tuple<std::string, std::string, std::string>;  // job, service, connector
    std::map<row_key, std::set<std::string>> rows;
    strings offered;
    for (const auto& [type, w] : m.workers) {
        for (const auto& key : unique_non_empty(s.offered_keys(w))) {
            offered.push_back(key);
            const auto r = s.resolve_route(w, m, key);
            rows[{key, r ? r->service : "", r ? r->connector : ""}].insert(type);
        }
    }
    // What services accept but nobody takes: the row that shows the seed's bug.
    for (const auto& [name, service] : m.services)
        for (const auto& t : unique_non_empty(service.job_types_accepted))
            if (!contains(offered, t)) rows[{t, name, service.connector}];

    strategy_summary out{std::string(s.name()), {}};
    for (const auto& [key, types] : rows) {
        const auto& [job, service, connector] = key;
        out.rows.push_back({job, strings(types.begin(), types.end()), service, connector,
                            m.find_service(service) != nullptr, !connector.empty() && built.count(connector) > 0});
    }
    return out;
}

}  // namespace

std::size_t check_report::count(finding::severity level) const {
    return static_cast<std::size_t>(
        std::count_if(findings.begin(), findings.end(), [&](const finding& f) { return f.level == level; }));
}

check_report check_mapping(const service_mapping& m, const check_options& options) {
    check_report report;
    auto& out = report.findings;
    const strings in_use = check_workers(m, options, out);
    for (const auto& d : m.diagnostics) out.push_back({d.level, d.path, d.message, fix_for_diagnostic(d, m, options)});
    check_built_connectors(m, options, in_use, out);
    check_service_configs(m, options, out);
    check_route_agreement(m, out);
    std::vector<finding> marked;
    strings marked_by;
    for (const auto* s : options.strategies) {
        check_untaken_job_types(m, *s, marked);
        check_idle_worker_types(m, *s, in_use, marked);
        marked_by.resize(marked.size(), std::string(s->name()));
        report.summaries.push_back(summarize(m, *s, options.built_connectors));
    }
    merge_strategy_findings(marked, marked_by, out);
    std::stable_partition(out.begin(), out.end(), [](const finding& f) { return f.level == severity::error; });
    return report;
}

}  // namespace jobrouter
