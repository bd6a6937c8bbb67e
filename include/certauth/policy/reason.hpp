#pragma once
// The stable reason codes of a decision (docs/decisions.md). They appear in
// HTTP bodies, check output, logs, metrics labels and probe reports, always
// as to_string(). What HTTP status answers each is the server's
// (server::http_status).

#include <string_view>

namespace certauth::policy {

enum class Reason {
    ok,             // not a denial: verified / authorised
    no_certificate, // no client certificate (also plain HTTP on the TLS port)
    untrusted,      // chain does not lead to a trusted CA
    expired,        // a certificate of the chain is past notAfter at T
    not_yet_valid,  // a certificate of the chain is before notBefore at T
    revoked,        // a certificate of the chain is on a loaded CRL
    wrong_usage,    // not valid for TLS client authentication
    unknown_user,   // verified, but the identity is not in the user list
    forbidden,      // known user without a role the route requires
    malformed,      // no parseable certificate: a file (check) or a trusted proxy's header (serve)
    // (serve) a request on a trusted listener (--listen-trusted) from a peer
    // outside --trusted-proxy: not a decision about a certificate at all.
    untrusted_proxy,
};

// "ok", "no_certificate", ...
std::string_view to_string(Reason reason) noexcept;

} // namespace certauth::policy
