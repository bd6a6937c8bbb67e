#pragma once
// Scenario matrices (certauth probe --scenarios FILE): the file format of
// fixtures/scenarios.json, its validation, running every case, and judging
// each outcome against its expectation. The report writers live in cli.
//
//   {"defaults": {"url": "https://localhost:3443", "cacert": "ca.crt", "method": "GET", "path": "/"},
//    "cases": [{"name": "joe", "cert": "joe.crt", "key": "joe.key", "status": 200, "user": {"cn": "joe"}},
//              {"name": "no certificate", "status": 401, "reason": "no_certificate"}]}
//
// Case keys: name (required, unique), cert, key, path, method (GET, HEAD),
// headers (object); what the server must do: status (an HTTP status) with
// reason, reason_optional (true: a body without a reason passes on status
// alone) and user (object: keys the 200 body must have with these values),
// or refused ("handshake": the server ends the TLS handshake with an alert,
// also one that arrives right after it under TLS 1.3) with alert (its RFC
// name, "certificate_required"); also url, cacert, insecure, timeout
// (seconds). Defaults may hold every key but name; a case's own status or
// refused replaces the other from the defaults. Relative paths are relative
// to the scenario file.

#include <certauth/client/client.hpp>
#include <certauth/result.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace certauth::client {

// What a case expects instead of a response.
enum class Refusal {
    none,      // an HTTP response (status)
    handshake, // a fatal alert from the server before any response
};

// Whether a body without a "reason" meets an expected reason.
enum class ReasonMatch {
    required, // the body must carry the expected reason
    if_given, // a body without one passes on status; a different one still fails
};

struct ScenarioCase {
    std::string name;
    std::string url; // "" when neither the case nor the defaults give one (then --url must)
    std::filesystem::path cert, key, cacert;
    bool insecure = false;
    std::chrono::milliseconds timeout{10000};
    HttpMethod method = HttpMethod::get;
    std::optional<std::string> path; // overrides the URL's path
    std::vector<Header> headers;
    int status = 0; // with Refusal::none
    std::optional<std::string> reason;
    ReasonMatch reason_match = ReasonMatch::required;
    std::optional<nlohmann::json> user; // an object
    Refusal refused = Refusal::none;
    std::optional<std::string> alert; // with Refusal::handshake: the alert expected, by its RFC name
};

struct ScenarioFile {
    std::filesystem::path file;
    std::vector<ScenarioCase> cases;
};

// Errors name the file and the JSON path: "scenarios.json: cases[2].status:
// expected an integer HTTP status (100-599), got \"200\"", or the line and
// column of a syntax error.
Result<ScenarioFile> load_scenarios(const std::filesystem::path& file);
Result<ScenarioFile> parse_scenarios(std::string_view text, const std::filesystem::path& file);

enum class CaseOutcome { passed, failed, error };
std::string_view to_string(CaseOutcome outcome) noexcept; // "passed", "failed", "error"

struct CaseResult {
    std::string name;
    std::string method;
    std::string url;
    CaseOutcome outcome = CaseOutcome::error;
    std::string expected; // "401 unknown_user", "200 {\"cn\":\"joe\"}", "refused at handshake"
    std::string got;      // the same shape ("refused at handshake (unknown_ca)"), or the failure kind for an error
    std::string message;  // why it failed or erred; "" when passed
    std::string setting;  // a setup error about the caller's setting: "url" (run_scenarios' override_url)
    int status = 0;       // observed; 0 without a response
    std::string reason;   // observed "reason" of the body, "" when none
    std::string body;     // the start of the body (k_result_body_limit bytes at most)
    bool refused = false; // the server refused at the handshake: tls.alert names how
    TlsSummary tls;       // what happened at the TLS level, as far as the exchange got
    std::chrono::microseconds time{0};
};

inline constexpr std::size_t k_result_body_limit = 512;

struct ScenarioRun {
    std::string file;
    std::vector<CaseResult> results;
    std::chrono::microseconds time{0};
    std::chrono::system_clock::time_point started;

    std::size_t count(CaseOutcome outcome) const;
    bool all_passed() const { return count(CaseOutcome::passed) == results.size(); }
};

// The URL a case targets: `override_url` (--url) when given, else the case's,
// with the case's path. Errors say which is missing or wrong.
Result<Url> case_url(const ScenarioCase& scenario, std::string_view override_url);

// What a case expects, as the reports show it: "401 unknown_user",
// "401 unknown_user if given", "200 {\"cn\":\"joe\"}", "refused at handshake".
std::string expected_text(const ScenarioCase& scenario);

// Judges one exchange against the case's expectations (pure). A fatal alert
// from the server before any response is a refusal at the handshake: it
// passes a case that expects one (and names that alert, if it does), and
// fails a case that expects a status; an exchange that ended without a
// response and without an alert is an error.
CaseResult judge(const ScenarioCase& scenario, const Exchange& exchange);

// Runs every case in order, each over its own connection.
ScenarioRun run_scenarios(const ScenarioFile& file, std::string_view override_url);

} // namespace certauth::client
