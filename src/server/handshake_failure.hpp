#pragma once
// Private to src/server: why a TLS handshake failed, in the words of
// certauth_handshake_failures_total{reason}: from OpenSSL's error and what
// the certificate-verify callback recorded. No Asio here.

#include <certauth/x509/trust_store.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace certauth::server::detail {

enum class HandshakeFailure {
    timeout,                     // not done within --handshake-timeout
    closed,                      // the client closed or reset the connection
    server_certificate_rejected, // the client refused certauth's certificate (its alert says so)
    protocol,                    // no common version, cipher or group; a malformed message; another alert
    no_certificate,              // --require-cert: no client certificate
    untrusted,                   // --require-cert: the client's chain was refused for this reason
    expired,
    not_yet_valid,
    revoked,
    wrong_usage,
};
inline constexpr std::size_t k_handshake_failures = 10;

std::string_view to_label(HandshakeFailure failure) noexcept;

// A handshake that ended in Io::failed: `openssl_error` is the first error
// OpenSSL queued (0: none, the connection was closed or reset);
// `verification` what the verify callback recorded (a chain refused under
// --require-cert says why).
HandshakeFailure classify_handshake_failure(unsigned long openssl_error,
                                            const std::optional<x509::ChainStatus>& verification) noexcept;

} // namespace certauth::server::detail
