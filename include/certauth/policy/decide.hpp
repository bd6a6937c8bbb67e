#pragma once
// The decision pipeline (docs/decisions.md), once, for serve and check alike:
//   1. obtain   - the caller (TLS session or files) provides the chain
//   2. verify   - x509::TrustStore::verify gives a ChainStatus
//   3. identify - CertFacts of the leaf
//   4. authorise- first matching UserList entry
//   5. route    - (serve) the path's required roles
// Pure functions of their inputs: time is passed in, never read here.

#include <certauth/policy/decision.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/facts.hpp>
#include <certauth/x509/trust_store.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace certauth::policy {

// The reason a chain that did not verify is denied with (untrusted for a
// problem verification does not produce: fail closed).
Reason reason_of(x509::ChainProblem problem) noexcept;

// Steps 3-4. `leaf`: nullptr when the client presented no certificate.
// `chain`: nullopt when there is no trust store (check without --ca:
// inspected). `users`: nullptr when no user list is given (authenticated).
// Fails closed: no certificate, an unverified chain, no match -> denied.
Decision decide(const x509::CertFacts* leaf, const std::optional<x509::ChainStatus>& chain, const UserList* users,
                std::chrono::system_clock::time_point now);

// Steps 2-4 for a chain already in hand (check, and serve after resumption):
// verifies with `store` (when given) at `now`, then decide().
Decision evaluate(const x509::Chain& chain, const x509::TrustStore* store, const UserList* users,
                  std::chrono::system_clock::time_point now);

// Step 5. Applies the route rule for `path` to a connection's decision:
//  - a public route allows any connection: verdict public_route, reason ok,
//    `user` kept when the connection was authorised (null otherwise);
//  - a route with roles turns an authorised decision whose user has none of
//    them into denied/forbidden with a detail naming the roles;
//  - otherwise the connection's decision stands.
// `path` is the request target's path, already normalised (normalise_path).
Decision route(const Decision& connection, const UserList* users, std::string_view path);

// Percent-decodes and checks a request target's path for routing: strips
// the query and the last segment's path parameters (from a raw ';':
// ";jsessionid=1"; an encoded %3B is a character); nullopt for anything that
// is not an absolute path or holds "." or ".." segments (also with
// parameters: "..;x"), parameters in any other segment, NUL, a backslash or
// a raw '#' (the server answers those 400).
std::optional<std::string> normalise_path(std::string_view target);

} // namespace certauth::policy
