#include <certauth/client/scenario.hpp>

#include "support/catch.hpp"

#include <filesystem>

using namespace certauth::client;
namespace fs = std::filesystem;

namespace {

std::string scenario_parse_error(const std::string& text) {
    auto r = parse_scenarios(text, "dir/s.json");
    if (r) return "(parsed)";
    return r.error().message;
}

Exchange response(int status, std::string body) {
    Exchange e;
    ClientResponse r;
    r.status = status;
    r.body = std::move(body);
    e.response = r;
    e.total_time = std::chrono::microseconds(1500);
    return e;
}

} // namespace

TEST_CASE("fixtures/scenarios.json parses: every case with its expectation - paths relative to the file", "[client]") {
    auto file = load_scenarios("fixtures/scenarios.json");
    REQUIRE(file);
    REQUIRE(file->cases.size() >= 12);
    const fs::path dir = fs::path("fixtures");
    const ScenarioCase& joe = file->cases.front();
    CHECK(joe.name == "joe");
    CHECK(joe.url == "https://localhost:3443");
    CHECK(joe.cert == dir / "joe.crt");
    CHECK(joe.key == dir / "joe.key");
    CHECK(joe.cacert == dir / "ca.crt");
    CHECK(joe.status == 200);
    REQUIRE(joe.user);
    CHECK((*joe.user)["cn"] == "joe");
    bool none_seen = false, head_seen = false;
    for (const ScenarioCase& c : file->cases) {
        if (c.name == "no certificate") {
            none_seen = true;
            CHECK(c.cert.empty());
            CHECK(c.reason == std::optional<std::string>("no_certificate"));
        }
        if (c.method == HttpMethod::head) head_seen = true;
    }
    CHECK(none_seen);
    CHECK(head_seen);
}

TEST_CASE("scenario defaults apply to cases - which override them", "[client]") {
    auto file = parse_scenarios(R"({"defaults": {"url": "https://h:1", "cacert": "ca.crt", "timeout": 2.5,
                                     "headers": {"X-A": "1", "X-B": "2"}, "status": 401},
                                     "cases": [{"name": "a"},
                                               {"name": "b", "status": 200, "cacert": "/abs/other.crt", "path": "/x",
                                                "headers": {"x-b": "3"}, "insecure": true, "method": "head"}]})",
                                "dir/s.json");
    REQUIRE(file);
    REQUIRE(file->cases.size() == 2);
    const ScenarioCase& a = file->cases[0];
    CHECK(a.status == 401);
    CHECK(a.cacert == fs::path("dir/ca.crt"));
    CHECK(a.timeout == std::chrono::milliseconds(2500));
    CHECK(a.headers.size() == 2);
    CHECK_FALSE(a.path);
    const ScenarioCase& b = file->cases[1];
    CHECK(b.status == 200);
    CHECK(b.cacert == fs::path("/abs/other.crt"));
    CHECK(b.insecure);
    CHECK(b.method == HttpMethod::head);
    REQUIRE(b.headers.size() == 2);
    CHECK(b.headers[1].name == "x-b");
    CHECK(b.headers[1].value == "3");

    auto url = case_url(b, "");
    REQUIRE(url);
    CHECK(url->to_string() == "https://h:1/x");
    url = case_url(b, "https://localhost:9999/ignored");
    REQUIRE(url);
    CHECK(url->to_string() == "https://localhost:9999/x");
    CHECK(case_url(a, "https://localhost:9999/keep")->target == "/keep");
}

TEST_CASE("scenario file errors name the file - the JSON path and what is wrong", "[client]") {
    CHECK_THAT(scenario_parse_error(R"({"cases": [ {"name": "a", "status": 200,} ]})"),
               Catch::Matchers::StartsWith("dir/s.json:1:"));
    CHECK(scenario_parse_error(R"([])") ==
          "dir/s.json: expected an object with \"defaults\" and \"cases\", got an array");
    CHECK(scenario_parse_error(R"({"defaults": {}})") == "dir/s.json: no \"cases\" array");
    CHECK(scenario_parse_error(R"({"cases": []})") == "dir/s.json: cases: empty (nothing to probe)");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "status": 200, "status": 401}]})") ==
          "dir/s.json: cases[0]: duplicate key \"status\"");
    CHECK(scenario_parse_error(R"({"cases": [], "extra": 1})") ==
          "dir/s.json: extra: unknown key (expected \"defaults\" and \"cases\")");
    CHECK(scenario_parse_error(R"({"cases": [{"status": 200}]})") == "dir/s.json: cases[0]: no \"name\"");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "status": "200"}]})") ==
          "dir/s.json: cases[0].status: expected an integer HTTP status (100-599), got a string \"200\"");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "status": 200}, {"name": "a", "status": 401}]})") ==
          "dir/s.json: cases[1] (\"a\"): duplicate name");
    CHECK_THAT(scenario_parse_error(R"({"cases": [{"name": "a", "status": 200, "color": "red"}]})"),
               Catch::Matchers::StartsWith("dir/s.json: cases[0].color: unknown key"));
    CHECK(scenario_parse_error(R"({"defaults": {"name": "x"}, "cases": [{"name": "a", "status": 200}]})") ==
          "dir/s.json: defaults.name: a name belongs to a case, not to the defaults");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "status": 200, "method": "POST"}]})") ==
          "dir/s.json: cases[0].method: expected \"GET\" or \"HEAD\", got a string \"POST\"");
    CHECK_THAT(scenario_parse_error(R"({"cases": [{"name": "a", "status": 200, "path": "x"}]})"),
               Catch::Matchers::StartsWith("dir/s.json: cases[0].path: expected a path starting with '/'"));
    CHECK_THAT(scenario_parse_error(R"({"defaults": {"url": "http://x"}, "cases": [{"name": "a", "status": 200}]})"),
               Catch::Matchers::StartsWith("dir/s.json: defaults.url: URL 'http://x': only https://"));
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "status": 200, "key": "k.key"}]})") ==
          "dir/s.json: cases[0] (\"a\"): \"key\" without \"cert\"");
    CHECK_THAT(scenario_parse_error(R"({"cases": [{"name": "a", "status": 200, "method": "HEAD", "reason": "x"}]})"),
               Catch::Matchers::ContainsSubstring("a HEAD response has no body"));
    CHECK_THAT(scenario_parse_error(R"({"cases": [{"name": "a", "status": 401, "user": {"cn": "joe"}}]})"),
               Catch::Matchers::ContainsSubstring("\"user\" is checked on a 200 response only"));
    CHECK_THAT(scenario_parse_error(R"({"cases": [{"name": "a", "status": 200, "headers": {"X": 1}}]})"),
               Catch::Matchers::StartsWith("dir/s.json: cases[0].headers.X: expected a string"));
    CHECK_THAT(scenario_parse_error(R"({"cases": [{"name": "a", "status": 200, "timeout": 0}]})"),
               Catch::Matchers::StartsWith("dir/s.json: cases[0].timeout: expected a number of seconds > 0"));
    auto missing = load_scenarios("fixtures/no-such-scenarios.json");
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error().message, Catch::Matchers::ContainsSubstring("no-such-scenarios.json"));
}

// Found by fuzzing the user list, which shares the JSON reader: a number
// beyond a double and nesting deep enough to overflow the stack crashed
// probe --scenarios; both are errors with a position.
TEST_CASE("scenario files with 1e400 or nesting deeper than 64 levels are errors - not crashes", "[client]") {
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "status": 1e400}]})") ==
          "dir/s.json:1:40: number overflow parsing '1e400'");
    const std::string deep = R"({"cases": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
    CHECK(scenario_parse_error(deep) == "dir/s.json:1:74: arrays and objects nested deeper than 64 levels");
}

TEST_CASE("evaluate judges status - reason and user fields - and says expected vs got", "[client]") {
    ScenarioCase c;
    c.name = "joe";
    c.status = 200;
    c.user = nlohmann::json{{"cn", "joe"}, {"name", "Joe Example"}};

    CaseResult r = judge(c, response(200, R"({"cn":"joe","name":"Joe Example","roles":["admin"]})"));
    CHECK(r.outcome == CaseOutcome::passed);
    CHECK(r.message.empty());
    CHECK(r.expected == R"(200 {"cn":"joe","name":"Joe Example"})");
    CHECK(r.got == R"(200 {"cn":"joe","name":"Joe Example"})");
    CHECK(r.time == std::chrono::microseconds(1500));

    r = judge(c, response(200, R"({"cn":"joe","name":"Joe"})"));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK(r.message == R"(user.name: expected "Joe Example", got "Joe")");

    r = judge(c, response(401, R"({"error":"unauthorized","reason":"unknown_user","detail":"..."})"));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK(r.got == "401 unknown_user");
    CHECK(r.message == "expected status 200, got 401 (unknown_user)");

    ScenarioCase denied;
    denied.name = "bob";
    denied.status = 401;
    denied.reason = "unknown_user";
    CHECK(judge(denied, response(401, R"({"reason":"unknown_user"})")).outcome == CaseOutcome::passed);
    r = judge(denied, response(401, R"({"reason":"expired"})"));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK(r.message == "expected reason unknown_user, got expired");

    // Another server's page: its start, on one line (for the text report's
    // layout), with a UTF-8 sequence cut at byte 80 replaced.
    std::string page = "<!DOCTYPE HTML>\n<html>\n<title>Directory listing</title>\n";
    page += std::string(80 - page.size() - 1, 'x') + "\xC3\xA9 more";
    r = judge(c, response(200, page));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK_THAT(r.message,
               Catch::Matchers::StartsWith(R"(expected a JSON user object, got "<!DOCTYPE HTML>\n<html>\n<title>)"));
    CHECK(r.message.find('\n') == std::string::npos);
    CHECK_THAT(r.message, Catch::Matchers::EndsWith("x\xEF\xBF\xBD\""));

    Exchange refused;
    refused.failure = Failure{FailureKind::connection_refused, "connection refused: nothing listens on 127.0.0.1:1"};
    r = judge(denied, refused);
    CHECK(r.outcome == CaseOutcome::error);
    CHECK(r.got == "connection_refused");
    CHECK_THAT(r.message, Catch::Matchers::ContainsSubstring("connection refused"));
}

namespace {

// An exchange that ended with a fatal alert from the server (as TLS 1.3
// servers that require a certificate send it: after the client's Finished).
Exchange refused_by_alert(const std::string& alert, FailureKind kind = FailureKind::client_certificate_refused) {
    Exchange e;
    e.tls.handshake_done = true;
    e.tls.version = "TLSv1.3";
    e.tls.certificate_requested = true;
    e.tls.requested_cas = {"CN=certauth test CA, O=certauth"};
    e.tls.certificate_sent = true;
    e.tls.alert = alert;
    e.failure =
        Failure{kind, "the server refused the client certificate (CN=expired): sslv3 alert certificate expired"};
    return e;
}

ScenarioCase refused_case(std::optional<std::string> alert = std::nullopt) {
    ScenarioCase c;
    c.name = "expired";
    c.refused = Refusal::handshake;
    c.alert = std::move(alert);
    return c;
}

} // namespace

TEST_CASE("scenario files state a refusal at the handshake - an alert name - an optional reason", "[client]") {
    auto file = parse_scenarios(R"({"defaults": {"url": "https://h:1", "reason_optional": true},
                                     "cases": [{"name": "none", "refused": "handshake"},
                                               {"name": "rogue", "cert": "r.crt", "refused": "handshake",
                                                "alert": "unknown_ca"},
                                               {"name": "bob", "status": 401, "reason": "unknown_user"},
                                               {"name": "strict", "status": 401, "reason": "unknown_user",
                                                "reason_optional": false}]})",
                                "dir/s.json");
    REQUIRE(file);
    REQUIRE(file->cases.size() == 4);
    CHECK(file->cases[0].refused == Refusal::handshake);
    CHECK_FALSE(file->cases[0].alert);
    CHECK(file->cases[0].status == 0);
    CHECK(file->cases[1].alert == std::optional<std::string>("unknown_ca"));
    CHECK(file->cases[2].refused == Refusal::none);
    CHECK(file->cases[2].reason_match == ReasonMatch::if_given);
    CHECK(file->cases[3].reason_match == ReasonMatch::required);

    CHECK(expected_text(file->cases[0]) == "refused at handshake");
    CHECK(expected_text(file->cases[1]) == "refused at handshake (unknown_ca)");
    CHECK(expected_text(file->cases[2]) == "401 unknown_user if given");
    CHECK(expected_text(file->cases[3]) == "401 unknown_user");
}

TEST_CASE("a case's own status or refusal replaces the other from the defaults", "[client]") {
    auto file = parse_scenarios(R"({"defaults": {"refused": "handshake", "alert": "certificate_required"},
                                     "cases": [{"name": "none"}, {"name": "joe", "status": 200}]})",
                                "s.json");
    REQUIRE(file);
    CHECK(file->cases[0].refused == Refusal::handshake);
    CHECK(file->cases[0].alert == std::optional<std::string>("certificate_required"));
    CHECK(file->cases[1].refused == Refusal::none);
    CHECK(file->cases[1].status == 200);
    CHECK_FALSE(file->cases[1].alert);

    file = parse_scenarios(R"({"defaults": {"status": 401, "reason": "no_certificate"},
                               "cases": [{"name": "nginx on", "refused": "handshake"}, {"name": "certauth"}]})",
                           "s.json");
    REQUIRE(file);
    CHECK(file->cases[0].refused == Refusal::handshake);
    CHECK(file->cases[0].status == 0);
    CHECK_FALSE(file->cases[0].reason);
    CHECK(file->cases[1].status == 401);
    CHECK(file->cases[1].reason == std::optional<std::string>("no_certificate"));
}

TEST_CASE("scenario file errors for refusals and optional reasons say what is wrong", "[client]") {
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "status": 401, "refused": "handshake"}]})") ==
          "dir/s.json: cases[0] (\"a\"): \"status\" and \"refused\" exclude each other");
    CHECK(scenario_parse_error(R"({"defaults": {"status": 401, "refused": "handshake"}, "cases": [{"name": "a"}]})") ==
          "dir/s.json: defaults: \"status\" and \"refused\" exclude each other");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "refused": "tcp"}]})") ==
          "dir/s.json: cases[0].refused: expected \"handshake\" (the server refuses at the TLS handshake), got a "
          "string \"tcp\"");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "refused": true}]})") ==
          "dir/s.json: cases[0].refused: expected \"handshake\" (the server refuses at the TLS handshake), got true");
    CHECK(scenario_parse_error(
              R"({"cases": [{"name": "a", "refused": "handshake", "alert": "certificate required"}]})") ==
          "dir/s.json: cases[0].alert: expected a TLS alert name such as \"certificate_required\", "
          "\"bad_certificate\" or \"unknown_ca\", got a string \"certificate required\"");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "status": 401, "alert": "unknown_ca"}]})") ==
          "dir/s.json: cases[0] (\"a\"): \"alert\" is checked on a refusal only (\"refused\": \"handshake\")");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "refused": "handshake", "reason": "expired"}]})") ==
          "dir/s.json: cases[0] (\"a\"): a case refused at the handshake gets no response: \"reason\" and \"user\" "
          "cannot be checked");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "refused": "handshake", "user": {"cn": "joe"}}]})") ==
          "dir/s.json: cases[0] (\"a\"): a case refused at the handshake gets no response: \"reason\" and \"user\" "
          "cannot be checked");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a", "status": 401, "reason_optional": "yes"}]})") ==
          "dir/s.json: cases[0].reason_optional: expected true or false, got a string \"yes\"");
    CHECK(scenario_parse_error(R"({"cases": [{"name": "a"}]})") ==
          "dir/s.json: cases[0] (\"a\"): no \"status\" (the expected HTTP status) or \"refused\": \"handshake\"");
}

TEST_CASE("judge: a refusal at the handshake passes with its alert named - any alert unless one is stated",
          "[client]") {
    CaseResult r = judge(refused_case(), refused_by_alert("certificate_expired"));
    CHECK(r.outcome == CaseOutcome::passed);
    CHECK(r.refused);
    CHECK(r.expected == "refused at handshake");
    CHECK(r.got == "refused at handshake (certificate_expired)");
    CHECK(r.message.empty());
    CHECK(r.status == 0);
    // What happened at the TLS level travels with the result, for the reports.
    CHECK(r.tls.version == "TLSv1.3");
    CHECK(r.tls.certificate_requested);
    CHECK(r.tls.requested_cas == std::vector<std::string>{"CN=certauth test CA, O=certauth"});
    CHECK(r.tls.alert == "certificate_expired");

    // No certificate, TLS 1.3: certificate_required arrives on the first read.
    CHECK(judge(refused_case(), refused_by_alert("certificate_required", FailureKind::client_certificate_required))
              .outcome == CaseOutcome::passed);

    CHECK(judge(refused_case("certificate_expired"), refused_by_alert("certificate_expired")).outcome ==
          CaseOutcome::passed);
    r = judge(refused_case("unknown_ca"), refused_by_alert("bad_certificate"));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK(r.message == "expected alert unknown_ca, got bad_certificate");
}

TEST_CASE("judge: a response where a refusal was expected fails - an alert where a status was expected fails",
          "[client]") {
    CaseResult r = judge(refused_case(), response(401, R"({"error":"unauthorized","reason":"expired"})"));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK_FALSE(r.refused);
    CHECK(r.got == "401 expired");
    CHECK(r.message == "expected a refusal at the TLS handshake, got 401 (expired)");

    ScenarioCase denied;
    denied.name = "expired";
    denied.status = 401;
    denied.reason = "expired";
    r = judge(denied, refused_by_alert("certificate_expired"));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK(r.refused);
    CHECK(r.got == "refused at handshake (certificate_expired)");
    CHECK_THAT(r.message, Catch::StartsWith("expected 401 expired, the server refused at the handshake: the server "
                                            "refused the client certificate"));
}

TEST_CASE("judge: an exchange that ends without a response and without an alert is an error - also for a refusal",
          "[client]") {
    Exchange closed;
    closed.tls.version = "TLSv1.3";
    closed.failure =
        Failure{FailureKind::connection_closed, "the server closed the connection during the TLS handshake"};
    CaseResult r = judge(refused_case(), closed);
    CHECK(r.outcome == CaseOutcome::error);
    CHECK_FALSE(r.refused);
    CHECK(r.got == "connection_closed");
    CHECK(r.message == "the server closed the connection during the TLS handshake (and no TLS alert from the server)");

    Exchange untrusted;
    untrusted.failure = Failure{FailureKind::server_untrusted, "server certificate not trusted: ..."};
    CHECK(judge(refused_case(), untrusted).outcome == CaseOutcome::error);
    // The advice speaks of the case's keys, not of the command line's flags.
    ScenarioCase joe;
    joe.name = "joe";
    CHECK(judge(joe, untrusted).message == "server certificate not trusted: ...; give the server's CA in \"cacert\", "
                                           "or \"insecure\": true to skip verification");
    Exchange mismatch;
    mismatch.failure = Failure{FailureKind::hostname_mismatch, "hostname mismatch: ..."};
    CHECK(judge(joe, mismatch).message == "hostname mismatch: ...; use the name it was issued for in the URL");
    // A case that expects a refusal: what happened comes first, the advice last.
    CHECK(judge(refused_case(), untrusted).message ==
          "server certificate not trusted: ... (and no TLS alert from the server); give the server's CA in "
          "\"cacert\", or \"insecure\": true to skip verification");
}

TEST_CASE("judge: reason_optional passes a body without a reason on its status - a different reason still fails",
          "[client]") {
    ScenarioCase bob;
    bob.name = "bob";
    bob.status = 401;
    bob.reason = "unknown_user";
    bob.reason_match = ReasonMatch::if_given;
    CaseResult r = judge(bob, response(401, "Unauthorized"));
    CHECK(r.outcome == CaseOutcome::passed);
    CHECK(r.got == "401");
    CHECK(r.body == "Unauthorized");
    CHECK(judge(bob, response(401, R"({"reason":"unknown_user"})")).outcome == CaseOutcome::passed);
    r = judge(bob, response(401, R"({"reason":"expired"})"));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK(r.message == "expected reason unknown_user, got expired");
    r = judge(bob, response(200, "ok"));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK(r.message == "expected status 401, got 200");

    bob.reason_match = ReasonMatch::required;
    r = judge(bob, response(401, "Unauthorized"));
    CHECK(r.outcome == CaseOutcome::failed);
    CHECK(r.message == "expected reason unknown_user, got none");

    // The start of the body, for reports (a server's own error page).
    const std::string page = "<html><head><title>400 The SSL certificate error</title></head>" + std::string(1000, 'x');
    r = judge(bob, response(400, page));
    CHECK(r.body.size() == k_result_body_limit);
    CHECK_THAT(r.body, Catch::StartsWith("<html><head><title>400 The SSL certificate error</title>"));
}

TEST_CASE("a case that cannot be set up is an error naming the case's key, not a flag", "[client]") {
    ScenarioFile file;
    file.file = "dir/s.json";
    ScenarioCase missing_ca;
    missing_ca.name = "missing CA";
    missing_ca.url = "https://localhost:1/";
    missing_ca.cacert = "/nonexistent/ca.crt";
    ScenarioCase no_url;
    no_url.name = "no URL";
    file.cases = {missing_ca, no_url};

    const ScenarioRun run = run_scenarios(file, "");
    REQUIRE(run.results.size() == 2);
    CHECK(run.results[0].outcome == CaseOutcome::error);
    CHECK(run.results[0].got == "setup");
    CHECK_THAT(run.results[0].message, Catch::Matchers::StartsWith("\"cacert\": /nonexistent/ca.crt: "));
    CHECK(run.results[1].outcome == CaseOutcome::error);
    CHECK(run.results[1].message ==
          "case \"no URL\": no URL: give \"url\" in the case or in the defaults, or one URL for every case");
    CHECK(run.results[1].setting == "url"); // the CLI names its --url
    CHECK(run.results[0].setting.empty());  // "cacert" is the case's own key
}
