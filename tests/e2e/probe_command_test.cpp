// certauth probe as a user runs it: exit codes and messages, against servers
// that are not certauth (openssl s_server, a Python HTTPS server) and against
// nothing at all. The tests against certauth serve are in tests/e2e/probe_*.sh.
#include "client/client_servers.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

#include "support/catch.hpp"
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <openssl/x509_vfy.h>

using namespace certauth::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

ProcessResult probe(std::vector<std::string> args) {
    args.insert(args.begin(), {certauth_binary(), "probe"});
    RunOptions options;
    options.cwd = source_dir();
    options.timeout = 60s;
    return run(args, options);
}

} // namespace

TEST_CASE("probe: usage errors exit 2", "[e2e][cli]") {
    auto r = probe({});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("needs a URL or --scenarios"));
    r = probe({"https://localhost:1/", "--scenarios", "fixtures/scenarios.json"});
    CHECK(r.exit_code == 2);
    r = probe({"https://localhost:1/", "--requests", "5"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("--requests needs --load"));
    r = probe({"https://localhost:1/", "--load", "--resume"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("--resume needs --new-connections"));
    r = probe({"https://localhost:1/", "--load", "--requests", "5", "--duration", "1"});
    CHECK(r.exit_code == 2);
    r = probe({"https://localhost:1/", "-X", "POST"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("GET or HEAD"));
    r = probe({"http://localhost:1/"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("only https://"));
    r = probe({"--scenarios", "fixtures/scenarios.json", "--cert", "fixtures/joe.crt"});
    CHECK(r.exit_code == 2);
    // CLI11 alone would read -1 as the largest unsigned number.
    r = probe({"https://localhost:1/", "--load", "--requests", "-1"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring(
                          "--requests: expected a whole number from 1 to 1000000000000, got -1"));
    r = probe({"https://localhost:1/", "--expect", "99"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("--expect: expected a whole number from 100 to 599, got 99"));
    r = probe({"--scenarios", "fixtures/scenarios.json", "--output", "/nonexistent/dir/report.xml"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring(
                          "cannot write the report to /nonexistent/dir/report.xml: No such file or directory"));
    r = probe({"--help"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out,
               Catch::Matchers::ContainsSubstring("--scenarios") && Catch::Matchers::ContainsSubstring("Exit codes"));
}

TEST_CASE("probe: connection errors exit 2 and say which", "[e2e][cli]") {
    auto r = probe({"https://127.0.0.1:" + std::to_string(free_port()) + "/", "--cacert", "fixtures/ca.crt"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::StartsWith("certauth: error: connection refused"));

    r = probe({"https://nonexistent.invalid/", "--cacert", "fixtures/ca.crt"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("name not resolved") &&
                          Catch::Matchers::ContainsSubstring("nonexistent.invalid"));

    SilentListener listener;
    r = probe({"https://127.0.0.1:" + std::to_string(listener.port()) + "/", "--cacert", "fixtures/ca.crt", "--timeout",
               "0.5"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("timed out after 0.5 s"));
}

TEST_CASE("probe: a key not matching the certificate exits 2 before connecting", "[e2e][cli]") {
    SilentListener listener;
    auto r = probe({"https://127.0.0.1:" + std::to_string(listener.port()) + "/", "--cacert", "fixtures/ca.crt",
                    "--cert", "fixtures/joe.crt", "--key", "fixtures/bob.key", "--timeout", "1"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err,
               Catch::Matchers::StartsWith("certauth: error: --key: client key fixtures/bob.key does not match the "
                                           "certificate in fixtures/joe.crt"));
    CHECK_FALSE(listener.has_pending_connection());
}

TEST_CASE("probe: an unusable file names the flag that gave it", "[e2e][cli]") {
    SilentListener listener;
    const std::string url = "https://127.0.0.1:" + std::to_string(listener.port()) + "/";
    auto r = probe({url, "--cacert", "/nonexistent/ca.crt"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::StartsWith("certauth: error: --cacert: /nonexistent/ca.crt: "));
    r = probe({url, "--cacert", "fixtures/ca.crt", "--key", "fixtures/joe.key"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "certauth: error: --cert: no client certificate given for the key fixtures/joe.key\n");
    r = probe({url, "--cacert", "fixtures/ca.crt", "--cert", "fixtures/joe.crt"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "certauth: error: --key: no key file given, and fixtures/joe.crt holds no private key\n");
    r = probe({url, "--cacert", "fixtures/ca.crt", "--cert", "fixtures/joe.crt", "--key", "/nonexistent/joe.key",
               "--load", "--requests", "1"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::StartsWith("certauth: error: --key: /nonexistent/joe.key: "));
    r = probe({url, "--resolve", "localhost:1:somewhere"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "certauth: error: --resolve: 'localhost:1:somewhere': 'somewhere' is not a numeric IP address\n");
    CHECK_FALSE(listener.has_pending_connection());
}

TEST_CASE("probe: against openssl s_server TLS errors exit 2 naming the cause and -k proceeds", "[e2e][cli]") {
    auto server = start_s_server({"-verify", "1", "-CAfile", source_path("fixtures/ca.crt")});
    auto r = probe({server.url()});
    CHECK(r.exit_code == 2);
    // s_server with -CAfile sends the root along: a self-signed certificate in
    // the chain, in the running OpenSSL's words.
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("server certificate not trusted") &&
                          Catch::Matchers::ContainsSubstring(
                              X509_verify_cert_error_string(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)));
    // The library says what failed; the CLI adds the flags that help.
    CHECK_THAT(r.err, Catch::Matchers::EndsWith("; give its CA with --cacert FILE, or -k to skip verification\n"));
    // A load run: the text summary advises, the error line does not again;
    // with --json, whose report has no advice, the error line does.
    r = probe({server.url(), "--load", "--requests", "2", "--concurrency", "1"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out,
               Catch::Matchers::ContainsSubstring("; give its CA with --cacert FILE, or -k to skip verification)\n"));
    CHECK_THAT(r.err, Catch::Matchers::StartsWith("certauth: error: no response: server certificate not trusted") &&
                          !Catch::Matchers::ContainsSubstring("--cacert"));
    r = probe({server.url(), "--load", "--requests", "2", "--concurrency", "1", "--json"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::EndsWith("; give its CA with --cacert FILE, or -k to skip verification\n"));

    r = probe({server.url(), "-k"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("HTTP/1.0 200 ok") &&
                          Catch::Matchers::ContainsSubstring("TLS: TLSv1.3"));
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("server certificate: CN=localhost") &&
                          Catch::Matchers::ContainsSubstring("NOT verified"));

    r = probe({server.url(), "--cacert", "fixtures/ca.crt", "--cert", "fixtures/joe.pem", "-v"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring(
                          "the server asked for a client certificate; acceptable CAs: CN=certauth test CA"));
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("client certificate sent: CN=joe"));

    const std::string port = std::to_string(server.port);
    r = probe({"https://wrong.example:" + port + "/", "--cacert", "fixtures/ca.crt", "--resolve",
               "wrong.example:" + port + ":127.0.0.1"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("hostname mismatch") &&
                          Catch::Matchers::EndsWith("is not valid for 'wrong.example'; use the name it was issued "
                                                    "for, or give that name with --servername or --resolve\n"));
}

TEST_CASE("probe: a refused client certificate is named from the alert", "[e2e][cli]") {
    auto server = start_s_server({"-Verify", "1", "-CAfile", source_path("fixtures/ca.crt")});
    auto r = probe({server.url(), "--cacert", "fixtures/ca.crt"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("requires a client certificate") &&
                          Catch::Matchers::ContainsSubstring("tlsv13 alert certificate required") &&
                          Catch::Matchers::EndsWith("; give one with --cert and --key\n"));
}

namespace {

// A scenario file against openssl s_server -Verify 1 (a certificate required
// at the handshake); paths absolute.
std::string refusal_scenarios(const TempDir& dir, const std::string& url) {
    const std::string fx = source_path("fixtures");
    return dir.write("refusals.json", R"({"defaults": {"url": ")" + url + R"(", "cacert": ")" + fx + R"(/ca.crt"},
      "cases": [{"name": "joe", "cert": ")" +
                                          fx + R"(/joe.pem", "status": 200},
                {"name": "no certificate", "refused": "handshake"},
                {"name": "no certificate, named", "refused": "handshake", "alert": "certificate_required"},
                {"name": "rogue", "cert": ")" +
                                          fx + R"(/rogue.pem", "refused": "handshake"},
                {"name": "no certificate, wrong alert", "refused": "handshake", "alert": "unknown_ca"},
                {"name": "no certificate, status", "status": 401},
                {"name": "joe, refusal", "cert": ")" +
                                          fx + R"(/joe.pem", "refused": "handshake"}]})");
}

} // namespace

TEST_CASE("probe --scenarios: refusals at the handshake by openssl s_server -Verify 1 - TLS 1.3 and 1.2",
          "[e2e][cli]") {
    TempDir dir;
    SECTION("TLS 1.3: the alert arrives after the client's Finished") {
        auto server =
            start_s_server({"-Verify", "1", "-CAfile", source_path("fixtures/ca.crt"), "-verify_return_error"});
        auto r = probe({"--scenarios", refusal_scenarios(dir, server.url()), "--report", "json"});
        INFO(r.out << r.err);
        CHECK(r.exit_code == 1);
        auto report = nlohmann::json::parse(r.out);
        REQUIRE(report["cases"].size() == 7);
        std::map<std::string, nlohmann::json> cases;
        for (const auto& c : report["cases"])
            cases[c["name"].get<std::string>()] = c;
        CHECK(cases["joe"]["verdict"] == "passed");
        CHECK(cases["joe"]["refused"].is_null());
        CHECK(cases["joe"]["tls"]["version"] == "TLSv1.3");
        CHECK(cases["joe"]["tls"]["certificate_requested"] == true);
        CHECK(cases["joe"]["tls"]["certificate_sent"] == true);
        CHECK(cases["joe"]["tls"]["requested_cas"] == nlohmann::json::array({"CN=certauth test CA, O=certauth"}));

        const nlohmann::json& none = cases["no certificate"];
        CHECK(none["verdict"] == "passed");
        CHECK(none["refused"] == "handshake");
        CHECK(none["got"] == "refused at handshake (certificate_required)");
        CHECK(none["tls"]["alert"] == "certificate_required");
        CHECK(none["tls"]["certificate_requested"] == true);
        CHECK(none["tls"]["certificate_sent"] == false);
        CHECK(cases["no certificate, named"]["verdict"] == "passed");
        CHECK(cases["rogue"]["verdict"] == "passed");
        CHECK(cases["rogue"]["tls"]["alert"] == "unknown_ca");

        CHECK(cases["no certificate, wrong alert"]["verdict"] == "failed");
        CHECK(cases["no certificate, wrong alert"]["message"] == "expected alert unknown_ca, got certificate_required");
        CHECK(cases["no certificate, status"]["verdict"] == "failed");
        CHECK_THAT(cases["no certificate, status"]["message"].get<std::string>(),
                   Catch::StartsWith("expected 401, the server refused at the handshake: the server requires a "
                                     "client certificate") &&
                       Catch::EndsWith("; give the case a \"cert\", or expect \"refused\": \"handshake\""));
        CHECK(cases["joe, refusal"]["verdict"] == "failed");
        CHECK_THAT(cases["joe, refusal"]["message"].get<std::string>(),
                   Catch::StartsWith("expected a refusal at the TLS handshake, got 200"));
        CHECK(report["passed"] == 4);
        CHECK(report["failures"] == 3);
        CHECK(report["errors"] == 0);
    }
    SECTION("TLS 1.2: the handshake itself fails") {
        auto server = start_s_server(
            {"-Verify", "1", "-CAfile", source_path("fixtures/ca.crt"), "-verify_return_error", "-tls1_2"});
        auto r = probe({"--scenarios", refusal_scenarios(dir, server.url())});
        INFO(r.out << r.err);
        CHECK(r.exit_code == 1);
        // TLS 1.2 has no certificate_required: the named alert is not the one sent.
        CHECK_THAT(r.out, Catch::Contains("7 cases: 3 passed, 4 failed, 0 errors"));
        CHECK_THAT(r.out, Catch::Contains("expected alert certificate_required, got handshake_failure"));
        CHECK_THAT(r.out, Catch::Contains("refused at handshake (handshake_failure)"));
        CHECK_THAT(r.out, Catch::Contains("TLSv1.2, client certificate requested (CAs [1]), none sent, alert "
                                          "handshake_failure"));
        CHECK_THAT(r.out, Catch::Contains("[1] CA names the server sent: CN=certauth test CA, O=certauth"));
        CHECK_THAT(r.out, Catch::Contains("expected alert unknown_ca, got handshake_failure"));
    }
}

TEST_CASE("probe: expectations and JSON and a scenario file against a Python HTTPS server", "[e2e][cli]") {
    auto server = start_python_server();
    auto r =
        probe({server.url(), "--cacert", "fixtures/ca.crt", "--cert", "fixtures/joe.crt", "--key", "fixtures/joe.key"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("HTTP/1.1 200 OK") &&
                          Catch::Matchers::ContainsSubstring(R"({"cn": "joe"})"));

    r = probe({server.url(), "--cacert", "fixtures/ca.crt"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("expected 200, got 401 (reason no_certificate)"));

    r = probe({server.url(), "--cacert", "fixtures/ca.crt", "--expect", "401", "--expect-reason", "no_certificate"});
    CHECK(r.exit_code == 0);
    r = probe({server.url(), "--cacert", "fixtures/ca.crt", "--expect", "401", "--expect-reason", "expired"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("expected reason expired, got no_certificate"));

    r = probe({server.url(), "--cacert", "fixtures/ca.crt", "--json", "-H", "X-Test: 1"});
    CHECK(r.exit_code == 1);
    auto json = nlohmann::json::parse(r.out);
    CHECK(json["status"] == 401);
    CHECK(json["reason"] == "no_certificate");
    CHECK(json["ok"] == false);
    CHECK(json["body"]["error"] == "unauthorized");
    CHECK(json["tls"]["version"] == "TLSv1.3");
    CHECK(json["tls"]["server_chain"][0]["subject"] == "CN=localhost");

    TempDir dir;
    const std::string cases = R"({"defaults": {"url": "https://localhost:1", "cacert": ")" +
                              source_path("fixtures/ca.crt") + R"("},
      "cases": [{"name": "joe", "cert": ")" +
                              source_path("fixtures/joe.pem") +
                              R"(", "status": 200, "user": {"cn": "joe"}},
                {"name": "anonymous", "status": 401, "reason": "no_certificate"},
                {"name": "anonymous HEAD", "method": "HEAD", "status": 401}]})";
    const std::string good = dir.write("good.json", cases);
    const std::string report = (dir.path / "report.xml").string();
    r = probe({"--scenarios", good, "--url", server.url(), "--report", "junit", "--output", report});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("3 cases: 3 passed, 0 failed, 0 errors"));
    auto lint = run({"xmllint", "--noout", report});
    CHECK(lint.exit_code == 0);

    std::string wrong = cases;
    wrong.replace(wrong.find("\"status\": 401"), 13, "\"status\": 403");
    r = probe({"--scenarios", dir.write("wrong.json", wrong), "--url", server.url(), "--report", "json"});
    CHECK(r.exit_code == 1);
    auto report_json = nlohmann::json::parse(r.out);
    CHECK(report_json["failures"] == 1);
    CHECK(report_json["cases"][1]["message"] == "expected status 403, got 401 (no_certificate)");

    r = probe({"--scenarios", good}); // the file's url: nothing listens on port 1
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("connection refused"));

    // A case without a URL: the text report names the flag that gives one.
    r = probe({"--scenarios", dir.write("no-url.json", R"({"cases": [{"name": "x", "status": 200}]})")});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("    case \"x\": no URL: give \"url\" in the case or in the "
                                                         "defaults, or one URL for every case (--url)\n"));

    r = probe({"--scenarios", dir.write("bad.json", R"({"cases": [{"name": "x"}]})")});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("bad.json: cases[0] (\"x\"): no \"status\""));
}

TEST_CASE("probe --load against a Python HTTPS server: exact count and summary and JSON", "[e2e][cli]") {
    auto server = start_python_server();
    auto r = probe({server.url(), "--cacert", "fixtures/ca.crt", "--cert", "fixtures/joe.pem", "--load", "--requests",
                    "200", "--concurrency", "4", "--threads", "2", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto json = nlohmann::json::parse(r.out);
    CHECK(json["requests"] == 200);
    CHECK(json["status"]["200"] == 200);
    CHECK(json["error_count"] == 0);
    CHECK(json["handshakes"] == 4);
    CHECK(json["latency_us"]["p50"].get<std::uint64_t>() > 0);

    r = probe({server.url(), "--cacert", "fixtures/ca.crt", "--load", "--requests", "50", "--new-connections",
               "--expect", "401", "--expect-reason", "no_certificate"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("requests     50 in") &&
                          Catch::Matchers::ContainsSubstring("handshakes   50") &&
                          Catch::Matchers::ContainsSubstring("401: 50") &&
                          Catch::Matchers::ContainsSubstring("no_certificate: 50"));
    CHECK(r.err.empty()); // no progress line when stderr is not a terminal

    r = probe({server.url(), "--cacert", "fixtures/ca.crt", "--load", "--requests", "20", "--expect", "200"});
    CHECK(r.exit_code == 1);
}

// CLI11 counts an option set by the configuration file as given: a [probe]
// cacert made every --scenarios run fail with "--cacert does not apply".
TEST_CASE("probe: [probe] keys of the configuration file are defaults - not a conflict with the mode", "[e2e][cli]") {
    TempDir dir;
    const std::string url = "https://127.0.0.1:" + std::to_string(free_port()) + "/";
    std::ofstream(dir.path / "ca.crt") << "unused";
    const auto config = dir.write("certauth.toml", "[probe]\ncacert = \"ca.crt\"\nconcurrency = 4\n");
    const auto scenarios =
        dir.write("s.json", R"({"defaults": {"url": ")" + url + R"("}, "cases": [{"name": "nobody", "status": 200}]})");
    auto r = probe({"--config", config, "--scenarios", scenarios});
    CHECK(r.exit_code == 2); // the case's connection is refused: an error verdict
    CHECK_THAT(r.out, Catch::Matchers::ContainsSubstring("connection refused"));
    CHECK(r.err.find("does not apply") == std::string::npos);

    r = probe({"--config", config, "--scenarios", scenarios, "--cacert", "fixtures/ca.crt"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("--cacert does not apply to --scenarios"));

    // A file's scenarios give way to a URL on the command line.
    const auto with_scenarios = dir.write("scenarios.toml", "[probe]\nscenarios = \"s.json\"\n");
    r = probe({"--config", with_scenarios, url, "--cacert", "fixtures/ca.crt"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::StartsWith("certauth: error: connection refused"));
}
