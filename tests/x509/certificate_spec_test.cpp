// Making keys, certificates, CRLs and PKCS#12 files: what is asked for is
// what the certificate holds, read back through certauth's own parser, the
// trust store and OpenSSL's.
#include <certauth/x509/certificate_spec.hpp>

#include <certauth/x509/certificate.hpp>
#include <certauth/x509/crl_spec.hpp>
#include <certauth/x509/encoding.hpp>
#include <certauth/x509/key.hpp>
#include <certauth/x509/pkcs12.hpp>
#include <certauth/x509/trust_store.hpp>

#include "support/files.hpp"
#include "support/utc.hpp"

#include "support/catch.hpp"
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <openssl/pkcs12.h>

using namespace certauth;
using namespace certauth::x509;

using certauth::test::utc;
using Clock = std::chrono::system_clock;

namespace {

struct Made {
    Ptr<EVP_PKEY> key;
    Ptr<X509> cert;
};

Ptr<EVP_PKEY> new_key(KeyType type) {
    auto key = generate_key(type);
    REQUIRE(key);
    return std::move(*key);
}

CertificateSpec ca_spec(const std::string& cn) {
    CertificateSpec spec;
    spec.subject.entries = {{"O", "certauth"}, {"CN", cn}};
    spec.serial = "1000";
    spec.not_before = utc(2000, 1, 1);
    spec.not_after = utc(2060, 1, 1);
    spec.ca = true;
    spec.key_usage = KeyUsage{false, false, true, true};
    return spec;
}

Made root(KeyType type = KeyType::p256) {
    Made ca;
    ca.key = new_key(type);
    auto cert = make_self_signed(ca_spec("test root"), ca.key.get());
    INFO((cert ? "" : cert.error().message));
    REQUIRE(cert);
    ca.cert = std::move(*cert);
    return ca;
}

CertificateSpec client_spec(const std::string& cn) {
    CertificateSpec spec;
    spec.subject.entries = {{"CN", cn}};
    spec.serial = "1004";
    spec.not_before = utc(2020, 1, 1);
    spec.not_after = utc(2049, 12, 31);
    spec.key_usage = KeyUsage{true, false, false, false};
    spec.extended_key_usage = {"clientAuth"};
    return spec;
}

Certificate issue(const Made& ca, const CertificateSpec& spec, EVP_PKEY* key) {
    auto cert = make_certificate(spec, key, {ca.cert.get(), ca.key.get()});
    INFO((cert ? "" : cert.error().message));
    REQUIRE(cert);
    return Certificate(std::move(*cert));
}

TrustStore store_of(const Made& ca, const std::vector<std::string>& crls = {}) {
    test::TempDir dir;
    TrustConfig config;
    config.ca_files = {dir.write("ca.crt", to_pem(ca.cert.get()))};
    for (std::size_t i = 0; i < crls.size(); ++i)
        config.crl_files.push_back(dir.write("crl" + std::to_string(i) + ".pem", crls[i]));
    auto store = TrustStore::load(config);
    INFO((store ? "" : store.error().message));
    REQUIRE(store);
    return std::move(*store);
}

} // namespace

TEST_CASE("keys: every kind is generated, recognised and written as PKCS#8 PEM", "[x509]") {
    for (KeyType type : {KeyType::rsa2048, KeyType::p256, KeyType::p384, KeyType::ed25519}) {
        INFO(to_string(type));
        const auto key = new_key(type);
        CHECK(key_type_of(key.get()) == type);
        CHECK(parse_key_type(to_string(type)) == type);
        const std::string pem = private_key_pem(key.get());
        CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
        test::TempDir dir;
        const auto back = load_private_key(dir.write("k.pem", pem));
        REQUIRE(back);
        CHECK(EVP_PKEY_eq(back->get(), key.get()) == 1);
    }
    CHECK_FALSE(parse_key_type("rsa4096"));
    test::TempDir dir;
    const std::string not_a_key = dir.write("cert.pem", "hello\n");
    const auto none = load_private_key(not_a_key);
    REQUIRE_FALSE(none);
    CHECK(none.error().message.rfind(not_a_key + ": no PEM private key found", 0) == 0);
}

TEST_CASE("make_certificate: subject, serial, dates, SANs and usages are what the spec says", "[x509]") {
    const Made ca = root();
    const auto key = new_key(KeyType::ed25519);
    CertificateSpec spec = client_spec("alice");
    spec.subject.entries = {{"O", "Example"}, {"OU", "a"}, {"OU", "b"}, {"CN", "alice"}};
    spec.serial = "7F0123456789ABCDEF0123456789ABCDEF012345";
    spec.not_before = utc(2030, 1, 1);
    spec.not_after = utc(2070, 1, 1);
    spec.extended_key_usage = {"clientAuth", "emailProtection"};
    for (const char* text :
         {"dns:a.example.org", "IP:192.0.2.1", "ip:2001:db8::1", "uri:spiffe://x/y", "email:a@x.org"}) {
        auto alt = parse_alt_name(text);
        REQUIRE(alt);
        spec.alt_names.push_back(*alt);
    }
    const Certificate cert = issue(ca, spec, key.get());
    const CertFacts facts = cert.facts();
    CHECK(facts.subject.values("OU") == std::vector<std::string>{"a", "b"});
    CHECK(facts.cn() == "alice");
    CHECK(facts.issuer_cn() == "test root");
    CHECK(facts.serial == "7F0123456789ABCDEF0123456789ABCDEF012345");
    CHECK(facts.not_before == utc(2030, 1, 1));
    CHECK(facts.not_after == utc(2070, 1, 1));
    CHECK(facts.san_dns == std::vector<std::string>{"a.example.org"});
    CHECK(facts.san_ip == std::vector<std::string>{"192.0.2.1", "2001:db8::1"});
    CHECK(facts.san_uri == std::vector<std::string>{"spiffe://x/y"});
    CHECK(facts.san_email == std::vector<std::string>{"a@x.org"});
    CHECK(cert.key_description() == "Ed25519");
    // UTCTime before 2050, GeneralizedTime after (RFC 5280).
    CHECK(ASN1_STRING_type(X509_get0_notBefore(cert.native())) == V_ASN1_UTCTIME);
    CHECK(ASN1_STRING_type(X509_get0_notAfter(cert.native())) == V_ASN1_GENERALIZEDTIME);
    const auto node = cert.node_object();
    CHECK(node.at("ext_key_usage") == nlohmann::ordered_json::array({"1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.4"}));
    // The issuer's key signed it, and SKI/AKI link the two.
    CHECK(X509_verify(cert.native(), X509_get0_pubkey(ca.cert.get())) == 1);
    CHECK(X509_check_issued(ca.cert.get(), cert.native()) == X509_V_OK);
    CHECK(X509_get_ext_by_NID(cert.native(), NID_authority_key_identifier, -1) >= 0);
    CHECK(X509_get_ext_by_NID(ca.cert.get(), NID_authority_key_identifier, -1) < 0); // self-signed: none
}

TEST_CASE("make_certificate: verified by the trust store for the TLS-client purpose, or refused as it should be",
          "[x509]") {
    const Made ca = root(KeyType::rsa2048);
    const auto key = new_key(KeyType::p256);
    const TrustStore store = store_of(ca);
    const auto at = utc(2025, 6, 1);
    CHECK(store.verify({issue(ca, client_spec("ok"), key.get())}, at).problem == certauth::x509::ChainProblem::none);

    CertificateSpec server = client_spec("server");
    server.extended_key_usage = {"serverAuth"};
    CHECK(store.verify({issue(ca, server, key.get())}, at).problem == certauth::x509::ChainProblem::wrong_usage);

    CertificateSpec old = client_spec("old");
    old.not_after = utc(2021, 1, 1);
    CHECK(store.verify({issue(ca, old, key.get())}, at).problem == certauth::x509::ChainProblem::expired);

    CertificateSpec later = client_spec("later");
    later.not_before = utc(2090, 1, 1);
    later.not_after = utc(2099, 1, 1);
    CHECK(store.verify({issue(ca, later, key.get())}, at).problem == certauth::x509::ChainProblem::not_yet_valid);

    // Random serials: 16 bytes, different each time.
    CertificateSpec random = client_spec("random");
    random.serial.clear();
    const std::string a = issue(ca, random, key.get()).facts().serial;
    const std::string b = issue(ca, random, key.get()).facts().serial;
    CHECK(a.size() == 32);
    CHECK(a != b);
}

TEST_CASE("make_certificate: errors say which field is wrong", "[x509]") {
    const Made ca = root();
    const auto key = new_key(KeyType::p256);
    const Issuer issuer{ca.cert.get(), ca.key.get()};
    auto error_of = [&](const CertificateSpec& spec) {
        auto r = make_certificate(spec, key.get(), issuer);
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CertificateSpec backwards = client_spec("x");
    backwards.not_after = utc(2019, 1, 1);
    CHECK(error_of(backwards) == "notAfter 2019-01-01T00:00:00Z is before notBefore 2020-01-01T00:00:00Z");
    CertificateSpec bad_serial = client_spec("x");
    bad_serial.serial = "xyz";
    CHECK(error_of(bad_serial) == "serial \"xyz\": expected 1 to 40 hex digits");
    CertificateSpec bad_usage = client_spec("x");
    bad_usage.extended_key_usage = {"clientAuthh"};
    CHECK(error_of(bad_usage).find("extended key usage \"clientAuthh\": not a known usage or OID; known: clientAuth, "
                                   "serverAuth") == 0);
    CertificateSpec empty = client_spec("x");
    empty.subject.entries.clear();
    CHECK(error_of(empty) == "the subject is empty");

    CHECK(parse_alt_name("ip:999.1.1.1").error().message ==
          "subject alternative name \"ip:999.1.1.1\": not an IP address");
    CHECK(parse_alt_name("host:x").error().message.find("expected KIND:VALUE with KIND dns, ip, uri or email") !=
          std::string::npos);
    CHECK(parse_alt_name("dns:").error().message == "subject alternative name \"dns:\": the value is empty");
    CHECK(alt_name_for_host("::1").kind == AltName::Kind::ip);
    CHECK(alt_name_for_host("localhost").kind == AltName::Kind::dns);
}

TEST_CASE("make_crl: a current CRL revokes, an expired one is reported as such", "[x509]") {
    const Made ca = root();
    const auto key = new_key(KeyType::p256);
    const Certificate revoked = issue(ca, client_spec("revoked"), key.get());
    CertificateSpec other_spec = client_spec("other");
    other_spec.serial = "1005";
    const Certificate other = issue(ca, other_spec, key.get());

    CrlSpec current{utc(2000, 1, 1), utc(2060, 1, 1), 2, {{revoked.facts().serial, utc(2020, 1, 1)}}};
    auto crl = make_crl(current, {ca.cert.get(), ca.key.get()});
    REQUIRE(crl);
    CHECK(X509_CRL_verify(crl->get(), X509_get0_pubkey(ca.cert.get())) == 1);
    CHECK(X509_CRL_get_ext_by_NID(crl->get(), NID_crl_number, -1) >= 0);
    const TrustStore store = store_of(ca, {to_pem(crl->get())});
    const auto at = utc(2025, 6, 1);
    CHECK(store.verify({revoked}, at).problem == certauth::x509::ChainProblem::revoked);
    CHECK(store.verify({other}, at).problem == certauth::x509::ChainProblem::none);

    CrlSpec stale = current;
    stale.next_update = utc(2001, 1, 1);
    auto expired = make_crl(stale, {ca.cert.get(), ca.key.get()});
    REQUIRE(expired);
    CHECK_FALSE(store_of(ca, {to_pem(expired->get())}).stale_crls(at).empty());
    // DER and PEM are the same CRL.
    const std::string der = to_der(crl->get());
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    const Ptr<X509_CRL> back(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    REQUIRE(back);
    CHECK(X509_CRL_cmp(back.get(), crl->get()) == 0);
}

TEST_CASE("make_pkcs12: opens with its password and holds the certificate, key and intermediates", "[x509]") {
    const Made ca = root();
    const auto key = new_key(KeyType::p256);
    const Certificate leaf = issue(ca, client_spec("joe"), key.get());
    auto p12 = make_pkcs12(leaf.native(), key.get(), {ca.cert.get()}, "joe", "secret");
    REQUIRE(p12);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(p12->data());
    const Ptr<PKCS12> parsed(d2i_PKCS12(nullptr, &p, static_cast<long>(p12->size())));
    REQUIRE(parsed);
    CHECK(PKCS12_verify_mac(parsed.get(), "wrong", -1) == 0);
    EVP_PKEY* raw_key = nullptr;
    X509* raw_cert = nullptr;
    STACK_OF(X509)* raw_chain = nullptr;
    REQUIRE(PKCS12_parse(parsed.get(), "secret", &raw_key, &raw_cert, &raw_chain) == 1);
    const Ptr<EVP_PKEY> got_key(raw_key);
    const Ptr<X509> got_cert(raw_cert);
    const X509Stack got_chain(raw_chain);
    CHECK(EVP_PKEY_eq(got_key.get(), key.get()) == 1);
    CHECK(X509_cmp(got_cert.get(), leaf.native()) == 0);
    REQUIRE(sk_X509_num(got_chain.get()) == 1);
    CHECK(X509_cmp(sk_X509_value(got_chain.get(), 0), ca.cert.get()) == 0);
}
