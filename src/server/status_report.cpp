#include "status_report.hpp"

#include "process_metrics.hpp"

#include <certauth/json_text.hpp>
#include <certauth/server/handler.hpp>
#include <certauth/x509/time_text.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <utility>
#include <vector>

#include <openssl/crypto.h>

namespace certauth::server::detail {
namespace {

using Clock = std::chrono::system_clock;

// "in 12 days", "3 days ago", for /status.
std::string relative_text(Clock::time_point now, Clock::time_point t) {
    if (t >= now) return "in " + x509::days_text(now, t);
    return x509::days_text(t, now) + " ago";
}

std::string openssl_version() { return OpenSSL_version(OPENSSL_VERSION_STRING); }

// --- the workers' counters, summed -----------------------------------------------

template <std::size_t N>
struct HistogramTotal {
    std::array<std::uint64_t, N + 1> buckets{}; // own counts, +Inf last
    std::uint64_t sum_us = 0;

    void add(const LocalHistogram<N>& h) {
        for (std::size_t i = 0; i <= N; ++i)
            buckets[i] += h.buckets()[i].value();
        sum_us += h.sum_us();
    }
    void write(MetricsWriter& out, const std::array<std::uint64_t, N>& bounds_us) const {
        std::array<double, N> bounds{};
        std::array<std::uint64_t, N> cumulative{};
        std::uint64_t running = 0;
        for (std::size_t i = 0; i < N; ++i) {
            bounds[i] = static_cast<double>(bounds_us[i]) / 1e6;
            running += buckets[i];
            cumulative[i] = running;
        }
        const std::uint64_t count = running + buckets[N];
        out.histogram({}, bounds, cumulative, count, static_cast<double>(sum_us) / 1e6);
    }
};

struct Totals {
    std::vector<std::uint64_t> requests = std::vector<std::uint64_t>(k_statuses * k_request_reasons);
    HistogramTotal<k_request_bounds_us.size()> request_duration;
    std::uint64_t handshakes_full = 0;
    std::uint64_t handshakes_resumed = 0;
    std::array<std::uint64_t, k_handshake_failures> handshake_failures{};
    std::uint64_t connections = 0;
    std::array<std::uint64_t, k_refused_connections> refused{};
    std::vector<std::uint64_t> upstream_requests = std::vector<std::uint64_t>(k_statuses);
    HistogramTotal<k_upstream_bounds_us.size()> upstream_duration;
    std::array<std::uint64_t, k_upstream_errors> upstream_errors{};
    std::uint64_t upstream_retries = 0;

    explicit Totals(std::span<const WorkerMetrics* const> workers) {
        for (const WorkerMetrics* w : workers) {
            for (std::size_t i = 0; i < requests.size(); ++i)
                requests[i] += w->requests[i].value();
            request_duration.add(w->request_duration);
            handshakes_full += w->handshakes_full.value();
            handshakes_resumed += w->handshakes_resumed.value();
            for (std::size_t i = 0; i < handshake_failures.size(); ++i)
                handshake_failures[i] += w->handshake_failures[i].value();
            connections += w->connections.value();
            for (std::size_t i = 0; i < refused.size(); ++i)
                refused[i] += w->refused_connections[i].value();
            for (std::size_t i = 0; i < upstream_requests.size(); ++i)
                upstream_requests[i] += w->upstream_requests[i].value();
            upstream_duration.add(w->upstream_duration);
            for (std::size_t i = 0; i < upstream_errors.size(); ++i)
                upstream_errors[i] += w->upstream_errors[i].value();
            upstream_retries += w->upstream_retries.value();
        }
    }
};

// --- /metrics ---------------------------------------------------------------------

void write_requests(MetricsWriter& out, const Totals& totals) {
    out.family("certauth_requests_total",
               "Requests answered, by HTTP status and reason (ok, a denial's reason code, or none for an answer "
               "without a decision: 400, 405, 413, 431, 502, 504)",
               MetricType::counter);
    // Every decision's series exists from the start (at 0), so that a rate
    // or a ratio over them is defined before the first such request.
    std::array<bool, k_statuses * k_request_reasons> shown{};
    for (std::size_t r = 0; r < k_decision_reasons; ++r) {
        const auto reason = static_cast<policy::Reason>(r);
        if (reason == policy::Reason::malformed) continue; // a header-borne certificate only
        shown[static_cast<std::size_t>(http_status(reason) - k_first_status) * k_request_reasons + r] = true;
    }
    for (std::size_t s = 0; s < k_statuses; ++s) {
        const std::string code = std::to_string(k_first_status + static_cast<int>(s));
        for (std::size_t r = 0; r < k_request_reasons; ++r) {
            const std::size_t i = s * k_request_reasons + r;
            if (totals.requests[i] == 0 && !shown[i]) continue;
            out.sample({{"code", code}, {"reason", reason_of_slot(r)}}, static_cast<double>(totals.requests[i]));
        }
    }
    out.family("certauth_request_duration_seconds",
               "Time from a request's first byte to the end of its answer (a forwarded request's includes the "
               "application's)",
               MetricType::histogram);
    totals.request_duration.write(out, k_request_bounds_us);
}

void write_connections(MetricsWriter& out, const Totals& totals, const StatusView& view) {
    std::uint64_t failed = 0;
    for (const std::uint64_t n : totals.handshake_failures)
        failed += n;
    out.family("certauth_handshakes_total",
               "TLS handshakes with clients by result: full, resumed (a session kept "
               "by certauth) or failed",
               MetricType::counter);
    out.sample({{"result", "full"}}, static_cast<double>(totals.handshakes_full));
    out.sample({{"result", "resumed"}}, static_cast<double>(totals.handshakes_resumed));
    out.sample({{"result", "failed"}}, static_cast<double>(failed));
    out.family("certauth_handshake_failures_total",
               "Failed TLS handshakes by reason: timeout, closed (by the client), server_certificate_rejected (the "
               "client's alert refused certauth's certificate), protocol; when certificates are required at the "
               "handshake, the refused client certificate's reason (no_certificate, untrusted, expired, "
               "not_yet_valid, revoked, wrong_usage)",
               MetricType::counter);
    for (std::size_t i = 0; i < k_handshake_failures; ++i)
        out.sample({{"reason", to_label(static_cast<HandshakeFailure>(i))}},
                   static_cast<double>(totals.handshake_failures[i]));
    out.family("certauth_connections_open", "Client connections open now", MetricType::gauge);
    out.sample(static_cast<double>(view.connections_open));
    out.family("certauth_connections_total", "Client connections accepted (those refused at accept not included)",
               MetricType::counter);
    out.sample(static_cast<double>(totals.connections));
    out.family("certauth_connections_refused_total",
               "Client connections closed at accept: max_connections (the most allowed were open) or stopping",
               MetricType::counter);
    for (std::size_t i = 0; i < k_refused_connections; ++i)
        out.sample({{"why", to_label(static_cast<RefusedConnection>(i))}}, static_cast<double>(totals.refused[i]));
}

void write_configuration(MetricsWriter& out, const StatusView& view) {
    out.family("certauth_reloads_total",
               "Reloads (SIGHUP) by result: success or failure (a failed reload keeps the configuration in force)",
               MetricType::counter);
    out.sample({{"result", "success"}}, static_cast<double>(view.reloads.succeeded));
    out.sample({{"result", "failure"}}, static_cast<double>(view.reloads.failed));
    out.family("certauth_config_generation",
               "Generation of the configuration in force: 1 at start-up, one more per successful reload",
               MetricType::gauge);
    out.sample(static_cast<double>(view.state.generation));
    out.family("certauth_config_last_reload_successful",
               "1 when the last reload succeeded or none was tried, 0 when it failed", MetricType::gauge);
    out.sample(view.reloads.last_failed ? 0 : 1);
    out.family("certauth_config_last_reload_success_timestamp_seconds",
               "Unix time at which the configuration in force was loaded", MetricType::gauge);
    out.sample(unix_seconds(view.reloads.loaded));

    // One series per role and subject: two CAs of the same name (an old and
    // a new one trusted side by side) show the earlier expiry.
    std::map<std::pair<std::string, std::string>, Clock::time_point> not_after;
    const auto note = [&](std::string role, const x509::Certificate& cert) {
        const x509::CertFacts facts = cert.facts();
        auto [it, added] = not_after.try_emplace({std::move(role), facts.subject.to_string()}, facts.not_after);
        if (!added) it->second = std::min(it->second, facts.not_after);
    };
    // No server certificate when only trusted (plain HTTP) listeners serve.
    if (view.state.tls && !view.state.tls->certificate_chain().empty())
        note("server", view.state.tls->certificate_chain().front());
    for (const x509::Certificate& ca : view.state.trust.authorities())
        note("ca", ca);
    out.family("certauth_certificate_not_after_seconds",
               "Unix time at which a certificate expires (notAfter): role server (certauth's own) or ca (a CA "
               "trusted for client certificates)",
               MetricType::gauge);
    for (const auto& [key, at] : not_after)
        out.sample({{"role", key.first}, {"subject", key.second}}, unix_seconds(at));

    std::map<std::string, Clock::time_point> next_update;
    for (const x509::CrlInfo& crl : view.state.trust.crls()) {
        if (!crl.next_update) continue;
        auto [it, added] = next_update.try_emplace(crl.issuer, *crl.next_update);
        if (!added) it->second = std::min(it->second, *crl.next_update);
    }
    out.family("certauth_crl_next_update_seconds",
               "Unix time of a loaded CRL's nextUpdate, by issuer; past it, certificates of that CA are denied",
               MetricType::gauge);
    for (const auto& [issuer, at] : next_update)
        out.sample({{"issuer", issuer}}, unix_seconds(at));

    if (const policy::UserList* users = view.state.user_list()) {
        out.family("certauth_users", "Entries of the user list in force", MetricType::gauge);
        out.sample(static_cast<double>(users->users().size()));
        out.family("certauth_routes", "Routes of the user list in force", MetricType::gauge);
        out.sample(static_cast<double>(users->routes().size()));
    }
}

void write_upstream(MetricsWriter& out, const Totals& totals) {
    out.family("certauth_upstream_requests_total",
               "Requests forwarded to the application (the upstream) that it answered, by its status",
               MetricType::counter);
    for (std::size_t s = 0; s < k_statuses; ++s)
        if (totals.upstream_requests[s] > 0)
            out.sample({{"code", std::to_string(k_first_status + static_cast<int>(s))}},
                       static_cast<double>(totals.upstream_requests[s]));
    out.family("certauth_upstream_duration_seconds",
               "Time from connecting to the application (or taking a kept-alive connection) to its response header",
               MetricType::histogram);
    totals.upstream_duration.write(out, k_upstream_bounds_us);
    out.family("certauth_upstream_errors_total",
               "Forwarded requests certauth answered for the application, by why: connect (refused, unreachable), "
               "closed (before its answer), malformed (not HTTP): 502; timeout: 504",
               MetricType::counter);
    for (std::size_t i = 0; i < k_upstream_errors; ++i)
        out.sample({{"why", to_label(static_cast<UpstreamError>(i + 1))}},
                   static_cast<double>(totals.upstream_errors[i]));
    out.family("certauth_upstream_retries_total",
               "Forwarded requests tried again, once, on a new connection because the kept-alive connection they "
               "went on first turned out closed by the application (idempotent requests without a body); a retry "
               "that fails too is also counted in certauth_upstream_errors_total",
               MetricType::counter);
    out.sample(static_cast<double>(totals.upstream_retries));
}

// --- /status -----------------------------------------------------------------------

nlohmann::ordered_json certificate_json(const x509::Certificate& cert, Clock::time_point now) {
    const x509::CertFacts facts = cert.facts();
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    out["subject"] = facts.subject.to_string();
    out["issuer"] = facts.issuer.to_string();
    out["not_before"] = x509::timestamp_text(facts.not_before);
    out["not_after"] = x509::timestamp_text(facts.not_after);
    out["expires"] = relative_text(now, facts.not_after);
    return out;
}

} // namespace

std::string metrics_text(const StatusView& view) {
    const Totals totals(view.workers);
    MetricsWriter out;
    out.family("certauth_build_info",
               "certauth's version, the commit it was built from and the OpenSSL it runs with (always 1)",
               MetricType::gauge);
    const std::string openssl = openssl_version();
    out.sample({{"version", view.build.version}, {"commit", view.build.commit}, {"openssl", openssl}}, 1);
    write_requests(out, totals);
    write_connections(out, totals, view);
    write_configuration(out, view);
    if (view.upstream != nullptr) write_upstream(out, totals);
    write_process_metrics(out);
    for (const auto& source : view.sources)
        source->write_metrics(out);
    return out.text();
}

std::string status_json(const StatusView& view) {
    using Json = nlohmann::ordered_json;
    Json out = Json::object();
    out["version"] = view.build.version;
    out["commit"] = view.build.commit;
    out["openssl"] = openssl_version();
    out["state"] = view.stopping ? "stopping" : "serving";
    out["started"] = x509::timestamp_text(view.started);
    out["uptime_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(view.now - view.started).count();
    out["generation"] = view.state.generation;
    out["loaded"] = x509::timestamp_text(view.reloads.loaded);
    Json reloads = Json::object();
    reloads["success"] = view.reloads.succeeded;
    reloads["failure"] = view.reloads.failed;
    if (view.reloads.last_attempt) {
        Json last = Json::object();
        last["time"] = x509::timestamp_text(*view.reloads.last_attempt);
        last["result"] = view.reloads.last_failed ? "failure" : "success";
        if (view.reloads.last_failed) last["error"] = view.reloads.last_error;
        reloads["last"] = std::move(last);
    }
    out["reloads"] = std::move(reloads);
    out["connections_open"] = view.connections_open;
    Json listening = Json::array();
    for (const BoundAddress& address : view.listening)
        listening.push_back(address.url());
    out["listening"] = std::move(listening);
    out["client_certificates"] = view.require_cert ? "required" : "requested";
    if (view.upstream != nullptr) out["upstream"] = view.upstream->target.text;

    if (view.state.tls && !view.state.tls->certificate_chain().empty())
        out["server_certificate"] = certificate_json(view.state.tls->certificate_chain().front(), view.now);
    Json cas = Json::array();
    for (const x509::Certificate& ca : view.state.trust.authorities())
        cas.push_back(certificate_json(ca, view.now));
    out["cas"] = std::move(cas);
    Json crls = Json::array();
    for (const x509::CrlInfo& crl : view.state.trust.crls()) {
        Json c = Json::object();
        c["issuer"] = crl.issuer;
        c["file"] = crl.origin;
        c["last_update"] = x509::timestamp_text(crl.last_update);
        if (crl.next_update) {
            c["next_update"] = x509::timestamp_text(*crl.next_update);
            c["next_update_in"] = relative_text(view.now, *crl.next_update);
        } else {
            c["next_update"] = nullptr;
        }
        crls.push_back(std::move(c));
    }
    out["crls"] = std::move(crls);
    out["crl_required"] = view.state.trust.config().crl_mode == x509::CrlMode::required;
    if (const policy::UserList* users = view.state.user_list()) {
        out["users"] = users->users().size();
        Json routes = Json::array();
        for (const policy::Route& route : users->routes()) {
            Json r = Json::object();
            r["path"] = route.path;
            if (route.is_public)
                r["public"] = true;
            else
                r["roles"] = route.roles;
            routes.push_back(std::move(r));
        }
        out["routes"] = std::move(routes);
    } else {
        out["users"] = nullptr;
    }
    out["warnings"] = view.state.warnings;
    for (const auto& source : view.sources)
        source->write_status(out);
    return json_text(out, 2) + '\n';
}

} // namespace certauth::server::detail
