#pragma once
// Private to src/server: the client chains one worker thread verified lately,
// so that a client connecting again with the same certificates costs a
// SHA-256 over them, not a chain verification (signatures of the chain and
// of the CRLs checked, on every full handshake otherwise). A remembered
// verification is used only while it must come out the same:
// - the same certificates: SHA-256 over the DER of the leaf and of every
//   certificate the client sent with it, in order;
// - the same configuration generation (a reload verifies again: new CAs,
//   new CRLs);
// - `now` between the verification and its ChainStatus::valid_until (the
//   earliest notAfter in the chain, the next thisUpdate/nextUpdate of a
//   loaded CRL).
// Only verified chains are remembered; a denial is worked out each time.
// The proof that the client holds the key (TLS CertificateVerify) is the
// handshake's, every time. Not thread-safe: one per thread (of_this_thread).

#include <certauth/x509/trust_store.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <openssl/x509.h>

namespace certauth::server::detail {

class VerifiedChains {
  public:
    using Key = std::array<unsigned char, 32>; // SHA-256
    using TimePoint = std::chrono::system_clock::time_point;
    static constexpr std::size_t k_slots = 256; // a full slot is replaced by a newer chain with the same index

    // SHA-256 over the DER of `leaf`, then of each certificate of `sent`
    // (the client's chain as OpenSSL holds it: with or without the leaf).
    // nullopt when a certificate cannot be encoded (out of memory).
    static std::optional<Key> key_of(X509* leaf, STACK_OF(X509) * sent) noexcept;

    // The remembered verification (a verified ChainStatus) or nullopt.
    std::optional<x509::ChainStatus> find(const Key& key, std::uint64_t generation, TimePoint now) const noexcept;
    // Remembers a verified chain (others are ignored), verified at `at`.
    void remember(const Key& key, std::uint64_t generation, TimePoint at, const x509::ChainStatus& status) noexcept;

    static VerifiedChains& of_this_thread() noexcept;

  private:
    struct Slot {
        Key key{};
        bool used = false;
        std::uint64_t generation = 0;
        TimePoint verified_at;
        TimePoint valid_until;
    };
    static std::size_t index(const Key& key) noexcept { return key[0] | (std::size_t{key[1]} << 8); }

    std::array<Slot, k_slots> m_slots{};
};

// Verifies `leaf` with the client's chain `sent` through `trust`, or takes
// this thread's remembered verification of the same certificates.
x509::ChainStatus verify_remembered(const x509::TrustStore& trust, std::uint64_t generation, X509* leaf,
                                    STACK_OF(X509) * sent, std::chrono::system_clock::time_point now);

} // namespace certauth::server::detail
