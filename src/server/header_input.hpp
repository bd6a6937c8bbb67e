#pragma once
// Private to src/server: the trusted-header input (--listen-trusted). A
// trusted proxy terminated TLS and sends the client's certificate in a
// header; certauth decides every request on its own (one proxy connection
// carries many clients), through the same pipeline as a TLS connection
// (decide_chain): certauth's own trust store verifies the chain, never "the
// proxy said so".
//
// So that a request costs a SHA-256 and a lookup, each worker thread
// remembers the decisions it made lately, keyed by the SHA-256 of the
// header's bytes, for the configuration generation that made them:
// - an allowed decision while it holds (the leaf's notAfter, and the
//   chain's ChainStatus::valid_until: a CA's notAfter, a CRL's
//   thisUpdate/nextUpdate);
// - no certificate and a malformed header for the generation (the same
//   bytes decide the same then);
// - any other denial for one second at most (so that a refused certificate
//   sent again and again costs a lookup too, while a certificate that
//   becomes valid - its notBefore passing - is accepted within a second).
// A reload (new generation) decides every header afresh. Not thread-safe:
// one per thread (of_this_thread).

#include <certauth/server/header_certificate.hpp>
#include <certauth/server/server_state.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace certauth::server::detail {

class HeaderDecisions {
  public:
    using Key = std::array<unsigned char, 32>; // SHA-256
    using TimePoint = std::chrono::system_clock::time_point;
    static constexpr std::size_t k_slots = 256; // a full slot is replaced by a newer header with the same index
    static constexpr std::chrono::seconds k_denial_memory{1};

    // SHA-256 over the fields' values (each with its length, the certificate
    // lines, then the chain lines). nullopt when the digest fails (out of
    // memory).
    static std::optional<Key> key_of(const CertificateFields& fields) noexcept;

    std::shared_ptr<const ConnectionDecision> find(const Key& key, std::uint64_t generation,
                                                   TimePoint now) const noexcept;
    void remember(const Key& key, TimePoint now, std::shared_ptr<const ConnectionDecision> decision) noexcept;

    static HeaderDecisions& of_this_thread() noexcept;

  private:
    struct Slot {
        Key key{};
        TimePoint decided_at;
        TimePoint valid_until;
        std::shared_ptr<const ConnectionDecision> decision;
    };
    static std::size_t index(const Key& key) noexcept { return key[0] | (std::size_t{key[1]} << 8); }

    std::array<Slot, k_slots> m_slots{};
};

// Decides what a request's certificate header holds, under `state`: the
// decision remembered by this thread for the same bytes, or a new one
// (decoded, verified with state.trust, decided with state's users).
std::shared_ptr<const ConnectionDecision> decide_header(const State& state, const CertificateHeader& header,
                                                        const CertificateFields& fields,
                                                        std::chrono::system_clock::time_point now,
                                                        ForwardCert forward_cert);

} // namespace certauth::server::detail
