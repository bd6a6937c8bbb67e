// TrustStore: loading CAs and CRLs, and verification at a time T against
// the expectations table fixtures/scenarios.json, CRL modes, expired CRLs,
// --at style times and the words of each denial.
#include <certauth/x509/trust_store.hpp>

#include "support/files.hpp"
#include "support/pki.hpp"
#include "support/process.hpp"
#include "support/utc.hpp"

#include "support/catch.hpp"
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <openssl/x509_vfy.h>

namespace fs = std::filesystem;
using certauth::test::fixture;
using certauth::x509::Chain;
using certauth::x509::ChainStatus;
using certauth::x509::CrlMode;
using certauth::x509::TrustConfig;
using certauth::x509::TrustStore;

using certauth::test::utc;

namespace {

// The reason code a chain problem is denied with (as fixtures/scenarios.json names it).
std::string problem_name(certauth::x509::ChainProblem problem) {
    switch (problem) {
    case certauth::x509::ChainProblem::none: return "ok";
    case certauth::x509::ChainProblem::no_certificate: return "no_certificate";
    case certauth::x509::ChainProblem::untrusted: return "untrusted";
    case certauth::x509::ChainProblem::expired: return "expired";
    case certauth::x509::ChainProblem::not_yet_valid: return "not_yet_valid";
    case certauth::x509::ChainProblem::revoked: return "revoked";
    case certauth::x509::ChainProblem::wrong_usage: return "wrong_usage";
    }
    return "?";
}

using Clock = std::chrono::system_clock;

// The end of a denial's detail: OpenSSL's own words for a verification error
// at a depth, " (OpenSSL: certificate has expired, at depth 0)". The words are
// the running library's (they may differ between OpenSSL versions): a detail
// compared with this is compared exactly in certauth's part and in the error
// code and depth, not in OpenSSL's wording.
std::string openssl_words(int error, int depth) {
    return std::string(" (OpenSSL: ") + X509_verify_cert_error_string(error) + ", at depth " + std::to_string(depth) +
           ")";
}

TrustStore must_load_store(std::vector<std::string> cas, std::vector<std::string> crls = {},
                           CrlMode mode = CrlMode::when_loaded) {
    TrustConfig config;
    for (const auto& ca : cas)
        config.ca_files.push_back(fixture(ca));
    for (const auto& crl : crls)
        config.crl_files.push_back(fixture(crl));
    config.crl_mode = mode;
    auto store = TrustStore::load(config);
    INFO((store ? std::string() : store.error().message));
    REQUIRE(store);
    return std::move(*store);
}

std::string load_error(std::vector<std::string> cas, std::vector<std::string> crls = {}) {
    TrustConfig config;
    for (const auto& ca : cas)
        config.ca_files.push_back(ca);
    for (const auto& crl : crls)
        config.crl_files.push_back(crl);
    auto store = TrustStore::load(config);
    REQUIRE_FALSE(store);
    return store.error().message;
}

Chain chain_of(const std::string& name) {
    auto chain = certauth::x509::load_chain(fixture(name));
    INFO(name << ": " << (chain ? "" : chain.error().message));
    REQUIRE(chain);
    return std::move(*chain);
}

ChainStatus verify(const TrustStore& store, const std::string& name, Clock::time_point at = Clock::now()) {
    return store.verify(chain_of(name), at);
}

} // namespace

TEST_CASE("TrustStore::load: CAs, bundles, PEM and DER CRLs", "[x509]") {
    const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl"});
    REQUIRE(store.authorities().size() == 1);
    CHECK(store.authorities()[0].facts().cn() == "certauth test CA");
    CHECK(store.crl_count() == 1);
    CHECK(store.native() != nullptr);
    CHECK(store.stale_crls(Clock::now()).empty());

    // A DER CRL revokes just as the PEM one does.
    const TrustStore der = must_load_store({"ca.crt"}, {"ca.crl.der"});
    CHECK(der.crl_count() == 1);
    CHECK(verify(der, "revoked.crt").problem == certauth::x509::ChainProblem::revoked);

    // Two CA files, in load order.
    const TrustStore two = must_load_store({"ca.crt", "rogue-ca.crt"});
    REQUIRE(two.authorities().size() == 2);
    CHECK(two.authorities()[1].facts().cn() == "certauth rogue CA");
    CHECK(verify(two, "rogue.crt").verified());
}

TEST_CASE("TrustStore::load reads CA and CRL PEM files that start with a UTF-8 byte order mark", "[x509]") {
    const certauth::test::TempDir dir;
    const std::string bom = "\xEF\xBB\xBF";
    TrustConfig config;
    config.ca_files.push_back(dir.write("ca.crt", bom + certauth::test::read_text(fixture("ca.crt"))));
    config.crl_files.push_back(dir.write("ca.crl", bom + certauth::test::read_text(fixture("ca.crl"))));
    auto store = TrustStore::load(config);
    INFO((store ? std::string() : store.error().message));
    REQUIRE(store);
    CHECK(store->verify(chain_of("revoked.crt"), Clock::now()).problem == certauth::x509::ChainProblem::revoked);
}

TEST_CASE("TrustStore::load errors name the file and the problem", "[x509]") {
    const std::string missing = fixture("nope.crt");
    CHECK(load_error({missing}) == missing + ": no such file");
    CHECK(load_error({fixture("bad")}) == fixture("bad") + ": is a directory, not a file");
    CHECK(load_error({fixture("bad/not-a-ca.pem")}) ==
          fixture("bad/not-a-ca.pem") +
              ": no certificate in CA file (text without a PEM \"-----BEGIN CERTIFICATE-----\" line)");
    CHECK(load_error({fixture("bad/key-not-cert.pem")}) ==
          fixture("bad/key-not-cert.pem") + ": no certificate in CA file (a PEM PRIVATE KEY block, not a certificate)");
    CHECK(load_error({fixture("bad/empty.crt")}) == fixture("bad/empty.crt") + ": no certificate in CA file (empty)");
    CHECK(load_error({fixture("bad/broken-base64.pem")}) ==
          fixture("bad/broken-base64.pem") +
              ": line 3: invalid base64 character '!' in the CERTIFICATE block (line 1)");
    CHECK(
        load_error({fixture("joe.crt")}) ==
        fixture("joe.crt") +
            ": certificate 1 (CN=joe) is not a CA certificate; a CA file holds the CAs that issue client certificates");
    CHECK(load_error({}) == "no CA file given: client certificates cannot be verified without one");

    const std::string ca = fixture("ca.crt");
    CHECK(load_error({ca}, {fixture("nope.crl")}) == fixture("nope.crl") + ": no such file");
    CHECK(load_error({ca}, {fixture("joe.crt")}) ==
          fixture("joe.crt") + ": no CRL found (PEM CERTIFICATE block, no X509 CRL block)");
    CHECK(load_error({ca}, {fixture("bad/random.bin")}) ==
          fixture("bad/random.bin") + ": not a CRL (neither PEM \"-----BEGIN X509 CRL-----\" nor DER)");
    CHECK(load_error({ca}, {fixture("joe.der")}).rfind(fixture("joe.der") + ": not a valid CRL (", 0) == 0);
    CHECK(load_error({ca}, {fixture("bad/empty.crt")}) == fixture("bad/empty.crt") + ": empty, no CRL found");
}

TEST_CASE("verify agrees with every case of fixtures/scenarios.json", "[x509]") {
    std::ifstream in(fixture("scenarios.json"));
    REQUIRE(in);
    const auto scenarios = nlohmann::json::parse(in);
    const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl"});
    int checked = 0;
    for (const auto& c : scenarios.at("cases")) {
        if (!c.contains("cert") || c.value("path", "/") != "/") continue;
        const std::string expected = c.value("status", 0) == 200 || c.value("reason", "") == "unknown_user"
                                         ? std::string("ok")
                                         : c.at("reason").get<std::string>();
        const ChainStatus status = verify(store, c.at("cert").get<std::string>());
        INFO(c.at("name").get<std::string>() << ": " << status.detail);
        CHECK(problem_name(status.problem) == expected);
        CHECK(status.verified() == (expected == "ok"));
        if (status.verified()) {
            CHECK(status.error == 0);
            CHECK(status.depth == -1);
        } else {
            CHECK(status.error != 0);
            CHECK(status.depth >= 0);
        }
        ++checked;
    }
    CHECK(checked >= 9);
}

TEST_CASE("denials say which certificate, what failed and what would be accepted", "[x509]") {
    const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl"});
    const std::string trusted = "trusted: CN=certauth test CA, O=certauth";

    SECTION("untrusted CA") {
        const auto s = verify(store, "rogue.crt");
        CHECK(s.problem == certauth::x509::ChainProblem::untrusted);
        CHECK(s.error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
        CHECK(s.detail ==
              "CN=joe issued by CN=certauth rogue CA, O=certauth, which is not a trusted CA; " + trusted +
                  "; no intermediate CA certificate was presented with it and none is known: if CN=certauth "
                  "rogue CA, O=certauth is an intermediate CA, its certificate must be given as a known intermediate" +
                  openssl_words(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 0));
    }
    SECTION("self-signed") {
        const auto s = verify(store, "rogue-ca.crt");
        CHECK(s.problem == certauth::x509::ChainProblem::untrusted);
        CHECK(s.detail == "CN=certauth rogue CA, O=certauth is self-signed and not a trusted CA; " + trusted +
                              openssl_words(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0));
    }
    SECTION("expired, with the number of days") {
        const auto s = verify(store, "expired.crt", utc(2025, 12, 7));
        CHECK(s.problem == certauth::x509::ChainProblem::expired);
        CHECK(s.detail == "CN=expired (issued by CN=certauth test CA, O=certauth) expired 2021-01-01T00:00:00Z, "
                          "1801 days before the time of the check (2025-12-07T00:00:00Z); it is valid from "
                          "2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z" +
                              openssl_words(X509_V_ERR_CERT_HAS_EXPIRED, 0));
    }
    SECTION("not yet valid") {
        const auto s = verify(store, "notyet.crt", utc(2059, 12, 31));
        CHECK(s.problem == certauth::x509::ChainProblem::not_yet_valid);
        CHECK(s.detail ==
              "CN=notyet (issued by CN=certauth test CA, O=certauth) is not valid before "
              "2090-01-01T00:00:00Z, 10959 days after the time of the check (2059-12-31T00:00:00Z); it is valid "
              "from 2090-01-01T00:00:00Z to 2099-01-01T00:00:00Z" +
                  openssl_words(X509_V_ERR_CERT_NOT_YET_VALID, 0));
    }
    SECTION("revoked") {
        const auto s = verify(store, "revoked.crt");
        CHECK(s.problem == certauth::x509::ChainProblem::revoked);
        const std::string serial = chain_of("revoked.crt")[0].facts().serial;
        CHECK(s.detail == "CN=revoked (serial " + serial +
                              ") is revoked by the CRL of CN=certauth test CA, O=certauth (revoked "
                              "2020-01-01T00:00:00Z)" +
                              openssl_words(X509_V_ERR_CERT_REVOKED, 0));
    }
    SECTION("wrong usage") {
        const auto s = verify(store, "serveronly.crt");
        CHECK(s.problem == certauth::x509::ChainProblem::wrong_usage);
        CHECK(s.error == X509_V_ERR_INVALID_PURPOSE);
        CHECK(s.detail == "CN=serveronly (issued by CN=certauth test CA, O=certauth) is not valid for TLS client "
                          "authentication: its extendedKeyUsage allows serverAuth but not clientAuth; TLS client "
                          "authentication needs clientAuth (or no extendedKeyUsage)" +
                              openssl_words(X509_V_ERR_INVALID_PURPOSE, 0));
    }
    SECTION("a verified chain names its path") {
        const auto s = verify(store, "carol-chain.pem");
        CHECK(s.verified());
        CHECK(s.detail == "verified chain: CN=carol <- CN=certauth test intermediate CA, O=certauth <- CN=certauth "
                          "test CA, O=certauth (trusted)");
    }
}

TEST_CASE("an intermediate CA without keyCertSign: the detail says so, not \"no basicConstraints\"", "[x509]") {
    // OpenSSL reports X509_V_ERR_INVALID_CA both for a CA without CA:TRUE and
    // for a CA:TRUE certificate whose keyUsage lacks keyCertSign; the detail
    // said "not a CA (no basicConstraints CA:TRUE)" for both.
    const certauth::test::TempDir dir;
    dir.write("ext.cnf", "[nosign]\nbasicConstraints=critical,CA:TRUE\n"
                         "keyUsage=digitalSignature,cRLSign\n"
                         "[notca]\nbasicConstraints=critical,CA:FALSE\n"
                         "[leaf]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
    const auto openssl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "openssl");
        certauth::test::RunOptions options;
        options.cwd = dir.path.string();
        const auto r = certauth::test::run(args, options);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    };
    const auto issue = [&](const std::string& name, const std::string& section, const std::string& ca,
                           const std::string& ca_key) {
        openssl({"req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-subj", "/CN=" + name,
                 "-out", name + ".csr"});
        openssl({"x509", "-req", "-in", name + ".csr", "-CA", ca, "-CAkey", ca_key, "-set_serial", "7", "-days", "30",
                 "-extfile", "ext.cnf", "-extensions", section, "-out", name + ".crt"});
    };
    issue("nosign", "nosign", fixture("ca.crt"), fixture("ca.key"));
    issue("undernosign", "leaf", "nosign.crt", "nosign.key");
    issue("notca", "notca", fixture("ca.crt"), fixture("ca.key"));
    issue("undernotca", "leaf", "notca.crt", "notca.key");

    const TrustStore store = must_load_store({"ca.crt"});
    const auto status_of = [&](const std::string& leaf, const std::string& intermediate) {
        auto chain = certauth::x509::parse_chain(certauth::test::read_text((dir.path / leaf).string()) +
                                                     certauth::test::read_text((dir.path / intermediate).string()),
                                                 leaf);
        REQUIRE(chain);
        return store.verify(*chain, Clock::now());
    };
    const ChainStatus nosign = status_of("undernosign.crt", "nosign.crt");
    CHECK(nosign.problem == certauth::x509::ChainProblem::untrusted);
    CHECK(nosign.error == X509_V_ERR_INVALID_CA);
    CHECK_THAT(nosign.detail, Catch::Matchers::ContainsSubstring("CA certificate CN=nosign (depth 1") &&
                                  Catch::Matchers::ContainsSubstring("keyUsage lacks keyCertSign") &&
                                  !Catch::Matchers::ContainsSubstring("no basicConstraints"));
    const ChainStatus notca = status_of("undernotca.crt", "notca.crt");
    CHECK(notca.error == X509_V_ERR_INVALID_CA);
    CHECK_THAT(notca.detail, Catch::Matchers::ContainsSubstring("is not a CA (no basicConstraints CA:TRUE)"));
}

TEST_CASE("an intermediate must be presented, the trust store does not accept partial chains", "[x509]") {
    const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl"});
    const auto alone = verify(store, "carol.crt");
    CHECK(alone.problem == certauth::x509::ChainProblem::untrusted);
    CHECK(alone.detail == "CN=carol issued by CN=certauth test intermediate CA, O=certauth, which is not a trusted CA; "
                          "trusted: CN=certauth test CA, O=certauth; no intermediate CA certificate was presented with "
                          "it and none is known: if CN=certauth test intermediate CA, O=certauth is an intermediate "
                          "CA, its certificate must be given as a known intermediate" +
                              openssl_words(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 0));

    // A bundle with the intermediate and the root: carol alone verifies.
    const fs::path bundle = fs::temp_directory_path() / ("certauth-bundle-" + std::to_string(::getpid()) + ".pem");
    {
        std::ofstream out(bundle);
        out << std::ifstream(fixture("ca.crt")).rdbuf() << std::ifstream(fixture("sub-ca.crt")).rdbuf();
    }
    TrustConfig config;
    config.ca_files = {bundle};
    auto from_bundle = TrustStore::load(config);
    fs::remove(bundle);
    REQUIRE(from_bundle);
    CHECK(from_bundle->authorities().size() == 2);
    CHECK(from_bundle->verify(chain_of("carol.crt"), Clock::now()).verified());

    // Trusting only the intermediate is not enough: no partial chains.
    const TrustStore sub_only = must_load_store({"sub-ca.crt"});
    const auto partial = verify(sub_only, "carol-chain.pem");
    CHECK(partial.problem == certauth::x509::ChainProblem::untrusted);
    CHECK(partial.depth == 1);
    CHECK_THAT(partial.detail, Catch::Matchers::ContainsSubstring(
                                   "CN=carol: CA certificate CN=certauth test intermediate CA, O=certauth "
                                   "(depth 1) issued by CN=certauth test CA, O=certauth, which is not a "
                                   "trusted CA; trusted: CN=certauth test intermediate CA, O=certauth"));
    CHECK_THAT(partial.detail, Catch::Matchers::ContainsSubstring("partial chains are not accepted"));
}

TEST_CASE("CRL modes: when_loaded skips CAs without a CRL, required demands one for every CA", "[x509]") {
    SECTION("when_loaded: the intermediate has no CRL, carol still verifies") {
        const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl"}, CrlMode::when_loaded);
        CHECK(verify(store, "carol-chain.pem").verified());
        CHECK(verify(store, "revoked.crt").problem == certauth::x509::ChainProblem::revoked);
    }
    SECTION("required with both CRLs: carol verifies") {
        const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl", "sub-ca.crl"}, CrlMode::required);
        CHECK(verify(store, "carol-chain.pem").verified());
        CHECK(verify(store, "joe.crt").verified());
        CHECK(verify(store, "revoked.crt").problem == certauth::x509::ChainProblem::revoked);
    }
    SECTION("required without the intermediate's CRL: untrusted, naming the intermediate") {
        const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl"}, CrlMode::required);
        const auto s = verify(store, "carol-chain.pem");
        CHECK(s.problem == certauth::x509::ChainProblem::untrusted);
        CHECK(s.error == X509_V_ERR_UNABLE_TO_GET_CRL);
        CHECK(s.detail == "CN=carol (issued by CN=certauth test intermediate CA, O=certauth) cannot be checked for "
                          "revocation: no CRL of CN=certauth test intermediate CA, O=certauth is loaded, and a current "
                          "CRL is required for every CA of the chain" +
                              openssl_words(X509_V_ERR_UNABLE_TO_GET_CRL, 0));
        CHECK(verify(store, "joe.crt").verified());
    }
    SECTION("required without the root's CRL: untrusted at depth 1, naming the root") {
        const TrustStore store = must_load_store({"ca.crt"}, {"sub-ca.crl"}, CrlMode::required);
        const auto s = verify(store, "carol-chain.pem");
        CHECK(s.problem == certauth::x509::ChainProblem::untrusted);
        CHECK(s.depth == 1);
        CHECK_THAT(s.detail, Catch::Matchers::ContainsSubstring("no CRL of CN=certauth test CA, O=certauth is loaded"));
    }
    SECTION("required with no CRL at all: nothing verifies") {
        const TrustStore store = must_load_store({"ca.crt"}, {}, CrlMode::required);
        const auto s = verify(store, "joe.crt");
        CHECK(s.problem == certauth::x509::ChainProblem::untrusted);
        CHECK_THAT(s.detail, Catch::Matchers::ContainsSubstring("no CRL of CN=certauth test CA, O=certauth is loaded"));
    }
    SECTION("no CRL and when_loaded: no revocation checking") {
        const TrustStore store = must_load_store({"ca.crt"});
        CHECK(verify(store, "revoked.crt").verified());
    }
}

TEST_CASE("an expired CRL refuses every certificate of its CA (fail closed) and is reported stale", "[x509]") {
    const TrustStore store = must_load_store({"ca.crt"}, {"ca-expired.crl"});
    const auto s = verify(store, "joe.crt", utc(2025, 12, 7));
    CHECK(s.problem == certauth::x509::ChainProblem::untrusted);
    CHECK(s.error == X509_V_ERR_CRL_HAS_EXPIRED);
    CHECK(s.detail == "CN=joe (issued by CN=certauth test CA, O=certauth) cannot be checked for revocation: the CRL of "
                      "CN=certauth test CA, O=certauth (" +
                          fixture("ca-expired.crl") +
                          ") expired 2001-01-01T00:00:00Z (its nextUpdate), before the time of the check "
                          "(2025-12-07T00:00:00Z); an expired CRL is refused, not ignored: renew it (openssl ca "
                          "-gencrl) and reload" +
                          openssl_words(X509_V_ERR_CRL_HAS_EXPIRED, 0));
    CHECK(verify(store, "carol-chain.pem").problem ==
          certauth::x509::ChainProblem::untrusted); // the intermediate is checked against it
    CHECK(verify(store, "rogue.crt").problem == certauth::x509::ChainProblem::untrusted);

    const auto stale = store.stale_crls(utc(2025, 12, 7));
    REQUIRE(stale.size() == 1);
    CHECK(stale[0] == fixture("ca-expired.crl") +
                          ": expired 2001-01-01T00:00:00Z (next update), CRL of CN=certauth test CA, O=certauth; "
                          "certificates it covers are refused until it is renewed");
    CHECK(store.stale_crls(utc(2000, 6, 1)).empty());

    // A current CRL of the same CA loaded beside it wins.
    const TrustStore both = must_load_store({"ca.crt"}, {"ca-expired.crl", "ca.crl"});
    CHECK(verify(both, "joe.crt").verified());
    CHECK(verify(both, "revoked.crt").problem == certauth::x509::ChainProblem::revoked);
}

TEST_CASE("verification at a given time (check --at)", "[x509]") {
    const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl"});
    CHECK(verify(store, "expired.crt", utc(2020, 6, 1)).verified());
    CHECK(verify(store, "expired.crt", utc(2021, 1, 2)).problem == certauth::x509::ChainProblem::expired);
    CHECK(verify(store, "notyet.crt", utc(2059, 12, 31)).problem == certauth::x509::ChainProblem::not_yet_valid);

    const auto early = verify(store, "joe.crt", utc(2019, 1, 1));
    CHECK(early.problem == certauth::x509::ChainProblem::not_yet_valid);
    CHECK_THAT(early.detail,
               Catch::Matchers::StartsWith("CN=joe (issued by CN=certauth test CA, O=certauth) is not valid before "
                                           "2020-01-01T00:00:00Z, 365 days after the time of the check"));

    // notyet's window (2090-2099) lies past the CAs' notAfter (2060): at 2095
    // the root has expired, and the detail names it at depth 1.
    const TrustStore no_crl = must_load_store({"ca.crt"});
    const auto late = verify(no_crl, "notyet.crt", utc(2095, 1, 1));
    CHECK(late.problem == certauth::x509::ChainProblem::expired);
    CHECK(late.depth == 1);
    CHECK_THAT(late.detail,
               Catch::Matchers::StartsWith("CN=notyet: CA certificate CN=certauth test CA, O=certauth (depth 1, "
                                           "issued by CN=certauth test CA, O=certauth) expired 2060-01-01T00:00:00Z"));
    // With the CRL loaded, its nextUpdate (2060) has passed as well.
    CHECK(verify(store, "notyet.crt", utc(2095, 1, 1)).error == X509_V_ERR_CRL_HAS_EXPIRED);
}

TEST_CASE("a verified chain says until when its verification holds (valid_until)", "[x509]") {
    using namespace std::chrono_literals;
    const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl"});
    // The earliest notAfter in the chain: the leaf's (the CA and the CRL
    // last until 2060).
    const ChainStatus then = verify(store, "expired.crt", utc(2020, 6, 1));
    REQUIRE(then.verified());
    CHECK(then.valid_until == utc(2021, 1, 1));
    const ChainStatus joe = verify(store, "joe.crt");
    REQUIRE(joe.verified());
    CHECK(joe.valid_until == utc(2050, 1, 1) - 1s);
    // A denial promises nothing.
    CHECK(verify(store, "rogue.crt").valid_until == Clock::time_point::max());

    // A CRL's nextUpdate ahead, then another CRL's lastUpdate ahead (it
    // becomes the current one then), come first.
    certauth::test::TempDir dir;
    const auto now = std::chrono::floor<std::chrono::seconds>(Clock::now());
    TrustConfig config;
    config.ca_files.push_back(fixture("ca.crt"));
    config.crl_files.push_back(dir.write("year.crl", certauth::test::ca_crl(now - 1h, now + 24h * 365)));
    auto year = TrustStore::load(config);
    REQUIRE(year);
    const ChainStatus within_year = year->verify(chain_of("joe.crt"), now);
    REQUIRE(within_year.verified());
    CHECK(within_year.valid_until == now + 24h * 365);
    config.crl_files.push_back(dir.write("next.crl", certauth::test::ca_crl(now + 24h * 30, now + 24h * 400)));
    auto with_next = TrustStore::load(config);
    REQUIRE(with_next);
    const ChainStatus before_next = with_next->verify(chain_of("joe.crt"), now);
    REQUIRE(before_next.verified());
    CHECK(before_next.valid_until == now + 24h * 30);
}

TEST_CASE("verify for the TLS handshake: borrowed leaf and a stack with or without it", "[x509]") {
    const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl"});
    const Chain carol = chain_of("carol-chain.pem");
    X509* leaf = carol[0].native();
    X509* sub = carol[1].native();

    const certauth::x509::X509StackView with_leaf(sk_X509_new_null());
    sk_X509_push(with_leaf.get(), leaf);
    sk_X509_push(with_leaf.get(), sub);
    CHECK(store.verify(leaf, with_leaf.get(), Clock::now()).verified());

    const certauth::x509::X509StackView without_leaf(sk_X509_new_null());
    sk_X509_push(without_leaf.get(), sub);
    CHECK(store.verify(leaf, without_leaf.get(), Clock::now()).verified());

    CHECK(store.verify(leaf, nullptr, Clock::now()).problem == certauth::x509::ChainProblem::untrusted);
    const auto none = store.verify(nullptr, nullptr, Clock::now());
    CHECK(none.problem == certauth::x509::ChainProblem::no_certificate);
    CHECK(store.verify(Chain{}, Clock::now()).problem == certauth::x509::ChainProblem::no_certificate);

    // A depth limit of 0 intermediates refuses carol's chain.
    TrustConfig config;
    config.ca_files = {fixture("ca.crt")};
    config.max_depth = 0;
    auto shallow = TrustStore::load(config);
    REQUIRE(shallow);
    const auto too_deep = shallow->verify(carol, Clock::now());
    CHECK(too_deep.problem == certauth::x509::ChainProblem::untrusted);
    CHECK(too_deep.error == X509_V_ERR_CERT_CHAIN_TOO_LONG);
    CHECK_THAT(too_deep.detail,
               Catch::Matchers::ContainsSubstring("the chain is longer than allowed (at most 0 intermediate CAs"));
    CHECK(shallow->verify(chain_of("joe.crt"), Clock::now()).verified());
}

TEST_CASE("verify is safe to call from several threads at once", "[x509]") {
    const TrustStore store = must_load_store({"ca.crt"}, {"ca.crl", "sub-ca.crl"}, CrlMode::required);
    const Chain carol = chain_of("carol-chain.pem");
    const Chain revoked = chain_of("revoked.crt");
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                if (!store.verify(carol, Clock::now()).verified()) ++wrong;
                if (store.verify(revoked, Clock::now()).problem != certauth::x509::ChainProblem::revoked) ++wrong;
            }
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(wrong == 0);
}

TEST_CASE("known intermediates: a root among them is refused, and an issuer none of them is is named", "[x509]") {
    TrustConfig config;
    config.ca_files = {fixture("ca.crt")};
    config.intermediate_files = {fixture("rogue-ca.crt")};
    auto refused = TrustStore::load(config);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().setting == "intermediate_files");
    CHECK(refused.error().message == fixture("rogue-ca.crt") +
                                         ": certificate 1 (CN=certauth rogue CA, O=certauth) is self-signed, a root "
                                         "CA: a root belongs among the trusted CAs, not the intermediates");

    config.intermediate_files = {fixture("sub-ca.crt")};
    auto store = TrustStore::load(config);
    REQUIRE(store);
    const auto s = verify(*store, "rogue.crt");
    CHECK(s.problem == certauth::x509::ChainProblem::untrusted);
    CHECK_THAT(s.detail, Catch::Matchers::ContainsSubstring(
                             "; no intermediate CA certificate was presented with it and none of the 1 known "
                             "intermediates is CN=certauth rogue CA, O=certauth"));
}
