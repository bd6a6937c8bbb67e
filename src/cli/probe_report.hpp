#pragma once
// Reports of certauth probe: the scenario matrix (text table, JSON, JUnit
// XML), one exchange (text, JSON) and a load run (text, JSON).

#include <certauth/client/client.hpp>
#include <certauth/client/load.hpp>
#include <certauth/client/scenario.hpp>

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace certauth::cli {

enum class Colour { off, on };

// ✔/✘ name, expected, got, time; a line under each failure saying why; a
// summary line.
void write_text_report(std::ostream& out, const client::ScenarioRun& run, Colour colour);
nlohmann::json json_report(const client::ScenarioRun& run);
// <testsuites><testsuite tests failures errors time><testcase name classname
// time><failure message=...>expected vs got</failure>...
void write_junit_report(std::ostream& out, const client::ScenarioRun& run);

// XML text and attribute escaping; invalid UTF-8 and characters XML 1.0
// forbids become U+FFFD.
std::string xml_escape(std::string_view text);

struct Expectation {
    int status = 200;
    std::optional<std::string> reason;
};

// Whether `exchange` meets `expect`, and if not a sentence saying expected vs got.
std::optional<std::string> expectation_problem(const client::Exchange& exchange, const Expectation& expect);

// What the probe's user can change about a failure of this kind
// (client::to_string(FailureKind)), in the probe's flags: "give its CA with
// --cacert FILE, or -k to skip verification" for server_untrusted; "" for a
// kind no flag helps. The library's message says what failed, not which flag.
std::string_view failure_hint(std::string_view kind) noexcept;
// A message about a failure of this kind and, after "; ", the kind's hint.
std::string with_hint(std::string_view kind, const std::string& message);

// One exchange. Text: status line, body, TLS version and cipher, the server
// certificate's subject and expiry on stdout; `verbose` adds the handshake
// (CA names asked for, client certificate sent) and timings on `diag`.
void write_exchange_text(std::ostream& out, std::ostream& diag, const client::Exchange& exchange,
                         const client::ClientContext& context, bool verbose, Colour colour);
nlohmann::json exchange_json(const client::Exchange& exchange, const client::ClientRequest& request,
                             const Expectation& expect);

// A load run.
void write_load_text(std::ostream& out, const client::LoadResult& result, const client::LoadOptions& options);
nlohmann::json load_json(const client::LoadResult& result, const client::LoadOptions& options);
// "  3512/10000 requests  1745/s  0 errors  2.0 s" (no newline); `rate` is
// the current rate (since the previous line).
std::string progress_line(const client::LoadProgress& progress, std::optional<std::uint64_t> total, double rate);

// "850 µs", "3.94 ms", "1.20 s"
std::string format_micros(double micros);

} // namespace certauth::cli
