#pragma once
// The server's TLS context (docs/security.md): TLS 1.2 minimum, 1.3 preferred,
// Mozilla "intermediate" ciphers for 1.2, no renegotiation, no compression,
// resumption from a bounded server-side session cache (no stateless tickets),
// client certificates requested with the trusted CAs named, and verification
// through the certauth TrustStore in a certificate-verify callback.
// Plain OpenSSL: no Asio here.

#include <certauth/result.hpp>
#include <certauth/x509/ossl.hpp>
#include <certauth/x509/trust_store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace certauth::server {

enum class ClientCertMode {
    request, // ask for a certificate; every handshake completes, the application answers 401
    require, // refuse at the handshake: no certificate, or one that does not verify
};

struct TlsSettings {
    std::string cert_file; // server certificate chain, PEM: leaf first, then intermediates
    std::string key_file;  // its private key, PEM, unencrypted
    ClientCertMode client_cert = ClientCertMode::request;
    // Sessions kept for resumption (0: none). Each holds the client's decoded
    // certificate, ~6.5 KiB with RSA-2048: 1024 cost ~6.5 MiB.
    std::size_t session_cache_size = 1024;
    std::chrono::seconds session_timeout{300}; // lifetime of a cached session
};

// What the certificate-verify callback records for one handshake. The
// session points the SSL object's ex_data at one of these before the
// handshake (attach_verification); the callback fills `status`.
struct HandshakeVerification {
    const x509::TrustStore* trust = nullptr;
    std::uint64_t generation = 0;            // of the configuration `trust` belongs to
    std::optional<x509::ChainStatus> status; // set when the callback ran (full handshake with a certificate)
};

class TlsContext {
  public:
    // Builds the context; errors name the files (unreadable, no certificate,
    // key encrypted, key not matching the certificate, ...).
    static Result<TlsContext> create(const TlsSettings& settings, const x509::TrustStore& trust);

    SSL_CTX* native() const noexcept { return m_ctx.get(); } // borrowed

    // "CN=localhost, RSA 2048, expires 2054-01-01" for the start-up line.
    const std::string& description() const noexcept { return m_description; }
    const std::string& warning() const noexcept { return m_warning; } // e.g. server certificate expired; "" when none

  private:
    TlsContext() = default;
    x509::Ptr<SSL_CTX> m_ctx;
    std::string m_description;
    std::string m_warning;
};

// Points `ssl`'s ex_data at `verification` (which must outlive the handshake).
void attach_verification(SSL* ssl, HandshakeVerification* verification) noexcept;

// A TLS 1.3 session a full handshake verified carries that verification
// into the server's session cache (and into the sessions resumed from it).
// Returns it for a resumed connection while it still holds: the same
// configuration generation, and `now` between the verification and its
// ChainStatus::valid_until. Otherwise nullopt: verify the chain again.
std::optional<x509::ChainStatus> resumed_verification(SSL* ssl, std::uint64_t generation,
                                                      std::chrono::system_clock::time_point now);

} // namespace certauth::server
