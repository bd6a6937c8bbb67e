#include "cli/probe_report.hpp"

#include "support/process.hpp"

#include "support/catch.hpp"

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
