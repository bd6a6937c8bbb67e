#pragma once
// TrustStore: the CAs trusted for client certificates, the CRLs, the known
// intermediate CAs (used to complete a chain a client sent without them,
// never trusted as anchors), and verification of a chain at a given time
// with OpenSSL's X509_verify_cert, the TLS-client purpose, a depth limit and
// no partial chains. Immutable once loaded; safe to share between threads;
// move-only.

#include <certauth/result.hpp>
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/ossl.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace certauth::x509 {

// What kind of problem ended a chain's verification (policy maps each to
// its reason code).
enum class ChainProblem {
    none,           // verified
    no_certificate, // nothing to verify
    untrusted,      // no path to a trusted CA (issuer unknown, bad signature, weak crypto, CRL missing or stale, ...)
    expired,        // a certificate of the chain is past its notAfter
    not_yet_valid,  // a certificate of the chain is before its notBefore
    revoked,        // a certificate of the chain is on a loaded CRL
    wrong_usage,    // not for TLS client authentication (extendedKeyUsage, keyUsage)
};

// What verification of one chain concluded.
struct ChainStatus {
    ChainProblem problem = ChainProblem::untrusted;
    int error = 0;      // OpenSSL X509_V_ERR_*; 0 when verified
    int depth = -1;     // depth of the certificate that failed (0 = leaf); -1 when verified
    std::string detail; // for a person: which certificate, what failed, what would be accepted
    // For a verified chain: the first moment the same verification could
    // conclude otherwise as time moves on - the earliest notAfter in the
    // chain, or the earliest thisUpdate or nextUpdate of a loaded CRL still
    // ahead of the time of verification. max() otherwise.
    std::chrono::system_clock::time_point valid_until = std::chrono::system_clock::time_point::max();

    bool verified() const noexcept { return problem == ChainProblem::none; }
};

enum class CrlMode {
    when_loaded, // a CA with a loaded CRL is revocation-checked; a CA without one is not
    required,    // every CA of a chain must have a current CRL (else untrusted)
};

struct TrustConfig {
    std::vector<std::filesystem::path> ca_files;  // PEM files or bundles (one or more CAs each)
    std::vector<std::filesystem::path> crl_files; // PEM or DER CRLs
    // Intermediate CA certificates a chain may be completed with when the
    // client (or a proxy that passes on its leaf only) does not send them:
    // untrusted, as if the client had sent them; never anchors.
    std::vector<std::filesystem::path> intermediate_files;
    CrlMode crl_mode = CrlMode::when_loaded;
    int max_depth = 8; // intermediates allowed between leaf and root
    // OpenSSL's security level for the chain (0-5, as SSL_CTX_set_security_level):
    // the least security, in bits, of every key and of every signature but
    // the root's self-signature - 1: 80, 2: 112 (RSA 2048, SHA-256),
    // 3: 128, 4: 192, 5: 256; 0 checks nothing. 2 refuses MD5 and SHA-1
    // signatures and RSA keys under 2048 bits, as OpenSSL's TLS does by default.
    int security_level = 2;
};

// A loaded CRL as an operator sees it (serve's /status and metrics).
struct CrlInfo {
    std::string issuer; // "CN=certauth test CA, O=certauth"
    std::string origin; // the file it came from
    std::chrono::system_clock::time_point last_update;
    std::optional<std::chrono::system_clock::time_point> next_update; // none: the CRL names no next update
};

class TrustStore {
  public:
    // Loads every file; any unreadable file, a CA file with no certificate in
    // it, an unparseable CRL, or an intermediate file holding a certificate
    // that is not an intermediate CA is an error naming the file.
    static Result<TrustStore> load(const TrustConfig& config);

    // Verifies `chain` (leaf first; further certificates, and the known
    // intermediates, are untrusted intermediates) at time `at`.
    // Deterministic: the first failure decides.
    ChainStatus verify(const Chain& chain, std::chrono::system_clock::time_point at) const;
    // The same for borrowed OpenSSL objects (the TLS handshake's leaf and
    // untrusted chain, which may or may not include the leaf).
    ChainStatus verify(X509* leaf, STACK_OF(X509) * untrusted, std::chrono::system_clock::time_point at) const;

    const Chain& authorities() const noexcept { return m_authorities; }     // the trusted CAs, in load order
    const Chain& intermediates() const noexcept { return m_intermediates; } // the known intermediates, in load order
    std::size_t crl_count() const noexcept { return m_crl_count; }
    std::vector<CrlInfo> crls() const; // in load order
    const TrustConfig& config() const noexcept { return m_config; }
    // Loaded CRLs whose nextUpdate is before `at`, as messages for a log
    // ("ca.crl: expired 2025-01-01 (next update), CRL of CN=certauth test CA").
    std::vector<std::string> stale_crls(std::chrono::system_clock::time_point at) const;

    X509_STORE* native() const noexcept { return m_store.get(); } // borrowed

  private:
    TrustStore() = default;
    Ptr<X509_STORE> m_store;
    Chain m_authorities;
    Chain m_intermediates;
    std::vector<Ptr<X509_CRL>> m_crls;
    std::vector<std::string> m_crl_origins; // the file of each CRL, for messages
    std::size_t m_crl_count = 0;
    TrustConfig m_config;
};

} // namespace certauth::x509
