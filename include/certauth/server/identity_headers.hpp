#pragma once
// The identity headers certauth sets on a forwarded request and on a 200
// answer, and the names it removes from every request it receives (a client
// must never supply its own). docs/gateway.md lists them for application
// authors.

#include <certauth/policy/decision.hpp>
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/facts.hpp>

#include <string>
#include <string_view>

namespace certauth::server {

// What to send besides the user: --forward-cert adds the certificate itself
// (XFCC Cert and Chain, RFC 9440 Client-Cert and Client-Cert-Chain).
enum class ForwardCert { no, yes };

// The header lines ("Name: value\r\n") naming who a request is from:
//   X-Certauth-User           the user object as compact JSON, ASCII only (\uXXXX)
//   X-Certauth-CN             the certificate's CN (control characters as \XX)
//   X-Certauth-Roles          the user's roles, comma-separated
//   X-Certauth-Fingerprint256 SHA-256 of the certificate, colon-separated hex
//   X-Forwarded-Client-Cert   Envoy's format: Hash, Subject, URI, DNS (Cert, Chain)
//   Client-Cert, Client-Cert-Chain (RFC 9440, with ForwardCert::yes)
// Every header is present, empty when there is no authorised user (a public
// route without one): a proxy that copies a missing header may send its own
// placeholder text instead. `chain` is the client's chain, leaf first (may
// be empty; used with ForwardCert::yes).
std::string identity_headers(const policy::Decision& decision, const x509::CertFacts* leaf, const x509::Chain& chain,
                             ForwardCert forward_cert);

// The same names, every one empty.
std::string empty_identity_headers(ForwardCert forward_cert);

// "X-Certauth-Reason: unknown_user\r\n" for a denial.
std::string reason_header(policy::Reason reason);

// True for a name certauth sets (any X-Certauth-*, X-Forwarded-Client-Cert,
// Client-Cert, Client-Cert-Chain) or one that carries a client certificate
// or its verification in other proxies' conventions (X-Client-Cert*,
// X-SSL-*, X-Forwarded-Tls-Client-Cert*, X-Amzn-Mtls-*, X-ARR-ClientCert),
// case-insensitively: removed from every incoming request whatever certauth
// then does with it.
bool is_identity_header(std::string_view name) noexcept;

} // namespace certauth::server
