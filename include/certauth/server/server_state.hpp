#pragma once
// The server's configuration as one immutable value (trust store, user list,
// TLS context, generation), built whole and published by swapping one
// pointer: a reload that fails before the swap leaves the old state in force.
// Also the per-connection decision: verified and decided once per connection
// and configuration generation, never per request.

#include <certauth/policy/decision.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/result.hpp>
#include <certauth/server/access_log.hpp>
#include <certauth/server/identity_headers.hpp>
#include <certauth/server/tls_context.hpp>
#include <certauth/x509/trust_store.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::server {

// What a reload reads from files (the CLI knows how: --ca, --crl, --users).
struct StateInputs {
    x509::TrustStore trust;
    std::optional<policy::UserList> users;
};
using StateLoader = std::function<Result<StateInputs>()>;

struct State {
    x509::TrustStore trust;
    std::optional<policy::UserList> users;
    std::optional<TlsContext> tls; // none when serve has no TLS listener (trusted listeners only)
    std::uint64_t generation = 0;
    std::string summary;               // "1 CA (CN=...), 1 CRL, 7 users, 2 routes, certificate CN=localhost (RSA 2048)"
    std::vector<std::string> warnings; // stale CRLs, expired server certificate, ...

    const policy::UserList* user_list() const noexcept { return users ? &*users : nullptr; }
};

// Builds a State: the TLS context from `tls` (reading the certificate and key
// files; none when tls.cert_file is empty) and the inputs. `now` dates the
// stale-CRL warnings.
Result<std::shared_ptr<const State>> build_state(StateInputs inputs, const TlsSettings& tls, std::uint64_t generation,
                                                 std::chrono::system_clock::time_point now);

// The published state: readers copy the pointer (a short lock, once per
// connection or reload) and check the generation per request without a lock.
class StateHolder {
  public:
    explicit StateHolder(std::shared_ptr<const State> initial);

    std::shared_ptr<const State> current() const;
    void publish(std::shared_ptr<const State> next);
    std::uint64_t generation() const noexcept { return m_generation.load(std::memory_order_acquire); }

  private:
    mutable std::mutex m_mutex;
    std::shared_ptr<const State> m_state;
    std::atomic<std::uint64_t> m_generation;
};

// The first 8 bytes of a certificate's SHA-256 fingerprint, colon-separated
// ("F8:38:B2:63:B4:88:B6:CA"), as the access log shows them; empty without a
// certificate. Inline, not on the heap: every open connection holds one.
class FingerprintPrefix {
  public:
    static constexpr std::size_t k_size = k_logged_fingerprint_size;
    FingerprintPrefix() = default;
    explicit FingerprintPrefix(std::string_view fingerprint256) noexcept
        : m_size(fingerprint256.copy(m_chars.data(), k_size)) {}
    std::string_view view() const noexcept { return {m_chars.data(), m_size}; }

  private:
    std::array<char, k_size> m_chars{};
    std::size_t m_size = 0;
};

// One connection's decision under one state (or, on a trusted listener,
// one certificate header's: header_input.hpp).
// Its implicit moves are noexcept, as nlohmann::json's are; clang-tidy 14 finds a throwing path inside
// json's move (json_value's constructors allocate for other value types), which a move never takes.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct ConnectionDecision {
    policy::Decision decision;
    std::string cn;                // the client certificate's CN ("" without one); logged only when verified
    FingerprintPrefix fingerprint; // of the client certificate, for the access log
    std::string body;              // the JSON body answering this decision on a path without a route
    // The identity headers of an allowed decision (identity_headers.hpp): on
    // its forwarded requests and 200 answers. Empty for a denial.
    std::string identity;
    ForwardCert forward_cert = ForwardCert::no;
    std::uint64_t generation = 0; // of the state that decided
    // Allowed decisions: until the leaf's notAfter or ChainStatus::valid_until.
    std::chrono::system_clock::time_point valid_until = std::chrono::system_clock::time_point::max();
};

// Sets `out.body`, the answer to its decision, at its size: a connection
// holds it (and the identity headers, which identity_headers() returns at
// their size) for its life, so it counts in an idle connection's memory
// (docs/benchmarks.md). Every ConnectionDecision made goes through it.
void finish_texts(ConnectionDecision& out);

// Decides a TLS connection under `state`: `handshake` is what the verify
// callback recorded (nullopt when it did not run: no certificate, or a
// resumed session, whose remembered verification is used while it holds -
// resumed_verification - or whose chain is verified again here).
ConnectionDecision decide_connection(const State& state, SSL* ssl, const std::optional<x509::ChainStatus>& handshake,
                                     std::chrono::system_clock::time_point now,
                                     ForwardCert forward_cert = ForwardCert::no);

// Decides a client's chain (leaf first; not empty) that verification
// concluded `status` on, under `state`: what a trusted proxy's header
// carried.
ConnectionDecision decide_chain(const State& state, const x509::Chain& chain, const x509::ChainStatus& status,
                                std::chrono::system_clock::time_point now, ForwardCert forward_cert = ForwardCert::no);

} // namespace certauth::server
