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
// headers (object), status (required), reason, user (object: keys the 200
// body must have with these values); also url, cacert, insecure, timeout
// (seconds). Defaults may hold every key but name. Relative paths are
// relative to the scenario file.

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

struct ScenarioCase {
    std::string name;
    std::string url; // "" when neither the case nor the defaults give one (then --url must)
    std::filesystem::path cert, key, cacert;
    bool insecure = false;
    std::chrono::milliseconds timeout{10000};
    HttpMethod method = HttpMethod::get;
    std::optional<std::string> path; // overrides the URL's path
    std::vector<Header> headers;
    int status = 0;
    std::optional<std::string> reason;
    std::optional<nlohmann::json> user; // an object
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
    std::string expected; // "401 unknown_user", "200 {\"cn\":\"joe\"}"
    std::string got;      // the same shape, or the failure kind for an error
    std::string message;  // why it failed or erred; "" when passed
    int status = 0;       // observed; 0 without a response
    std::string reason;   // observed "reason" of the body, "" when none
    std::chrono::microseconds time{0};
};

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

// Judges one exchange against the case's expectations (pure).
CaseResult judge(const ScenarioCase& scenario, const Exchange& exchange);

// Runs every case in order, each over its own connection.
ScenarioRun run_scenarios(const ScenarioFile& file, std::string_view override_url);

} // namespace certauth::client
