#pragma once
// Making certificates: CertificateSpec says what a certificate holds (subject,
// serial, validity, extensions); make_certificate() builds and signs it.

#include <certauth/result.hpp>
#include <certauth/x509/facts.hpp>
#include <certauth/x509/ossl.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::x509 {

// One subjectAltName entry.
struct AltName {
    enum class Kind { dns, ip, uri, email };
    Kind kind = Kind::dns;
    std::string value; // "localhost", "127.0.0.1", "::1", "spiffe://...", "joe@example.org"
};

// "dns:x", "ip:y", "uri:z", "email:w" (the kind in any case); errors say what
// is accepted. An IP address must be one.
Result<AltName> parse_alt_name(std::string_view text);
// An IP address literal becomes an ip entry, anything else a dns entry.
AltName alt_name_for_host(std::string_view host);

struct KeyUsage {
    bool digital_signature = false;
    bool key_encipherment = false;
    bool key_cert_sign = false;
    bool crl_sign = false;
};

struct CertificateSpec {
    Name subject;       // in certificate order: {{"O", "certauth"}, {"CN", "certauth test CA"}}
    std::string serial; // hex ("1004"); empty: 16 random bytes
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after; // UTCTime before 2050, GeneralizedTime from 2050 on
    bool ca = false;                                 // basicConstraints (critical) CA:TRUE / CA:FALSE
    std::optional<int> path_length;                  // CA only
    std::optional<KeyUsage> key_usage;               // critical when present
    std::vector<std::string> extended_key_usage;     // "clientAuth", "serverAuth", ... or dotted OIDs; none: absent
    std::vector<AltName> alt_names;                  // none: no subjectAltName
    std::vector<std::string> ocsp_urls;              // authorityInfoAccess OCSP;URI (no commas)
    std::vector<std::string> ca_issuer_urls;         // authorityInfoAccess caIssuers;URI (no commas)
    // subjectKeyIdentifier always; authorityKeyIdentifier (keyid) when not self-signed.
};

// The issuing CA: its certificate and private key.
struct Issuer {
    const X509* cert = nullptr;
    EVP_PKEY* key = nullptr;
};

// The extendedKeyUsage names make_certificate() understands by name.
std::vector<std::string> known_extended_key_usages();

// A certificate for `subject_key` signed by `issuer` (SHA-256, or the key's
// own scheme for Ed25519). Errors say which field is wrong.
Result<Ptr<X509>> make_certificate(const CertificateSpec& spec, EVP_PKEY* subject_key, const Issuer& issuer);
// A self-signed certificate (a root CA) for `key`.
Result<Ptr<X509>> make_self_signed(const CertificateSpec& spec, EVP_PKEY* key);

} // namespace certauth::x509
