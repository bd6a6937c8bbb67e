// Scenario files: parsing with errors that name the file and the JSON path,
// and judging an exchange against a case (pure; no sockets).
#include <certauth/client/scenario.hpp>

#include <certauth/ascii.hpp>
#include <certauth/client/alert.hpp>
#include <certauth/json_text.hpp>
#include <certauth/x509/certificate.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

namespace certauth::client {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::array<std::string_view, 16> k_keys{
    "name", "cert",    "key",   "path", "method", "headers",  "status", "reason", "reason_optional",
    "user", "refused", "alert", "url",  "cacert", "insecure", "timeout"};

std::string type_name(const json& value) {
    if (value.is_string()) return "a string " + json_text(value);
    if (value.is_boolean()) return json_text(value);
    if (value.is_number()) return "the number " + json_text(value);
    if (value.is_null()) return "null";
    if (value.is_array()) return "an array";
    return "an object";
}

class Parser {
  public:
    Parser(fs::path file) : m_file(std::move(file)), m_base(m_file.parent_path()) {}

    Error fail(const std::string& where, const std::string& what) const {
        return Error{m_file.string() + ": " + where + ": " + what};
    }

    // Applies the keys of `object` (at JSON path `where`) onto `out`.
    Result<void> apply(const json& object, const std::string& where, bool is_defaults, ScenarioCase& out,
                       std::set<std::string>& seen) const {
        if (!object.is_object()) return fail(where, "expected an object, got " + type_name(object));
        for (const auto& [key, value] : object.items()) {
            const std::string at = where + "." + key;
            if (std::find(k_keys.begin(), k_keys.end(), key) == k_keys.end())
                return fail(at, "unknown key (expected one of name, cert, key, path, method, headers, status, reason, "
                                "reason_optional, user, refused, alert, url, cacert, insecure, timeout)");
            seen.insert(key);
            if (key == "name") {
                if (is_defaults) return fail(at, "a name belongs to a case, not to the defaults");
                if (!value.is_string() || value.get<std::string>().empty())
                    return fail(at, "expected a non-empty string, got " + type_name(value));
                out.name = value.get<std::string>();
            } else if (key == "cert" || key == "key" || key == "cacert") {
                if (!value.is_string() || value.get<std::string>().empty())
                    return fail(at, "expected a file name, got " + type_name(value));
                fs::path path = value.get<std::string>();
                if (path.is_relative()) path = (m_base / path).lexically_normal();
                (key == "cert" ? out.cert : key == "key" ? out.key : out.cacert) = path;
            } else if (key == "path") {
                if (!value.is_string() || value.get<std::string>().empty() || value.get<std::string>().front() != '/')
                    return fail(at, "expected a path starting with '/', got " + type_name(value));
                const std::string path = value.get<std::string>();
                if (std::any_of(path.begin(), path.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; }))
                    return fail(at, "the path holds a space or control character (percent-encode it)");
                out.path = path;
            } else if (key == "method") {
                const std::optional<HttpMethod> method =
                    value.is_string() ? parse_method(value.get_ref<const std::string&>()) : std::nullopt;
                if (!method) return fail(at, "expected \"GET\" or \"HEAD\", got " + type_name(value));
                out.method = *method;
            } else if (key == "headers") {
                if (!value.is_object())
                    return fail(at, "expected an object of header names to values, got " + type_name(value));
                for (const auto& [name, header_value] : value.items()) {
                    if (!header_value.is_string())
                        return fail(at + "." + name, "expected a string, got " + type_name(header_value));
                    auto header = parse_header(name + ": " + header_value.get<std::string>());
                    if (!header) return fail(at + "." + name, header.error().message);
                    const std::string& header_name = name; // clang 14 cannot capture a structured binding
                    auto same = [&header_name](const Header& h) { return ascii::iequals(h.name, header_name); };
                    out.headers.erase(std::remove_if(out.headers.begin(), out.headers.end(), same), out.headers.end());
                    out.headers.push_back(*header);
                }
            } else if (key == "status") {
                if (!value.is_number_integer() || value.get<long long>() < 100 || value.get<long long>() > 599)
                    return fail(at, "expected an integer HTTP status (100-599), got " + type_name(value));
                out.status = value.get<int>();
            } else if (key == "reason") {
                if (!value.is_string() || value.get<std::string>().empty())
                    return fail(at, "expected a reason code such as \"unknown_user\", got " + type_name(value));
                out.reason = value.get<std::string>();
            } else if (key == "reason_optional") {
                if (!value.is_boolean()) return fail(at, "expected true or false, got " + type_name(value));
                out.reason_match = value.get<bool>() ? ReasonMatch::if_given : ReasonMatch::required;
            } else if (key == "refused") {
                if (value != "handshake")
                    return fail(at, "expected \"handshake\" (the server refuses at the TLS handshake), got " +
                                        type_name(value));
                out.refused = Refusal::handshake;
            } else if (key == "alert") {
                if (!value.is_string() || !is_alert_name(value.get<std::string>()))
                    return fail(at,
                                "expected a TLS alert name such as \"certificate_required\", \"bad_certificate\" or "
                                "\"unknown_ca\", got " +
                                    type_name(value));
                out.alert = value.get<std::string>();
            } else if (key == "user") {
                if (!value.is_object() || value.empty())
                    return fail(at, "expected an object of the user's expected fields, e.g. {\"cn\": \"joe\"}, got " +
                                        (value.is_object() ? std::string("an empty object") : type_name(value)));
                out.user = value;
            } else if (key == "url") {
                if (!value.is_string()) return fail(at, "expected an https:// URL, got " + type_name(value));
                auto url = parse_url(value.get<std::string>());
                if (!url) return fail(at, url.error().message);
                out.url = value.get<std::string>();
            } else if (key == "insecure") {
                if (!value.is_boolean()) return fail(at, "expected true or false, got " + type_name(value));
                out.insecure = value.get<bool>();
            } else if (key == "timeout") {
                if (!value.is_number() || !(value.get<double>() > 0) || value.get<double>() > 86400)
                    return fail(at, "expected a number of seconds > 0, got " + type_name(value));
                out.timeout = std::chrono::milliseconds(static_cast<long long>(std::ceil(value.get<double>() * 1000)));
            }
        }
        return {};
    }

  private:
    fs::path m_file;
    fs::path m_base;
};

} // namespace

std::string_view to_string(CaseOutcome outcome) noexcept {
    switch (outcome) {
    case CaseOutcome::passed: return "passed";
    case CaseOutcome::failed: return "failed";
    case CaseOutcome::error: return "error";
    }
    return "error";
}

std::size_t ScenarioRun::count(CaseOutcome outcome) const {
    return static_cast<std::size_t>(
        std::count_if(results.begin(), results.end(), [&](const CaseResult& r) { return r.outcome == outcome; }));
}

Result<ScenarioFile> parse_scenarios(std::string_view text, const fs::path& file) {
    Result<json> parsed = parse_json(text, file.string(), DuplicateKeys::refused);
    if (!parsed) return parsed.error();
    json document = std::move(*parsed);
    if (!document.is_object())
        return Error{file.string() + ": expected an object with \"defaults\" and \"cases\", got " +
                     type_name(document)};
    for (const auto& [key, value] : document.items())
        if (key != "defaults" && key != "cases")
            return Error{file.string() + ": " + key + ": unknown key (expected \"defaults\" and \"cases\")"};
    if (!document.contains("cases")) return Error{file.string() + ": no \"cases\" array"};
    const json& cases = document["cases"];
    if (!cases.is_array()) return Error{file.string() + ": cases: expected an array, got " + type_name(cases)};
    if (cases.empty()) return Error{file.string() + ": cases: empty (nothing to probe)"};

    Parser parser(file);
    ScenarioCase defaults;
    std::set<std::string> default_keys;
    if (document.contains("defaults")) {
        auto applied = parser.apply(document["defaults"], "defaults", true, defaults, default_keys);
        if (!applied) return applied.error();
        if (default_keys.count("status") && default_keys.count("refused"))
            return parser.fail("defaults", "\"status\" and \"refused\" exclude each other");
    }

    ScenarioFile out;
    out.file = file;
    std::set<std::string> names;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const std::string where = "cases[" + std::to_string(i) + "]";
        ScenarioCase scenario = defaults;
        std::set<std::string> keys = default_keys;
        std::set<std::string> own;
        auto applied = parser.apply(cases[i], where, false, scenario, own);
        if (!applied) return applied.error();
        keys.insert(own.begin(), own.end());
        if (!own.count("name")) return parser.fail(where, "no \"name\"");
        const std::string named = where + " (\"" + scenario.name + "\")";
        if (!names.insert(scenario.name).second) return parser.fail(named, "duplicate name");
        if (own.count("status") && own.count("refused"))
            return parser.fail(named, "\"status\" and \"refused\" exclude each other");
        // A case's own status replaces a refusal of the defaults, and the other way round.
        if (own.count("status")) {
            scenario.refused = Refusal::none;
            if (!own.count("alert")) scenario.alert.reset();
        } else if (own.count("refused")) {
            scenario.status = 0;
            if (!own.count("reason")) scenario.reason.reset();
            if (!own.count("user")) scenario.user.reset();
        }
        if (!keys.count("status") && !keys.count("refused"))
            return parser.fail(named, "no \"status\" (the expected HTTP status) or \"refused\": \"handshake\"");
        if (scenario.refused == Refusal::handshake && (scenario.reason || scenario.user))
            return parser.fail(named, "a case refused at the handshake gets no response: \"reason\" and \"user\" "
                                      "cannot be checked");
        if (scenario.alert && scenario.refused != Refusal::handshake)
            return parser.fail(named, "\"alert\" is checked on a refusal only (\"refused\": \"handshake\")");
        if (!scenario.key.empty() && scenario.cert.empty()) return parser.fail(named, "\"key\" without \"cert\"");
        if (scenario.method == HttpMethod::head && (scenario.reason || scenario.user))
            return parser.fail(named, "a HEAD response has no body: \"reason\" and \"user\" cannot be checked");
        if (scenario.user && scenario.refused == Refusal::none && scenario.status != 200)
            return parser.fail(named, "\"user\" is checked on a 200 response only (status is " +
                                          std::to_string(scenario.status) + ")");
        out.cases.push_back(std::move(scenario));
    }
    return out;
}

Result<ScenarioFile> load_scenarios(const fs::path& file) {
    auto text = x509::read_file(file);
    if (!text) return text.error();
    return parse_scenarios(*text, file);
}

Result<Url> case_url(const ScenarioCase& scenario, std::string_view override_url) {
    const std::string text = override_url.empty() ? scenario.url : std::string(override_url);
    if (text.empty())
        return Error{"case \"" + scenario.name +
                         "\": no URL: give \"url\" in the case or in the defaults, or one URL for every case",
                     "url"};
    auto url = parse_url(text);
    if (!url) return url.error();
    if (scenario.path) {
        // The case's path replaces the URL's path and query.
        url->target = *scenario.path;
    }
    return url;
}

std::string expected_text(const ScenarioCase& scenario) {
    if (scenario.refused == Refusal::handshake)
        return "refused at handshake" + (scenario.alert ? " (" + *scenario.alert + ")" : std::string{});
    std::string text = std::to_string(scenario.status);
    if (scenario.reason)
        text += " " + *scenario.reason + (scenario.reason_match == ReasonMatch::if_given ? " if given" : "");
    if (scenario.user) text += " " + json_text(*scenario.user);
    return text;
}

namespace {

// `message` and what a case can change about a failure of this kind, in the
// scenario file's keys: the CLI's flags do not apply to a case
// (src/cli/probe_report.cpp has those).
std::string with_case_hint(FailureKind kind, const std::string& message) {
    switch (kind) {
    case FailureKind::server_untrusted:
        return message + "; give the server's CA in \"cacert\", or \"insecure\": true to skip verification";
    case FailureKind::hostname_mismatch: return message + "; use the name it was issued for in the URL";
    case FailureKind::client_certificate_required:
        return message + "; give the case a \"cert\", or expect \"refused\": \"handshake\"";
    default: return message;
    }
}

} // namespace

CaseResult judge(const ScenarioCase& scenario, const Exchange& exchange) {
    CaseResult result;
    result.name = scenario.name;
    result.method = std::string(to_string(scenario.method));
    result.time = exchange.total_time;
    result.expected = expected_text(scenario);
    result.tls = exchange.tls;

    if (!exchange.response) {
        const Failure failure = exchange.failure.value_or(Failure{FailureKind::connection_failed, "no response"});
        const std::string& alert = exchange.tls.alert;
        if (alert.empty()) {
            // No word from the server: the exchange itself failed.
            result.outcome = CaseOutcome::error;
            result.got = std::string(to_string(failure.kind));
            result.message = with_case_hint(failure.kind, scenario.refused == Refusal::handshake
                                                              ? failure.message + " (and no TLS alert from the server)"
                                                              : failure.message);
            return result;
        }
        result.refused = true;
        result.got = "refused at handshake (" + alert + ")";
        if (scenario.refused != Refusal::handshake) {
            result.outcome = CaseOutcome::failed;
            result.message = "expected " + result.expected +
                             ", the server refused at the handshake: " + with_case_hint(failure.kind, failure.message);
        } else if (scenario.alert && *scenario.alert != alert) {
            result.outcome = CaseOutcome::failed;
            result.message = "expected alert " + *scenario.alert + ", got " + alert;
        } else {
            result.outcome = CaseOutcome::passed;
        }
        return result;
    }
    const ClientResponse& response = *exchange.response;
    result.status = response.status;
    result.body = response.body.substr(0, k_result_body_limit);
    json body = parse_body(response.body);
    if (body.is_object() && body.contains("reason") && body["reason"].is_string())
        result.reason = body["reason"].get<std::string>();
    result.got = std::to_string(response.status);
    if (!result.reason.empty()) result.got += " " + result.reason;

    std::vector<std::string> problems;
    if (scenario.refused == Refusal::handshake) {
        problems.push_back("expected a refusal at the TLS handshake, got " + std::to_string(response.status) +
                           (result.reason.empty() ? "" : " (" + result.reason + ")"));
    } else if (response.status != scenario.status) {
        problems.push_back("expected status " + std::to_string(scenario.status) + ", got " +
                           std::to_string(response.status) + (result.reason.empty() ? "" : " (" + result.reason + ")"));
    }
    const bool reason_waived = scenario.reason_match == ReasonMatch::if_given && result.reason.empty();
    if (scenario.reason && result.reason != *scenario.reason && !reason_waived)
        problems.push_back("expected reason " + *scenario.reason + ", got " +
                           (result.reason.empty() ? std::string("none") : result.reason));
    if (scenario.user && response.status == 200) {
        if (!body.is_object()) {
            // The start of the body as a JSON string: a page from another
            // server keeps the report's one line per problem (\n escaped, a
            // UTF-8 sequence cut at byte 80 replaced).
            problems.push_back(
                "expected a JSON user object, got " +
                (response.body.empty() ? std::string("an empty body") : json_text(json(response.body.substr(0, 80)))));
        } else {
            json seen = json::object();
            for (const auto& [key, value] : scenario.user->items()) {
                if (!body.contains(key)) {
                    problems.push_back("user." + key + ": expected " + json_text(value) + ", missing");
                    continue;
                }
                seen[key] = body[key];
                if (body[key] != value)
                    problems.push_back("user." + key + ": expected " + json_text(value) + ", got " +
                                       json_text(body[key]));
            }
            result.got += " " + json_text(seen);
        }
    }
    if (problems.empty()) {
        result.outcome = CaseOutcome::passed;
    } else {
        result.outcome = CaseOutcome::failed;
        for (const std::string& p : problems)
            result.message += (result.message.empty() ? "" : "; ") + p;
    }
    return result;
}

} // namespace certauth::client
