// certauth pki init / issue, driven as a user drives them: the real binary
// writes a test PKI into a temporary folder, and `certauth check` gives every
// certificate of it the verdict its scenarios.json expects.
#include "support/files.hpp"
#include "support/process.hpp"

#include <certauth/x509/certificate.hpp>

#include "support/catch.hpp"
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace fs = std::filesystem;
using certauth::test::certauth_binary;
using certauth::test::ProcessResult;
using certauth::test::read_text;
using certauth::test::TempDir;
using nlohmann::json;

namespace {

// Runs `certauth ARGS...` in `cwd` (an empty folder unless given, so that no
// certauth.toml applies).
ProcessResult run_pki(const std::vector<std::string>& args, const std::string& cwd = {}) {
    static const TempDir empty;
    std::vector<std::string> argv{certauth_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    certauth::test::RunOptions options;
    options.cwd = cwd.empty() ? empty.path.string() : cwd;
    options.env = {"NO_COLOR="};
    options.timeout = std::chrono::seconds(120);
    ProcessResult result = certauth::test::run(argv, options);
    INFO("certauth " << args.front() << " output:\n" << result.out << "\nstderr:\n" << result.err);
    REQUIRE_FALSE(result.timed_out);
    return result;
}

unsigned mode_of(const fs::path& file) {
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    return st.st_mode & 0777U;
}

std::string key_of(const fs::path& crt) {
    auto chain = certauth::x509::load_chain(crt);
    REQUIRE(chain);
    return chain->front().key_description();
}

// Every case of DIR/scenarios.json with a certificate on path "/", given to
// one `certauth check --json` with DIR's CA, CRL and users: each verdict is
// the case's status and reason, each user holds the case's user fields.
void check_the_table(const fs::path& dir) {
    const json table = json::parse(read_text(dir / "scenarios.json"));
    std::vector<json> cases;
    std::vector<std::string> args{"check",   "--json",
                                  "--ca",    (dir / "ca.crt").string(),
                                  "--crl",   (dir / "ca.crl").string(),
                                  "--users", (dir / "users.json").string()};
    for (const json& c : table.at("cases")) {
        if (c.value("path", "/") != "/" || !c.contains("cert") || c.value("method", "GET") != "GET") continue;
        cases.push_back(c);
        args.push_back((dir / c.at("cert").get<std::string>()).string());
    }
    REQUIRE(cases.size() == 10); // joe bob expired notyet revoked rogue serveronly carol dave hostile
    const ProcessResult r = run_pki(args);
    CHECK(r.exit_code == 1); // some denied, none in error
    std::vector<json> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
        lines.push_back(json::parse(line));
    REQUIRE(lines.size() == cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
        INFO("case " << cases[i].at("name"));
        if (cases[i].at("status") == 200) {
            CHECK(lines[i].at("outcome") == "authorised");
            const json user = cases[i].value("user", json::object());
            for (const auto& [key, value] : user.items())
                CHECK(lines[i].at("user").at(key) == value);
        } else {
            CHECK(lines[i].at("outcome") == "denied");
            CHECK(lines[i].at("reason") == cases[i].at("reason"));
        }
    }
}

// `pki init DIR ARGS...`; REQUIREs success.
void init(const fs::path& dir, const std::vector<std::string>& more = {}) {
    std::vector<std::string> args{"pki", "init", dir.string()};
    args.insert(args.end(), more.begin(), more.end());
    const ProcessResult r = run_pki(args);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("certauth: wrote ") == 0);
    CHECK(r.err.empty());
}

} // namespace

TEST_CASE("pki init: the fixture table, as check decides it, with RSA keys", "[e2e][cli]") {
    const TempDir tmp;
    const fs::path dir = tmp.path / "pki";
    init(dir);
    check_the_table(dir);
    CHECK(key_of(dir / "joe.crt") == "RSA 2048");
    CHECK(key_of(dir / "ca.crt") == "RSA 2048");
    CHECK(key_of(dir / "dave.crt") == "EC P-256");
    // The folder's own certauth.toml applies inside it, as in fixtures/.
    const ProcessResult inside = run_pki({"check", "joe.crt", "revoked.crt"}, dir.string());
    CHECK(inside.exit_code == 1);
    CHECK(inside.out.find("✔ joe.crt  authorised  CN=joe  issuer CN=certauth test CA  expires 2049-12-31\n") == 0);
    CHECK(inside.out.find("✘ revoked.crt  denied: revoked") != std::string::npos);
    // Keys (and files holding one) are for the owner only.
    for (const char* name : {"ca.key", "joe.key", "joe.pem", "joe.p12", "server.key", "server.pem", "sub-ca.key"}) {
        INFO(name);
        CHECK(mode_of(dir / name) == 0600U);
    }
    for (const char* name : {"ca.crt", "joe.crt", "ca.crl", "users.json", "README.md"}) {
        INFO(name);
        CHECK(mode_of(dir / name) == 0644U);
    }
    CHECK_FALSE(fs::exists(dir / "edge"));
    const std::string readme = read_text(dir / "README.md");
    CHECK(readme.find("password **`certauth`**") != std::string::npos);
    CHECK(readme.find("ssl_verify_client") != std::string::npos);
}

TEST_CASE("pki init --key-type p256 / ed25519: the same table, other keys", "[e2e][cli]") {
    for (const auto& [type, description] : {std::pair{"p256", "EC P-256"}, std::pair{"ed25519", "Ed25519"}}) {
        INFO(type);
        const TempDir tmp;
        init(tmp.path, {"--key-type", type, "--server-names", "pki.example.org,10.1.2.3", "--days", "30"});
        check_the_table(tmp.path);
        CHECK(key_of(tmp.path / "ca.crt") == description);
        CHECK(key_of(tmp.path / "carol.crt") == description);
        CHECK(key_of(tmp.path / "dave.crt") == "EC P-256");
        auto server = certauth::x509::load_chain(tmp.path / "server.crt");
        REQUIRE(server);
        const auto facts = server->front().facts();
        CHECK(facts.cn() == "pki.example.org");
        CHECK(facts.san_dns == std::vector<std::string>{"pki.example.org"});
        CHECK(facts.san_ip == std::vector<std::string>{"10.1.2.3"});
        CHECK(facts.not_after - facts.not_before == std::chrono::hours(24 * 30));
        CHECK(json::parse(read_text(tmp.path / "scenarios.json")).at("defaults").at("url") ==
              "https://pki.example.org:3443");
    }
}

TEST_CASE("pki init refuses to overwrite without --force, naming the file, and writes nothing", "[e2e][cli]") {
    const TempDir tmp;
    init(tmp.path, {"--key-type", "p256"});
    const std::string ca = read_text(tmp.path / "ca.crt");
    fs::remove(tmp.path / "joe.key");
    const ProcessResult again = run_pki({"pki", "init", tmp.path.string(), "--key-type", "p256"});
    CHECK(again.exit_code == 2);
    CHECK(again.out.empty());
    CHECK(again.err.rfind("certauth: error: " + (tmp.path / "ca.crt").string() + " exists (and ", 0) == 0);
    CHECK(again.err.find("more of the files to write); nothing was written: give --force to overwrite\n") !=
          std::string::npos);
    CHECK(read_text(tmp.path / "ca.crt") == ca);
    CHECK_FALSE(fs::exists(tmp.path / "joe.key"));

    init(tmp.path, {"--key-type", "p256", "--force"});
    CHECK(read_text(tmp.path / "ca.crt") != ca);
    CHECK(fs::exists(tmp.path / "joe.key"));
    check_the_table(tmp.path);
}

TEST_CASE("pki init: errors for a bad folder or option", "[e2e][cli]") {
    const TempDir tmp;
    const std::string file = tmp.write("file", "x");
    ProcessResult r = run_pki({"pki", "init", file});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "certauth: error: " + file + ": exists and is not a directory\n");
    r = run_pki({"pki", "init", (tmp.path / "d").string(), "--key-type", "rsa1024"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--key-type") != std::string::npos);
    r = run_pki({"pki", "init", (tmp.path / "d").string(), "--days", "0"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("expected a whole number from 1 to 36500") != std::string::npos);
    r = run_pki({"pki"});
    CHECK(r.exit_code == 2);
    CHECK_FALSE(fs::exists(tmp.path / "d"));
}

TEST_CASE("pki issue: one more certificate from the CA or the intermediate", "[e2e][cli]") {
    const TempDir tmp;
    const fs::path dir = tmp.path / "pki";
    init(dir, {"--key-type", "p256"});
    const std::string alice = (tmp.path / "alice").string();
    ProcessResult r = run_pki({"pki", "issue", dir.string(), "--out", alice, "--cn", "alice", "--o", "Example", "--san",
                               "email:alice@example.org,uri:spiffe://example.org/alice", "--san", "ip:::1"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("CN=alice, O=Example, issued by CN=certauth test CA, O=certauth, serial ") != std::string::npos);
    for (const char* ext : {".key", ".pem", ".p12"})
        CHECK(mode_of(alice + ext) == 0600U);
    auto chain = certauth::x509::load_chain(alice + ".crt");
    REQUIRE(chain);
    const auto facts = chain->front().facts();
    CHECK(facts.subject.only("O") == "Example");
    CHECK(facts.san_email == std::vector<std::string>{"alice@example.org"});
    CHECK(facts.san_uri == std::vector<std::string>{"spiffe://example.org/alice"});
    CHECK(facts.san_ip == std::vector<std::string>{"::1"});
    CHECK(facts.serial.size() == 32);
    CHECK(chain->front().key_description() == "EC P-256"); // the CA's kind
    const std::string ca = (dir / "ca.crt").string();
    r = run_pki({"check", "--json", "--ca", ca, alice + ".crt"});
    CHECK(r.exit_code == 0);
    CHECK(json::parse(r.out).at("outcome") == "authenticated");

    // From the intermediate, with a chain file, valid only from 2059 (the CAs end in 2060).
    const std::string later = (tmp.path / "later").string();
    r = run_pki({"pki", "issue", dir.string(), "--out", later, "--cn", "later", "--intermediate", "--not-before",
                 "2059-01-01", "--days", "10", "--key-type", "ed25519"});
    REQUIRE(r.exit_code == 0);
    r = run_pki({"check", "--json", "--ca", ca, later + "-chain.pem"});
    CHECK(json::parse(r.out).at("reason") == "not_yet_valid");
    r = run_pki({"check", "--json", "--ca", ca, later + "-chain.pem", "--at", "2059-01-02"});
    CHECK(json::parse(r.out).at("outcome") == "authenticated");
    CHECK(json::parse(r.out).at("certificate").at("issuer").at("CN") == "certauth test intermediate CA");
    r = run_pki({"check", "--json", "--ca", ca, later + ".crt", "--at", "2059-01-02"});
    CHECK(json::parse(r.out).at("reason") == "untrusted"); // the leaf alone lacks sub-ca

    // Server usage only: not a client certificate.
    const std::string server = (tmp.path / "server").string();
    r = run_pki({"pki", "issue", dir.string(), "--out", server, "--cn", "api", "--eku", "serverAuth"});
    REQUIRE(r.exit_code == 0);
    r = run_pki({"check", "--json", "--ca", ca, server + ".crt"});
    CHECK(json::parse(r.out).at("reason") == "wrong_usage");

    // Errors name what is wrong; nothing is overwritten without --force.
    r = run_pki({"pki", "issue", dir.string(), "--out", alice, "--cn", "alice"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("certauth: error: " + alice + ".crt exists") == 0);
    r = run_pki({"pki", "issue", dir.string(), "--out", alice, "--cn", "alice", "--force"});
    CHECK(r.exit_code == 0);
    r = run_pki({"pki", "issue", dir.string(), "--out", alice + "2", "--cn", "x", "--san", "host:x"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("certauth: error: --san: subject alternative name \"host:x\": expected KIND:VALUE") == 0);
    r = run_pki({"pki", "issue", dir.string(), "--out", alice + "2", "--cn", "x", "--eku", "clientAuthh"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("extended key usage \"clientAuthh\": not a known usage or OID") != std::string::npos);
    r = run_pki({"pki", "issue", dir.string(), "--out", alice + "2", "--cn", "x", "--not-before", "soon"});
    CHECK(r.err == "certauth: error: --not-before: cannot read \"soon\" as a time; use ISO 8601, e.g. 2030-01-01\n");
    r = run_pki({"pki", "issue", tmp.path.string(), "--out", alice + "2", "--cn", "x"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("certauth: error: " + (tmp.path / "ca.crt").string()) == 0);
    CHECK(r.err.find("(is " + tmp.path.string() + " a folder `pki init` wrote?)") != std::string::npos);
    CHECK_FALSE(fs::exists(alice + "2.crt"));
}
