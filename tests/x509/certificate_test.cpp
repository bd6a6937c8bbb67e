// Certificate: parse_chain / load_chain on good and bad input, and facts().
#include <certauth/x509/certificate.hpp>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/utc.hpp"

#include "support/catch.hpp"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using certauth::test::read_text;
using certauth::test::source_path;
using certauth::test::TempDir;
using certauth::x509::Chain;
using certauth::x509::load_chain;
using certauth::x509::parse_chain;

using certauth::test::utc;

namespace {

Chain must_load(const std::string& relative) {
    auto chain = load_chain(source_path(relative));
    INFO(relative << ": " << (chain ? "" : chain.error().message));
    REQUIRE(chain);
    return std::move(*chain);
}

std::string chain_error_of(const certauth::Result<Chain>& result) {
    REQUIRE_FALSE(result);
    return result.error().message;
}

// `openssl x509 -noout -OPTION` for one file: the value after '='.
std::string openssl_field(const std::string& file, const std::vector<std::string>& extra) {
    certauth::test::RunOptions options;
    options.timeout = std::chrono::seconds(30);
    std::vector<std::string> argv{"openssl", "x509", "-in", file, "-noout"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto result = certauth::test::run(argv, options);
    INFO("openssl x509 " << extra.front() << " " << file << ": " << result.err);
    REQUIRE(result.exit_code == 0);
    std::string out = result.out.substr(result.out.find('=') + 1);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
        out.pop_back();
    return out;
}

} // namespace

TEST_CASE("parse_chain reads PEM, DER, chains and combined certificate+key files", "[x509]") {
    const Chain joe = must_load("fixtures/joe.crt");
    REQUIRE(joe.size() == 1);
    CHECK(joe[0].facts().cn() == "joe");

    const Chain der = must_load("fixtures/joe.der");
    REQUIRE(der.size() == 1);
    CHECK(der[0].facts().fingerprint256 == joe[0].facts().fingerprint256);

    const Chain carol = must_load("fixtures/carol-chain.pem");
    REQUIRE(carol.size() == 2);
    CHECK(carol[0].facts().cn() == "carol");
    CHECK(carol[1].facts().cn() == "certauth test intermediate CA");

    const Chain combined = must_load("fixtures/joe.pem"); // certificate, then PRIVATE KEY
    REQUIRE(combined.size() == 1);
    CHECK(combined[0].facts().fingerprint256 == joe[0].facts().fingerprint256);

    const std::string pem = read_text(source_path("fixtures/joe.crt"));
    SECTION("text before the first block and between blocks is ignored") {
        auto chain = parse_chain("subject=CN = joe\nissuer=...\n" + pem + "\nBag Attributes: x\n" + pem, "x.pem");
        REQUIRE(chain);
        CHECK(chain->size() == 2);
    }
    SECTION("CRLF line endings") {
        std::string crlf;
        for (char c : pem)
            crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
        auto chain = parse_chain(crlf, "crlf.pem");
        REQUIRE(chain);
        CHECK(chain->front().facts().cn() == "joe");
    }
    SECTION("trailing whitespace after the last block is fine") {
        auto chain = parse_chain(pem + "\n\n   \n", "ws.pem");
        CHECK(chain);
    }
    SECTION("copies share the certificate") {
        const certauth::x509::Certificate copy = joe[0];
        CHECK(copy.native() == joe[0].native());
        CHECK(copy.facts().serial == joe[0].facts().serial);
    }
}

TEST_CASE("every fixtures/bad certificate input is refused with the file name and what is wrong", "[x509]") {
    // file -> what the message must say after "<path>: "
    const std::map<std::string, std::string> expected{
        {"empty.crt", "empty file, no certificate found"},
        {"random.bin", "no certificate found (neither PEM nor DER: binary data that is not an ASN.1 structure)"},
        {"key-not-cert.pem", "no certificate found (a PEM PRIVATE KEY block, not a certificate)"},
        {"truncated.der", "truncated DER: the certificate's header announces 817 bytes, the input has only 408"},
        {"broken-base64.pem", "line 3: invalid base64 character '!' in the CERTIFICATE block (line 1)"},
        {"trailing-garbage.pem", "line 21: trailing data after the last certificate"},
        {"not-a-ca.pem", "no certificate found (text without a PEM \"-----BEGIN CERTIFICATE-----\" line)"},
    };
    std::set<std::string> seen;
    for (const auto& entry : fs::directory_iterator(source_path("fixtures/bad"))) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("users-", 0) == 0) continue; // user lists: the policy layer's
        seen.insert(name);
        INFO(name);
        const auto it = expected.find(name);
        REQUIRE(it != expected.end()); // a new bad input needs an expectation here
        const std::string message = chain_error_of(load_chain(entry.path()));
        CHECK(message == entry.path().string() + ": " + it->second);
    }
    CHECK(seen.size() == expected.size());
}

TEST_CASE("parse_chain explains other malformed input", "[x509]") {
    const std::string pem = read_text(source_path("fixtures/joe.crt"));
    const std::string der = read_text(source_path("fixtures/joe.der"));
    CHECK(chain_error_of(parse_chain("", "standard input")) == "standard input: empty, no certificate found");
    CHECK(chain_error_of(parse_chain(" \n\t\n", "w.pem")) == "w.pem: no certificate found (only whitespace)");
    CHECK(chain_error_of(parse_chain(der + "xyz", "joe2.der")) ==
          "joe2.der: 3 bytes of trailing data after the DER certificate (a DER file holds exactly one certificate)");
    CHECK(chain_error_of(parse_chain(pem.substr(0, pem.size() - 30), "cut.pem")) ==
          "cut.pem: line 1: the CERTIFICATE block has no END line (the input ends first)");
    CHECK(chain_error_of(parse_chain(read_text(source_path("fixtures/ca.crl")), "ca.crl")) ==
          "ca.crl: no certificate found (a PEM X509 CRL block, not a certificate)");
    CHECK(chain_error_of(parse_chain(
              read_text(source_path("fixtures/joe.key")) + read_text(source_path("fixtures/ca.crl")), "two.pem")) ==
          "two.pem: no certificate found (PEM blocks PRIVATE KEY, X509 CRL; none is a certificate)");
    CHECK(chain_error_of(parse_chain("-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----\n", "short.pem"))
              .rfind("short.pem: line 1: CERTIFICATE block: not a valid X.509 certificate (", 0) == 0);
    CHECK(chain_error_of(parse_chain("-----BEGIN CERTIFICATE-----\nTUl\n-----END CERTIFICATE-----\n", "odd.pem")) ==
          "odd.pem: line 1: CERTIFICATE block: the base64 body is truncated (3 characters, not a multiple of 4)");
    CHECK(chain_error_of(parse_chain(pem + "-----BEGIN CERTIFICATE-----\n", "open.pem")) ==
          "open.pem: line 21: the CERTIFICATE block has no END line (the input ends first)");
    CHECK(chain_error_of(parse_chain("-----BEGIN CERTIFICATE-----\nTUlJ\n-----END PRIVATE KEY-----\n", "mix.pem")) ==
          "mix.pem: line 3: \"-----END PRIVATE KEY-----\" does not end the CERTIFICATE block (line 1)");
    CHECK(chain_error_of(parse_chain(pem + pem + "junk\n", "j.pem")) ==
          "j.pem: line 41: trailing data after the last certificate");
}

TEST_CASE("a PEM file that starts with a UTF-8 byte order mark is read, as OpenSSL reads it", "[x509]") {
    // A PEM saved by a Windows editor: it was "no certificate found (text
    // without a PEM \"-----BEGIN CERTIFICATE-----\" line)".
    const std::string bom = "\xEF\xBB\xBF";
    const auto chain = parse_chain(bom + read_text(source_path("fixtures/carol-chain.pem")), "bom.pem");
    INFO((chain ? std::string() : chain.error().message));
    REQUIRE(chain);
    CHECK(chain->size() == 2);
    CHECK(chain->front().facts().cn() == "carol");
}

TEST_CASE("load_chain and read_file name the file and the problem", "[x509]") {
    TempDir dir;
    const std::string missing = (dir.path / "nope.crt").string();
    CHECK(chain_error_of(load_chain(missing)) == missing + ": no such file");
    CHECK(chain_error_of(load_chain(dir.path)) == dir.path.string() + ": is a directory, not a file");
    const auto read = certauth::x509::read_file(missing);
    REQUIRE_FALSE(read);
    CHECK(read.error().message == missing + ": no such file");
    // An empty name (`--ca ""`, `ca = ""`) said only ": no such file".
    CHECK(chain_error_of(load_chain("")) == "an empty file name was given where a file was expected");

    const std::string empty = dir.write("empty.crt", "");
    CHECK(chain_error_of(load_chain(empty)) == empty + ": empty file, no certificate found");

    if (geteuid() != 0) { // root reads any file
        const std::string locked = dir.write("locked.crt", read_text(source_path("fixtures/joe.crt")));
        fs::permissions(locked, fs::perms::none);
        CHECK(chain_error_of(load_chain(locked)) == locked + ": cannot open: Permission denied");
    }
    const auto ok = certauth::x509::read_file(source_path("fixtures/joe.der"));
    REQUIRE(ok);
    CHECK(ok->size() == 817);
}

TEST_CASE("facts of joe: names in certificate order, serial and fingerprint as openssl prints them", "[x509]") {
    const Chain joe = must_load("fixtures/joe.crt");
    const auto facts = joe[0].facts();
    REQUIRE(facts.subject.entries.size() == 1);
    CHECK(facts.subject.entries[0].key == "CN");
    CHECK(facts.subject.entries[0].value == "joe");
    REQUIRE(facts.issuer.entries.size() == 2);
    CHECK(facts.issuer.entries[0].key == "O");
    CHECK(facts.issuer.entries[0].value == "certauth");
    CHECK(facts.issuer.entries[1].key == "CN");
    CHECK(facts.issuer_cn() == "certauth test CA");
    CHECK(facts.issuer.to_string() == "CN=certauth test CA, O=certauth");
    CHECK(facts.san_dns.empty());
    CHECK(facts.san_ip.empty());
    CHECK(facts.not_before == utc(2020, 1, 1));
    CHECK(facts.not_after == utc(2049, 12, 31, 23, 59, 59));
    CHECK(joe[0].key_description() == "RSA 2048");
}

TEST_CASE("facts: serial and fingerprint256 of every fixture certificate match the openssl CLI", "[x509]") {
    std::vector<std::string> files;
    for (const char* dir : {"fixtures", "fixtures/edge"})
        for (const auto& entry : fs::directory_iterator(source_path(dir)))
            if (entry.path().extension() == ".crt") files.push_back(entry.path().string());
    REQUIRE(files.size() >= 24);
    for (const std::string& file : files) {
        INFO(file);
        auto chain = load_chain(file);
        REQUIRE(chain);
        const auto facts = chain->front().facts();
        CHECK(facts.fingerprint256 == openssl_field(file, {"-fingerprint", "-sha256"}));
        CHECK(facts.serial == openssl_field(file, {"-serial"}));
    }
}

TEST_CASE("facts of edge certificates: SANs by kind, IPs in canonical form, UTF-8, long serials", "[x509]") {
    const auto sans = must_load("fixtures/edge/sans.crt")[0].facts();
    CHECK(sans.san_dns == std::vector<std::string>{"sans.example.org", "*.sans.example.org"});
    CHECK(sans.san_email == std::vector<std::string>{"sans@example.org"});
    CHECK(sans.san_uri == std::vector<std::string>{"spiffe://example.org/ns/prod/sa/api"});
    CHECK(sans.san_ip == std::vector<std::string>{"192.0.2.10", "2001:db8::1", "::1"});
    CHECK(sans.subject.only("emailAddress") == "sans@example.org");

    const auto server = must_load("fixtures/server.crt")[0].facts();
    CHECK(server.san_dns == std::vector<std::string>{"localhost"});
    CHECK(server.san_ip == std::vector<std::string>{"127.0.0.1", "::1"});

    const auto ou = must_load("fixtures/edge/multi-ou.crt")[0].facts();
    CHECK(ou.subject.values("OU") == std::vector<std::string>{"Engineering", "Security"});
    CHECK(ou.subject.only("C") == "GB");
    CHECK(ou.subject.only("ST") == "England");
    CHECK(ou.subject.only("L") == "London");

    CHECK(must_load("fixtures/edge/utf8.crt")[0].facts().cn() == "Zo\u00eb \u00dcn\u00efc\u00f8d\u00e9 \u65e5\u672c");
    const auto comma = must_load("fixtures/edge/comma.crt")[0].facts();
    CHECK(comma.cn() == "Doe, John = admin");
    CHECK(comma.subject.to_string() == "CN=Doe\\, John \\= admin, O=certauth");
    // Control characters as RFC 4514's \XX: a name is never printed raw
    // (probe prints the server's, check and serve the client's).
    const certauth::x509::Name control{{{"CN", "ev\x1b[31mil\x7f"}, {"O", "a\nb"}}};
    CHECK(control.to_string() == "O=a\\0Ab, CN=ev\\1B[31mil\\7F");

    CHECK(must_load("fixtures/edge/serial20.crt")[0].facts().serial == "7F0123456789ABCDEF0123456789ABCDEF012345");
    CHECK(must_load("fixtures/edge/generalized.crt")[0].facts().not_after == utc(2070, 1, 1));

    const auto carol = must_load("fixtures/carol.crt")[0].facts();
    CHECK(carol.issuer_cn() == "certauth test intermediate CA");
    CHECK(carol.cn() == "carol");

    CHECK(must_load("fixtures/dave.crt")[0].key_description() == "EC P-256");
    CHECK(must_load("fixtures/edge/p384.crt")[0].key_description() == "EC P-384");
    CHECK(must_load("fixtures/edge/ed25519.crt")[0].key_description() == "Ed25519");
}

TEST_CASE("parse_chain survives truncated and corrupted input (deterministic mutations)", "[x509]") {
    std::uint32_t state = 12345;
    const auto next = [&state] { return state = state * 1664525u + 1013904223u; };
    int parsed = 0;
    int refused = 0;
    for (const char* name : {"fixtures/joe.der", "fixtures/carol-chain.pem", "fixtures/edge/sans.crt"}) {
        const std::string original = read_text(source_path(name));
        std::vector<std::string> inputs;
        for (std::size_t length = 0; length < original.size(); length += 7)
            inputs.push_back(original.substr(0, length));
        for (int i = 0; i < 400; ++i) {
            std::string mutated = original;
            for (int flips = 1 + static_cast<int>(next() % 3); flips > 0; --flips)
                mutated[next() % mutated.size()] = static_cast<char>(next() & 0xff);
            inputs.push_back(std::move(mutated));
        }
        for (const std::string& input : inputs) {
            const auto chain = parse_chain(input, "fuzz");
            if (!chain) {
                CHECK(chain.error().message.rfind("fuzz: ", 0) == 0);
                ++refused;
                continue;
            }
            ++parsed;
            for (const auto& cert : *chain) {
                (void)cert.facts();
                (void)cert.node_object().dump();
                (void)cert.key_description();
            }
        }
    }
    CHECK(parsed > 0);
    CHECK(refused > 0);
}
