#include "cli/probe_report.hpp"

#include "support/process.hpp"

#include "support/catch.hpp"

#include <certauth/client/url.hpp>

#include <sstream>

using namespace certauth;
using namespace certauth::cli;

namespace {

client::ScenarioRun sample_run() {
    client::ScenarioRun run;
    run.file = "fixtures/scenarios.json";
    run.time = std::chrono::microseconds(123456);
    run.started = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
    client::CaseResult pass;
    pass.name = "joe";
    pass.method = "GET";
    pass.url = "https://localhost:3443/";
    pass.outcome = client::CaseOutcome::passed;
    pass.expected = R"(200 {"cn":"joe"})";
    pass.got = R"(200 {"cn":"joe"})";
    pass.status = 200;
    pass.time = std::chrono::microseconds(2500);
    client::CaseResult fail = pass;
    fail.name = "bob <\"&'> ünïcode";
    fail.outcome = client::CaseOutcome::failed;
    fail.expected = "200";
    fail.got = "401 unknown_user";
    fail.status = 401;
    fail.reason = "unknown_user";
    fail.message = "expected status 200, got 401 (unknown_user) \x01 \xff";
    client::CaseResult error = pass;
    error.name = "down";
    error.outcome = client::CaseOutcome::error;
    error.got = "connection_refused";
    error.status = 0;
    error.message = "connection refused: nothing listens on 127.0.0.1:1";
    run.results = {pass, fail, error};
    return run;
}

// A run against a server that requires a certificate: one refusal at the
// handshake, one answer, both with what happened at the TLS level.
client::ScenarioRun tls_run() {
    client::ScenarioRun run = sample_run();
    client::CaseResult refused = run.results[0];
    refused.name = "expired";
    refused.expected = "refused at handshake";
    refused.got = "refused at handshake (certificate_expired)";
    refused.status = 0;
    refused.refused = true;
    refused.tls.handshake_done = true;
    refused.tls.version = "TLSv1.3";
    refused.tls.certificate_requested = true;
    refused.tls.requested_cas = {"CN=certauth test CA, O=certauth", "CN=other CA"};
    refused.tls.certificate_sent = true;
    refused.tls.alert = "certificate_expired";
    client::CaseResult answered = run.results[0];
    answered.name = "bob";
    answered.body = "<html>401</html>";
    answered.tls = refused.tls;
    answered.tls.alert.clear();
    client::CaseResult plain = run.results[0];
    plain.name = "no request";
    plain.tls.handshake_done = true;
    plain.tls.version = "TLSv1.2";
    run.results = {refused, answered, plain};
    return run;
}

std::string xpath(const std::string& xml, const std::string& expression) {
    test::RunOptions options;
    options.input = xml;
    auto r = test::run({"xmllint", "--xpath", expression, "-"}, options);
    while (!r.out.empty() && r.out.back() == '\n')
        r.out.pop_back();
    return r.out;
}

} // namespace

TEST_CASE("JUnit report is well-formed XML with matching counts - escaped names and failure messages", "[cli]") {
    std::ostringstream out;
    write_junit_report(out, sample_run());
    const std::string xml = out.str();
    test::RunOptions options;
    options.input = xml;
    auto lint = test::run({"xmllint", "--noout", "-"}, options);
    INFO(xml << lint.err);
    REQUIRE(lint.exit_code == 0);
    CHECK(xpath(xml, "string(/testsuites/@tests)") == "3");
    CHECK(xpath(xml, "string(/testsuites/testsuite/@tests)") == "3");
    CHECK(xpath(xml, "string(/testsuites/testsuite/@failures)") == "1");
    CHECK(xpath(xml, "string(/testsuites/testsuite/@errors)") == "1");
    CHECK(xpath(xml, "string(/testsuites/testsuite/@time)") == "0.123");
    CHECK(xpath(xml, "string(/testsuites/testsuite/@name)") == "scenarios.json");
    CHECK(xpath(xml, "count(//testcase)") == "3");
    CHECK(xpath(xml, "count(//testcase/failure)") == "1");
    CHECK(xpath(xml, "count(//testcase/error)") == "1");
    CHECK(xpath(xml, "string(//testcase[2]/@name)") == "bob <\"&'> ünïcode");
    CHECK(xpath(xml, "string(//testcase[1]/@classname)") == "certauth.probe.scenarios");
    CHECK(xpath(xml, "string(//testcase[1]/@time)") == "0.003");
    CHECK_THAT(xpath(xml, "string(//failure/@message)"), Catch::Matchers::StartsWith("expected status 200, got 401"));
    CHECK_THAT(xpath(xml, "string(//failure)"),
               Catch::Matchers::ContainsSubstring("expected: 200") && Catch::Matchers::ContainsSubstring("got: 401"));
    CHECK(xpath(xml, "string(//error/@type)") == "connection_refused");
}

TEST_CASE("xml_escape escapes markup and replaces what XML 1.0 cannot hold", "[cli]") {
    CHECK(xml_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&apos;");
    CHECK(xml_escape("line\nnext\ttab") == "line&#10;next&#9;tab");
    CHECK(xml_escape("ü€😀") == "ü€😀");
    CHECK(xml_escape("\x01") == "\xEF\xBF\xBD");
    CHECK(xml_escape("\xff") == "\xEF\xBF\xBD");
    CHECK(xml_escape("\xC3") == "\xEF\xBF\xBD");                                 // truncated sequence
    CHECK(xml_escape("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                 // overlong
    CHECK(xml_escape("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); // surrogate
}

TEST_CASE("JSON report has the counts and one object per case", "[cli]") {
    const nlohmann::json report = json_report(sample_run());
    CHECK(report["tests"] == 3);
    CHECK(report["passed"] == 1);
    CHECK(report["failures"] == 1);
    CHECK(report["errors"] == 1);
    CHECK(report["file"] == "fixtures/scenarios.json");
    REQUIRE(report["cases"].size() == 3);
    CHECK(report["cases"][0]["verdict"] == "passed");
    CHECK(report["cases"][0]["message"].is_null());
    CHECK(report["cases"][1]["verdict"] == "failed");
    CHECK(report["cases"][1]["status"] == 401);
    CHECK(report["cases"][1]["reason"] == "unknown_user");
    CHECK(report["cases"][2]["status"].is_null());
    CHECK(report["cases"][2]["got"] == "connection_refused");
    CHECK(report["time"].get<double>() == Catch::Approx(0.123456));
}

TEST_CASE("text report: one row per case with ✔/✘ - a reason under failures - a summary", "[cli]") {
    std::ostringstream out;
    write_text_report(out, sample_run(), Colour::off);
    const std::string text = out.str();
    CHECK_THAT(text, Catch::Matchers::ContainsSubstring("✔ joe"));
    CHECK_THAT(text, Catch::Matchers::ContainsSubstring("✘ bob"));
    CHECK_THAT(text, Catch::Matchers::ContainsSubstring("! down"));
    CHECK_THAT(text, Catch::Matchers::ContainsSubstring("    expected status 200, got 401"));
    CHECK_THAT(text, Catch::Matchers::ContainsSubstring("3 cases: 1 passed, 1 failed, 1 error in 0.12 s"));
    CHECK(text.find("\033[") == std::string::npos);

    client::ScenarioRun one = sample_run();
    one.results.resize(1);
    std::ostringstream single;
    write_text_report(single, one, Colour::off);
    CHECK_THAT(single.str(), Catch::Matchers::ContainsSubstring("\n1 case: 1 passed, 0 failed, 0 errors"));
}

TEST_CASE("format_micros picks a readable unit", "[cli]") {
    CHECK(format_micros(850) == "850 µs");
    CHECK(format_micros(3940) == "3.94 ms");
    CHECK(format_micros(123400) == "123.4 ms");
    CHECK(format_micros(1.2e6) == "1.20 s");
}

TEST_CASE("reports say per case what happened at the TLS level - version, certificate request, CA names, alert",
          "[cli]") {
    std::ostringstream text;
    write_text_report(text, tls_run(), Colour::off);
    const std::string table = text.str();
    INFO(table);
    CHECK_THAT(table, Catch::Contains("refused at handshake (certificate_expired)"));
    CHECK_THAT(table, Catch::Contains("\n    TLSv1.3, client certificate requested (CAs [1]) and sent, alert "
                                      "certificate_expired\n"));
    CHECK_THAT(table, Catch::Contains("\n    TLSv1.3, client certificate requested (CAs [1]) and sent\n"));
    CHECK_THAT(table, Catch::Contains("\n    TLSv1.2, no client certificate requested\n"));
    // The CA names once, as a footnote, before the summary line.
    CHECK_THAT(table, Catch::Contains("\n[1] CA names the server sent: CN=certauth test CA, O=certauth; CN=other CA\n"
                                      "3 cases: "));

    const nlohmann::json report = json_report(tls_run());
    const nlohmann::json& expired = report["cases"][0];
    CHECK(expired["refused"] == "handshake");
    CHECK(expired["status"].is_null());
    CHECK(expired["body"].is_null());
    CHECK(expired["tls"]["version"] == "TLSv1.3");
    CHECK(expired["tls"]["certificate_requested"] == true);
    CHECK(expired["tls"]["requested_cas"] == nlohmann::json::array({"CN=certauth test CA, O=certauth", "CN=other CA"}));
    CHECK(expired["tls"]["certificate_sent"] == true);
    CHECK(expired["tls"]["alert"] == "certificate_expired");
    CHECK(report["cases"][1]["refused"].is_null());
    CHECK(report["cases"][1]["tls"]["alert"].is_null());
    CHECK(report["cases"][1]["body"] == "<html>401</html>");

    std::ostringstream junit;
    write_junit_report(junit, tls_run());
    const std::string xml = junit.str();
    INFO(xml);
    CHECK(xpath(xml, "count(//testcase/system-out)") == "3");
    CHECK(xpath(xml, "string(//testcase[1]/system-out)") ==
          "TLS: TLSv1.3, client certificate requested (CAs: CN=certauth test CA, O=certauth; CN=other CA) and sent, "
          "alert certificate_expired");
    CHECK(xpath(xml, "string(//testcase[3]/system-out)") == "TLS: TLSv1.2, no client certificate requested");
}

TEST_CASE("the load report adds the flags that help to the first message of a kind that they help", "[cli]") {
    client::LoadResult result;
    result.errors["server_untrusted"] = client::ErrorCount{3, "server certificate not trusted: x"};
    result.errors["timed_out"] = client::ErrorCount{1, "timed out after 1 s"};
    client::LoadOptions options;
    options.request.url = *client::parse_url("https://localhost:3443/");
    std::ostringstream out;
    write_load_text(out, result, options);
    CHECK_THAT(out.str(), Catch::Matchers::ContainsSubstring(
                              "  server_untrusted: 3 (first: server certificate not trusted: x; give its CA with "
                              "--cacert FILE, or -k to skip verification)\n"));
    CHECK_THAT(out.str(), Catch::Matchers::ContainsSubstring("  timed_out: 1 (first: timed out after 1 s)\n"));
    CHECK(with_hint("connection_refused", "connection refused") == "connection refused");
}
