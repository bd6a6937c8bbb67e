#include "cli/probe_report.hpp"

#include "cli/setting_flag.hpp"

#include <certauth/x509/certificate.hpp>
#include <certauth/x509/time_text.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace certauth::cli {
namespace {

using nlohmann::json;

constexpr const char* k_green = "\033[32m";
constexpr const char* k_red = "\033[31m";
constexpr const char* k_yellow = "\033[33m";
constexpr const char* k_reset = "\033[0m";

std::string fixed(double value, int decimals) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(decimals) << value;
    return s.str();
}

double seconds(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1e6; }

// Width in terminal columns of UTF-8 text (one per code point).
std::size_t columns(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(std::string_view text, std::size_t width) {
    std::string out(text);
    const std::size_t w = columns(text);
    if (w < width) out.append(width - w, ' ');
    return out;
}

std::string shorten(std::string_view text, std::size_t max) {
    if (columns(text) <= max) return std::string(text);
    std::string out;
    std::size_t n = 0;
    for (char c : text) {
        const bool starts = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        if (starts && ++n > max - 1) break;
        out += c;
    }
    return out + "…";
}

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
    const std::time_t time = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&time, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

std::string expiry(const x509::CertFacts& facts) {
    const auto now = std::chrono::system_clock::now();
    const long long days = x509::whole_days(now, facts.not_after);
    std::string out = "expires " + x509::date_text(facts.not_after);
    if (facts.not_after < now) return out + " (expired " + std::to_string(-days) + " days ago)";
    return out + " (in " + std::to_string(days) + " days)";
}

std::string describe_certificate(const x509::Certificate& cert) {
    const x509::CertFacts facts = cert.facts();
    return facts.subject.to_string() + ", issuer " + facts.issuer.to_string() + ", " + expiry(facts) + ", " +
           cert.key_description();
}

json certificate_json(const x509::Certificate& cert) {
    const x509::CertFacts facts = cert.facts();
    return json{{"subject", facts.subject.to_string()},
                {"issuer", facts.issuer.to_string()},
                {"not_before", utc_timestamp(facts.not_before) + "Z"},
                {"not_after", utc_timestamp(facts.not_after) + "Z"},
                {"key", cert.key_description()},
                {"fingerprint256", facts.fingerprint256}};
}

const char* outcome_mark(client::CaseOutcome outcome) {
    return outcome == client::CaseOutcome::passed ? "✔" : outcome == client::CaseOutcome::failed ? "✘" : "!";
}

const char* outcome_colour(client::CaseOutcome outcome) {
    return outcome == client::CaseOutcome::passed ? k_green : outcome == client::CaseOutcome::failed ? k_red : k_yellow;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The CA names of a CertificateRequest, "; "-separated.
std::string ca_names(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names)
        out += (out.empty() ? "" : "; ") + name;
    return out;
}

// One case at the TLS level: "TLSv1.3, client certificate requested (CAs:
// ...) and sent, alert unknown_ca". `cas` says how the CA names are shown
// (inline, or a footnote mark of the text report).
std::string tls_text(const client::TlsSummary& tls, const std::string& cas) {
    if (tls.version.empty()) return "no TLS session";
    std::string out = tls.version;
    if (tls.certificate_requested)
        out += ", client certificate requested (" + (tls.requested_cas.empty() ? std::string("any CA") : cas) + ")" +
               (tls.certificate_sent ? " and sent" : ", none sent");
    else if (tls.handshake_done)
        out += ", no client certificate requested";
    if (!tls.alert.empty()) out += ", alert " + tls.alert;
    return out;
}

json tls_json(const client::TlsSummary& tls) {
    json out{{"version", tls.version.empty() ? json(nullptr) : json(tls.version)},
             {"handshake", tls.handshake_done},
             {"certificate_requested", tls.certificate_requested},
             {"requested_cas", tls.requested_cas},
             {"certificate_sent", tls.certificate_sent}};
    out["alert"] = tls.alert.empty() ? json(nullptr) : json(tls.alert);
    return out;
}

} // namespace

std::string format_micros(double micros) {
    if (micros < 1000) return fixed(micros, 0) + " µs";
    if (micros < 1e6) return fixed(micros / 1000, micros < 1e4 ? 2 : 1) + " ms";
    return fixed(micros / 1e6, 2) + " s";
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        // Decode one UTF-8 code point (strictly: no overlongs, no surrogates).
        std::uint32_t cp = 0;
        std::size_t length = 0;
        if (c < 0x80)
            cp = c, length = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            cp = c & 0x1F, length = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            cp = c & 0x0F, length = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            cp = c & 0x07, length = 4;
        bool valid = length > 0 && i + length <= text.size();
        for (std::size_t k = 1; valid && k < length; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) valid = false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (valid && ((length == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
                      (length == 4 && (cp < 0x10000 || cp > 0x10FFFF))))
            valid = false;
        if (valid && (cp == 0xFFFE || cp == 0xFFFF)) valid = false;
        if (!valid) {
            append_utf8(out, 0xFFFD);
            ++i;
            continue;
        }
        i += length;
        switch (cp) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        case '\n': out += "&#10;"; break;
        case '\r': out += "&#13;"; break;
        case '\t': out += "&#9;"; break;
        default:
            if (cp < 0x20 || cp == 0x7F)
                append_utf8(out, 0xFFFD);
            else
                append_utf8(out, cp);
        }
    }
    return out;
}

void write_text_report(std::ostream& out, const client::ScenarioRun& run, Colour colour) {
    constexpr std::size_t k_cell = 48;
    std::size_t name_w = 4, expected_w = 8, got_w = 3;
    for (const auto& r : run.results) {
        name_w = std::max(name_w, columns(shorten(r.name, k_cell)));
        expected_w = std::max(expected_w, columns(shorten(r.expected, k_cell)));
        got_w = std::max(got_w, columns(shorten(r.got, k_cell)));
    }
    out << "  " << pad("case", name_w) << "  " << pad("expected", expected_w) << "  " << pad("got", got_w)
        << "  time\n";
    // The CA names of the servers' CertificateRequests, as footnotes: they
    // are long, and the same in most cases.
    std::vector<std::vector<std::string>> ca_lists;
    for (const auto& r : run.results) {
        const bool paint = colour == Colour::on;
        if (paint) out << outcome_colour(r.outcome);
        out << outcome_mark(r.outcome);
        if (paint) out << k_reset;
        out << ' ' << pad(shorten(r.name, k_cell), name_w) << "  " << pad(shorten(r.expected, k_cell), expected_w)
            << "  " << pad(shorten(r.got, k_cell), got_w) << "  " << format_micros(static_cast<double>(r.time.count()))
            << '\n';
        std::string mark;
        if (!r.tls.requested_cas.empty()) {
            auto it = std::find(ca_lists.begin(), ca_lists.end(), r.tls.requested_cas);
            if (it == ca_lists.end()) it = ca_lists.insert(ca_lists.end(), r.tls.requested_cas);
            mark = "CAs [" + std::to_string(it - ca_lists.begin() + 1) + "]";
        }
        out << "    " << tls_text(r.tls, mark) << '\n';
        if (r.outcome != client::CaseOutcome::passed) {
            const std::string_view flag = flag_of_setting(r.setting);
            out << "    " << r.message << (flag.empty() ? "" : " (" + std::string(flag) + ")") << '\n';
        }
    }
    for (std::size_t i = 0; i < ca_lists.size(); ++i)
        out << "[" << i + 1 << "] CA names the server sent: " << ca_names(ca_lists[i]) << '\n';
    const std::size_t failed = run.count(client::CaseOutcome::failed), errors = run.count(client::CaseOutcome::error);
    out << run.results.size() << (run.results.size() == 1 ? " case: " : " cases: ")
        << run.count(client::CaseOutcome::passed) << " passed, " << failed << " failed, " << errors
        << (errors == 1 ? " error" : " errors") << " in " << fixed(seconds(run.time), 2) << " s\n";
}

json json_report(const client::ScenarioRun& run) {
    json cases = json::array();
    for (const auto& r : run.results) {
        json c{
            {"name", r.name},         {"method", r.method}, {"url", r.url},           {"verdict", to_string(r.outcome)},
            {"expected", r.expected}, {"got", r.got},       {"time", seconds(r.time)}};
        c["status"] = r.status ? json(r.status) : json(nullptr);
        c["reason"] = r.reason.empty() ? json(nullptr) : json(r.reason);
        c["message"] = r.message.empty() ? json(nullptr) : json(r.message);
        c["refused"] = r.refused ? json("handshake") : json(nullptr);
        c["body"] = r.status ? json(r.body) : json(nullptr);
        c["tls"] = tls_json(r.tls);
        cases.push_back(std::move(c));
    }
    return json{{"file", run.file},
                {"timestamp", utc_timestamp(run.started) + "Z"},
                {"tests", run.results.size()},
                {"passed", run.count(client::CaseOutcome::passed)},
                {"failures", run.count(client::CaseOutcome::failed)},
                {"errors", run.count(client::CaseOutcome::error)},
                {"time", seconds(run.time)},
                {"cases", std::move(cases)}};
}

void write_junit_report(std::ostream& out, const client::ScenarioRun& run) {
    const std::string tests = std::to_string(run.results.size());
    const std::string failures = std::to_string(run.count(client::CaseOutcome::failed));
    const std::string errors = std::to_string(run.count(client::CaseOutcome::error));
    const std::string time = fixed(seconds(run.time), 3);
    std::string suite = std::filesystem::path(run.file).filename().string();
    if (suite.empty()) suite = "scenarios";
    const std::string classname = "certauth.probe." + std::filesystem::path(suite).stem().string();

    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << "<testsuites name=\"certauth probe\" tests=\"" << tests << "\" failures=\"" << failures << "\" errors=\""
        << errors << "\" time=\"" << time << "\">\n";
    out << "  <testsuite name=\"" << xml_escape(suite) << "\" tests=\"" << tests << "\" failures=\"" << failures
        << "\" errors=\"" << errors << "\" skipped=\"0\" time=\"" << time << "\" timestamp=\""
        << utc_timestamp(run.started) << "\">\n";
    for (const auto& r : run.results) {
        out << "    <testcase name=\"" << xml_escape(r.name) << "\" classname=\"" << xml_escape(classname)
            << "\" time=\"" << fixed(seconds(r.time), 3) << "\">\n";
        if (r.outcome != client::CaseOutcome::passed) {
            const char* element = r.outcome == client::CaseOutcome::failed ? "failure" : "error";
            const std::string type = r.outcome == client::CaseOutcome::failed ? std::string("expectation") : r.got;
            out << "      <" << element << " message=\"" << xml_escape(r.message) << "\" type=\"" << xml_escape(type)
                << "\">" << xml_escape(r.method + " " + r.url) << "\nexpected: " << xml_escape(r.expected)
                << "\ngot: " << xml_escape(r.got) << "\n"
                << xml_escape(r.message) << "</" << element << ">\n";
        }
        // What happened at the TLS level, for every case (CI systems show it with the case).
        out << "      <system-out>" << xml_escape("TLS: " + tls_text(r.tls, "CAs: " + ca_names(r.tls.requested_cas)))
            << "</system-out>\n";
        out << "    </testcase>\n";
    }
    out << "  </testsuite>\n</testsuites>\n";
}

std::string_view failure_hint(std::string_view kind) noexcept {
    using client::FailureKind;
    if (kind == client::to_string(FailureKind::server_untrusted))
        return "give its CA with --cacert FILE, or -k to skip verification";
    if (kind == client::to_string(FailureKind::hostname_mismatch))
        return "use the name it was issued for, or give that name with --servername or --resolve";
    if (kind == client::to_string(FailureKind::client_certificate_required)) return "give one with --cert and --key";
    return {};
}

std::string with_hint(std::string_view kind, const std::string& message) {
    const std::string_view hint = failure_hint(kind);
    return hint.empty() ? message : message + "; " + std::string(hint);
}

std::optional<std::string> expectation_problem(const client::Exchange& exchange, const Expectation& expect) {
    if (!exchange.response) return std::string("no response");
    const client::ClientResponse& response = *exchange.response;
    const std::string reason(client::body_reason(response.body));
    if (response.status != expect.status)
        return "expected " + std::to_string(expect.status) + ", got " + std::to_string(response.status) +
               (reason.empty() ? "" : " (reason " + reason + ")");
    if (expect.reason && reason != *expect.reason)
        return "expected reason " + *expect.reason + ", got " + (reason.empty() ? std::string("none") : reason);
    return std::nullopt;
}

void write_exchange_text(std::ostream& out, std::ostream& diag, const client::Exchange& exchange,
                         const client::ClientContext& context, bool verbose, Colour colour) {
    const client::TlsSummary& tls = exchange.tls;
    if (verbose) {
        if (!exchange.peer.empty())
            diag << "* connected to " << exchange.peer << " in "
                 << format_micros(static_cast<double>(exchange.connect_time.count())) << '\n';
        if (tls.handshake_done)
            diag << "* TLS handshake in " << format_micros(static_cast<double>(exchange.handshake_time.count()))
                 << (tls.resumed ? " (resumed session)" : "") << '\n';
        for (std::size_t i = 0; i < tls.server_chain.size(); ++i)
            diag << "* server certificate [" << i << "]: " << describe_certificate(tls.server_chain[i]) << '\n';
        if (!tls.server_chain.empty()) {
            if (tls.verify_result == 0)
                diag << "* server certificate verified" << (context.insecure() ? " (though -k was given)" : "") << '\n';
            else if (context.insecure())
                diag << "* server certificate NOT verified (-k): " << tls.verify_error << '\n';
        }
        if (tls.certificate_requested) {
            diag << "* the server asked for a client certificate; acceptable CAs: ";
            if (tls.requested_cas.empty()) diag << "(any: the server sent no names)";
            for (std::size_t i = 0; i < tls.requested_cas.size(); ++i)
                diag << (i ? "; " : "") << tls.requested_cas[i];
            diag << '\n';
        } else if (!exchange.peer.empty() && (tls.handshake_done || !tls.server_chain.empty())) {
            diag << "* the server did not ask for a client certificate\n";
        }
        if (context.certificate_chain().empty())
            diag << "* client certificate: none configured (--cert)\n";
        else if (tls.certificate_sent)
            diag << "* client certificate sent: " << describe_certificate(context.certificate_chain().front())
                 << (context.certificate_chain().size() > 1
                         ? " (+" + std::to_string(context.certificate_chain().size() - 1) + " chain)"
                         : std::string{})
                 << '\n';
        else if (tls.certificate_requested)
            diag << "* client certificate: configured but NOT sent\n";
        if (!tls.alert.empty()) diag << "* the server sent a fatal alert: " << tls.alert << '\n';
        if (exchange.response)
            for (const auto& h : exchange.response->headers)
                diag << "< " << h.name << ": " << h.value << '\n';
        diag << "* total " << format_micros(static_cast<double>(exchange.total_time.count())) << '\n';
    }
    if (exchange.response) {
        const client::ClientResponse& r = *exchange.response;
        const bool paint = colour == Colour::on;
        if (paint) out << (r.status < 300 ? k_green : r.status < 500 ? k_yellow : k_red);
        out << "HTTP/" << r.version / 10 << '.' << r.version % 10 << ' ' << r.status << ' ' << r.reason_phrase;
        if (paint) out << k_reset;
        out << '\n';
        if (!r.body.empty()) {
            out << r.body;
            if (r.body.back() != '\n') out << '\n';
        }
    }
    if (tls.handshake_done)
        out << "TLS: " << tls.version << ", " << tls.cipher << (tls.resumed ? " (resumed)" : "") << '\n';
    if (!tls.server_chain.empty()) {
        const x509::CertFacts facts = tls.server_chain.front().facts();
        out << "server certificate: " << facts.subject.to_string() << ", " << expiry(facts);
        if (tls.verify_result != 0 && context.insecure()) out << " (NOT verified: -k)";
        out << '\n';
    }
}

json exchange_json(const client::Exchange& exchange, const client::ClientRequest& request, const Expectation& expect) {
    json out{{"url", request.url.to_string()}, {"method", client::to_string(request.method)}};
    out["expected"] = json{{"status", expect.status}, {"reason", expect.reason ? json(*expect.reason) : json(nullptr)}};
    if (exchange.response) {
        const client::ClientResponse& r = *exchange.response;
        const auto problem = expectation_problem(exchange, expect);
        out["ok"] = !problem.has_value();
        if (problem) out["problem"] = *problem;
        out["status"] = r.status;
        const std::string reason(client::body_reason(r.body));
        out["reason"] = reason.empty() ? json(nullptr) : json(reason);
        json headers = json::object();
        for (const auto& h : r.headers)
            headers[h.name] = h.value;
        out["headers"] = std::move(headers);
        json body = client::parse_body(r.body);
        out["body"] = body.is_discarded() ? json(r.body) : body;
    } else {
        out["ok"] = false;
        const client::Failure failure = exchange.failure.value_or(client::Failure{});
        out["error"] = json{{"kind", client::to_string(failure.kind)}, {"message", failure.message}};
    }
    const client::TlsSummary& tls = exchange.tls;
    json t{{"handshake", tls.handshake_done},
           {"version", tls.version},
           {"cipher", tls.cipher},
           {"resumed", tls.resumed},
           {"verified", tls.verify_result == 0 && !tls.server_chain.empty()},
           {"certificate_requested", tls.certificate_requested},
           {"requested_cas", tls.requested_cas},
           {"certificate_sent", tls.certificate_sent}};
    t["verify_error"] = tls.verify_error.empty() ? json(nullptr) : json(tls.verify_error);
    t["alert"] = tls.alert.empty() ? json(nullptr) : json(tls.alert);
    json chain = json::array();
    for (const auto& cert : tls.server_chain)
        chain.push_back(certificate_json(cert));
    t["server_chain"] = std::move(chain);
    out["tls"] = std::move(t);
    out["peer"] = exchange.peer;
    out["timing_ms"] = json{{"connect", static_cast<double>(exchange.connect_time.count()) / 1000.0},
                            {"handshake", static_cast<double>(exchange.handshake_time.count()) / 1000.0},
                            {"total", static_cast<double>(exchange.total_time.count()) / 1000.0}};
    return out;
}

void write_load_text(std::ostream& out, const client::LoadResult& result, const client::LoadOptions& options) {
    const bool fresh = options.mode == client::ConnectionMode::new_connections;
    out << "target       " << client::to_string(options.request.method) << ' ' << options.request.url.to_string()
        << '\n';
    out << "load         " << result.concurrency << " connection" << (result.concurrency == 1 ? "" : "s") << " on "
        << result.threads << " thread" << (result.threads == 1 ? "" : "s") << ", "
        << (fresh ? (options.resumption == client::Resumption::on ? "new connection per request, resuming sessions"
                                                                  : "new connection per request")
                  : "keep-alive")
        << '\n';
    out << "requests     " << result.responses << " in " << fixed(result.elapsed.count(), 3)
        << " s = " << fixed(result.requests_per_second(), 1) << "/s\n";
    out << "handshakes   " << result.handshakes << " (" << result.resumed
        << " resumed) = " << fixed(result.handshakes_per_second(), 1) << "/s\n";
    const client::Histogram& h = result.latency;
    if (h.count() > 0) {
        auto p = [&](double q) { return format_micros(static_cast<double>(h.percentile(q))); };
        out << "latency      p50 " << p(50) << ", p90 " << p(90) << ", p99 " << p(99) << ", p99.9 " << p(99.9)
            << ", max " << format_micros(static_cast<double>(h.max())) << " (mean " << format_micros(h.mean()) << ")\n";
    }
    out << "status      ";
    if (result.by_status.empty()) out << " none";
    for (const auto& [status, count] : result.by_status)
        out << ' ' << status << ": " << count;
    out << '\n';
    if (!result.by_reason.empty()) {
        out << "reasons     ";
        for (const auto& [reason, count] : result.by_reason)
            out << ' ' << reason << ": " << count;
        out << '\n';
    }
    out << "errors       " << result.error_count() << '\n';
    for (const auto& [kind, count] : result.errors)
        out << "  " << kind << ": " << count.count << " (first: " << with_hint(kind, count.first_message) << ")\n";
}

json load_json(const client::LoadResult& result, const client::LoadOptions& options) {
    const client::Histogram& h = result.latency;
    json status = json::object();
    for (const auto& [code, count] : result.by_status)
        status[std::to_string(code)] = count;
    json reasons = json::object();
    for (const auto& [reason, count] : result.by_reason)
        reasons[reason] = count;
    json errors = json::object();
    for (const auto& [kind, count] : result.errors)
        errors[kind] = json{{"count", count.count}, {"first_message", count.first_message}};
    return json{{"url", options.request.url.to_string()},
                {"method", client::to_string(options.request.method)},
                {"threads", result.threads},
                {"concurrency", result.concurrency},
                {"mode", options.mode == client::ConnectionMode::new_connections ? "new-connections" : "keep-alive"},
                {"resume", options.mode == client::ConnectionMode::new_connections &&
                               options.resumption == client::Resumption::on},
                {"elapsed_s", result.elapsed.count()},
                {"requests", result.responses},
                {"requests_per_second", result.requests_per_second()},
                {"handshakes", result.handshakes},
                {"resumed", result.resumed},
                {"handshakes_per_second", result.handshakes_per_second()},
                {"latency_us", json{{"min", h.min()},
                                    {"mean", h.mean()},
                                    {"p50", h.percentile(50)},
                                    {"p90", h.percentile(90)},
                                    {"p99", h.percentile(99)},
                                    {"p99.9", h.percentile(99.9)},
                                    {"max", h.max()}}},
                {"status", std::move(status)},
                {"reasons", std::move(reasons)},
                {"errors", std::move(errors)},
                {"error_count", result.error_count()},
                {"bytes_received", result.bytes_received}};
}

std::string progress_line(const client::LoadProgress& progress, std::optional<std::uint64_t> total, double rate) {
    const double elapsed = progress.elapsed.count();
    std::string out = "  " + std::to_string(progress.done);
    if (total) out += "/" + std::to_string(*total);
    out += " requests  " + fixed(rate, 0) + "/s  " + std::to_string(progress.errors) + " errors  " + fixed(elapsed, 1) +
           " s";
    return out;
}

} // namespace certauth::cli
