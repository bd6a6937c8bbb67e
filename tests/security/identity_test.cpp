// Certificates an attacker with a certificate from a trusted CA might
// present to be taken for someone else, or to pass with broken crypto:
// several CNs, MD5 or SHA-1 signatures, short RSA keys. check and serve
// must refuse them alike. Certificates are made with the openssl CLI under
// the fixture CA (fixtures/ca.key).
#include "support/hostile_support.hpp"

#include "support/catch.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include <openssl/ssl.h>
#include <sys/stat.h>

using namespace certauth;
using namespace certauth::test;

namespace {

// Makes, under the fixture CA: twocn (CN=bob, CN=joe), plusjoe (CN=bob+CN=joe
// in one RDN), md5, sha1 (CN=joe, RSA 2048), rsa1024, rsa512 (CN=joe, SHA-256).
const TempDir& made() {
    static const TempDir dir;
    static const bool done = [] {
        run_script(R"(
ca_crt=")" + fixture("ca.crt") +
                       R"(" ca_key=")" + fixture("ca.key") + R"("
printf 'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n' > ext.cnf
make() { # name bits digest subject serial [multivalue]
  openssl req -new -newkey "rsa:$2" -nodes -keyout "$1.key" -subj "$4" ${6:+-multivalue-rdn} -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$ca_crt" -CAkey "$ca_key" -set_serial "$5" -days 3650 "-$3" -extfile ext.cnf -out "$1.crt" 2>/dev/null
}
make twocn 2048 sha256 "/CN=bob/CN=joe" 9001
make plusjoe 2048 sha256 "/CN=bob+CN=joe" 9002 multi
make md5 2048 md5 "/CN=joe" 9003
make sha1 2048 sha1 "/CN=joe" 9004
make rsa1024 1024 sha256 "/CN=joe" 9005
make rsa512 512 sha256 "/CN=joe" 9006
)",
                   dir.path.string());
        return true;
    }();
    (void)done;
    return dir;
}

std::string made_file(const std::string& name) { return (made().path / name).string(); }

nlohmann::json check_json(const std::string& cert, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{certauth_binary(),    "check", "--json", "--ca", fixture("ca.crt"), "--users",
                                  fixture("users.json")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(cert);
    RunOptions options;
    options.cwd = made().path.string();
    const ProcessResult result = run(argv, options);
    INFO(result.out << result.err);
    return nlohmann::json::parse(result.out, nullptr, false);
}

ClientOptions client_with(const std::string& stem, int max_version = 0) {
    ClientOptions options;
    options.cert = made_file(stem + ".crt");
    options.key = made_file(stem + ".key");
    options.max_version = max_version;
    options.security_level = 0; // the client would refuse to send its own weak certificate
    return options;
}

} // namespace

TEST_CASE("security: a certificate with several CNs is not matched by a cn entry", "[security][cli]") {
    for (const std::string stem : {"twocn", "plusjoe"}) {
        INFO(stem);
        const nlohmann::json verdict = check_json(made_file(stem + ".crt"));
        CHECK(verdict.value("outcome", "") == "denied");
        CHECK(verdict.value("reason", "") == "unknown_user");
        const std::string detail = verdict.value("detail", "");
        INFO(detail);
        CHECK(detail.find("2 CNs (bob, joe)") != std::string::npos);
        CHECK(detail.find("exactly one") != std::string::npos);
    }

    ServeProcess server({"--log-format", "json", "--threads", "1"});
    REQUIRE(server.started());
    for (const std::string stem : {"twocn", "plusjoe"}) {
        INFO(stem);
        auto client = HttpClient::connect(server.port(), client_with(stem));
        REQUIRE(client);
        const auto response = client->request("GET", "/admin");
        REQUIRE(response);
        CHECK(response->status == 401);
        CHECK(response->reason() == "unknown_user");
    }
    // The access log carries no CN for them (which of the two would it be?).
    CHECK(server.output().find("\"cn\":\"bob\"") == std::string::npos);
    CHECK(server.output().find("\"cn\":\"joe\"") == std::string::npos);
}

TEST_CASE("security: a multi-CN certificate matched by its fingerprint gets no CN identity", "[security]") {
    const std::string fingerprint = check_json(made_file("twocn.crt"))["certificate"].value("fingerprint256", "");
    REQUIRE_FALSE(fingerprint.empty());
    const TempDir dir;
    const std::string users =
        dir.write("users.json", R"({"users":[{"fingerprint256":")" + fingerprint + R"(","name":"Two Names"}]})");
    ServeProcess server({"--users", users, "--no-access-log"});
    REQUIRE(server.started());
    auto client = HttpClient::connect(server.port(), client_with("twocn"));
    REQUIRE(client);
    const auto response = client->request("GET", "/");
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->json()["name"] == "Two Names");
    CHECK(response->json()["cn"] == "");
}

TEST_CASE("security: weak signatures and short keys are untrusted at the default security level", "[security][cli]") {
    struct Case {
        std::string stem;
        std::string named; // what the detail names
    };
    const std::vector<Case> cases{{"md5", "md5WithRSAEncryption"},
                                  {"sha1", "sha1WithRSAEncryption"},
                                  {"rsa1024", "RSA key has 1024 bits"},
                                  {"rsa512", "RSA key has 512 bits"}};
    for (const Case& c : cases) {
        INFO(c.stem);
        const nlohmann::json verdict = check_json(made_file(c.stem + ".crt"));
        CHECK(verdict.value("outcome", "") == "denied");
        CHECK(verdict.value("reason", "") == "untrusted");
        const std::string detail = verdict.value("detail", "");
        INFO(detail);
        CHECK(detail.find(c.named) != std::string::npos);
        CHECK(detail.find("security level 2 requires at least 112-bit security") != std::string::npos);
        // Level 0 checks nothing: the same certificate is joe.
        CHECK(check_json(made_file(c.stem + ".crt"), {"--security-level", "0"}).value("outcome", "") == "authorised");
    }

    ServeProcess server({"--no-access-log"});
    REQUIRE(server.started());
    for (const Case& c : cases) {
        for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
            INFO(c.stem << (version == TLS1_2_VERSION ? " over TLS 1.2" : " over TLS 1.3"));
            auto client = HttpClient::connect(server.port(), client_with(c.stem, version));
            REQUIRE(client);
            const auto response = client->request("GET", "/admin");
            REQUIRE(response);
            CHECK(response->status == 401);
            // RSA-512 cannot sign TLS 1.3's RSA-PSS: that client sends no certificate at all.
            CHECK(response->reason() ==
                  (c.stem == "rsa512" && version == TLS1_3_VERSION ? "no_certificate" : "untrusted"));
        }
    }
}

TEST_CASE("security: --security-level is checked and applies to serve's own key", "[security][cli]") {
    const ProcessResult bad =
        run({certauth_binary(), "check", "--security-level", "6", "--ca", fixture("ca.crt"), fixture("joe.crt")});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--security-level") != std::string::npos);
    // Level 3 wants 3072-bit RSA: the fixture server's 2048-bit key is
    // refused at start-up, naming the file.
    RunOptions in_fixtures;
    in_fixtures.cwd = fixture("");
    in_fixtures.timeout = std::chrono::seconds(20);
    const ProcessResult serve =
        run({certauth_binary(), "serve", "--security-level", "3", "--listen", "127.0.0.1:0"}, in_fixtures);
    CHECK(serve.exit_code == 2);
    CHECK(serve.err.find("server.crt") != std::string::npos);
}

TEST_CASE("security: an entry matching on serial alone is warned about where the list is loaded", "[security][cli]") {
    const TempDir dir;
    const std::string users = dir.write(
        "users.json", R"({"users":[{"serial":"1004","name":"by serial"},{"serial":"1005","issuer_cn":"x"}]})");
    const ProcessResult checked =
        run({certauth_binary(), "check", "--ca", fixture("ca.crt"), "--users", users, fixture("joe.crt")});
    INFO(checked.err);
    CHECK(checked.err.find("users[0]: matches on serial 1004 alone") != std::string::npos);
    CHECK(checked.err.find("users[1]") == std::string::npos); // tied to an issuer
    ServeProcess server({"--users", users, "--no-access-log"});
    REQUIRE(server.started());
    CHECK(server.output().find("warning: " + users + ": users[0]: matches on serial 1004 alone") != std::string::npos);
}

TEST_CASE("security: the user list is read like the other files: bounded, regular files only, no trailing bytes",
          "[security][cli]") {
    const TempDir dir;
    auto check_users = [](const std::string& users) {
        RunOptions options;
        options.timeout = std::chrono::seconds(20);
        return run({certauth_binary(), "check", "--ca", fixture("ca.crt"), "--users", users, fixture("joe.crt")},
                   options);
    };
    SECTION("a device") {
        const ProcessResult result = check_users("/dev/zero");
        CHECK(result.exit_code == 2);
        CHECK(result.err.find("/dev/zero: not a regular file (a character device)") != std::string::npos);
    }
    SECTION("a FIFO: an error, not a wait") {
        const std::string fifo = (dir.path / "users.fifo").string();
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        const ProcessResult result = check_users(fifo);
        CHECK_FALSE(result.timed_out);
        CHECK(result.exit_code == 2);
        CHECK(result.err.find("not a regular file (a FIFO)") != std::string::npos);
    }
    SECTION("over 64 MiB") {
        const std::string big = (dir.path / "big.json").string();
        {
            std::FILE* f = std::fopen(big.c_str(), "wb");
            REQUIRE(f != nullptr);
            REQUIRE(std::fseek(f, 65L * 1024 * 1024, SEEK_SET) == 0);
            std::fputc(' ', f);
            std::fclose(f);
        }
        const ProcessResult result = check_users(big);
        CHECK(result.exit_code == 2);
        CHECK(result.err.find("larger than 64 MiB") != std::string::npos);
    }
    SECTION("bytes after the JSON value, a NUL among them") {
        const std::string users = dir.write("nul.json", std::string("{\"users\":[\"joe\"]}\0garbage", 26));
        const ProcessResult result = check_users(users);
        CHECK(result.exit_code == 2);
        CHECK(result.err.find("nul.json:1:18: a NUL byte") != std::string::npos);
        const std::string trailing = dir.write("trailing.json", "{\"users\":[\"joe\"]} x");
        CHECK(check_users(trailing).exit_code == 2);
    }
}
