#include "handshake_failure.hpp"

#include <certauth/policy/decide.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace certauth::server::detail {

std::string_view to_label(HandshakeFailure failure) noexcept {
    switch (failure) {
    case HandshakeFailure::timeout: return "timeout";
    case HandshakeFailure::closed: return "closed";
    case HandshakeFailure::server_certificate_rejected: return "server_certificate_rejected";
    case HandshakeFailure::protocol: return "protocol";
    case HandshakeFailure::no_certificate: return "no_certificate";
    case HandshakeFailure::untrusted: return "untrusted";
    case HandshakeFailure::expired: return "expired";
    case HandshakeFailure::not_yet_valid: return "not_yet_valid";
    case HandshakeFailure::revoked: return "revoked";
    case HandshakeFailure::wrong_usage: return "wrong_usage";
    }
    return "protocol";
}

HandshakeFailure classify_handshake_failure(unsigned long openssl_error,
                                            const std::optional<x509::ChainStatus>& verification) noexcept {
    // --require-cert refused the client's chain: the reason a request would
    // have been denied with.
    if (verification && !verification->verified()) {
        switch (policy::reason_of(verification->problem)) {
        case policy::Reason::no_certificate: return HandshakeFailure::no_certificate;
        case policy::Reason::expired: return HandshakeFailure::expired;
        case policy::Reason::not_yet_valid: return HandshakeFailure::not_yet_valid;
        case policy::Reason::revoked: return HandshakeFailure::revoked;
        case policy::Reason::wrong_usage: return HandshakeFailure::wrong_usage;
        default: return HandshakeFailure::untrusted;
        }
    }
    if (openssl_error == 0) return HandshakeFailure::closed;
    if (ERR_GET_LIB(openssl_error) != ERR_LIB_SSL) return HandshakeFailure::protocol;
    const int reason = ERR_GET_REASON(openssl_error);
    if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) return HandshakeFailure::no_certificate;
    // An alert from the client: OpenSSL's reason is the alert plus an offset.
    switch (reason - SSL_AD_REASON_OFFSET) {
    case SSL_AD_BAD_CERTIFICATE:
    case SSL_AD_UNSUPPORTED_CERTIFICATE:
    case SSL_AD_CERTIFICATE_REVOKED:
    case SSL_AD_CERTIFICATE_EXPIRED:
    case SSL_AD_CERTIFICATE_UNKNOWN:
    case SSL_AD_UNKNOWN_CA:
    case SSL_AD_BAD_CERTIFICATE_STATUS_RESPONSE: return HandshakeFailure::server_certificate_rejected;
    default: return HandshakeFailure::protocol;
    }
}

} // namespace certauth::server::detail
