#include "verified_chains.hpp"

#include <certauth/x509/ossl.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>

namespace certauth::server::detail {
namespace {

// Fetched once: EVP_sha256() would look the implementation up per digest.
const EVP_MD* sha256() noexcept {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

// The certificate's SHA-256 (over its DER), added to the running digest.
bool add_digest(EVP_MD_CTX* ctx, X509* cert) noexcept {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    return X509_digest(cert, sha256(), digest, &size) == 1 && EVP_DigestUpdate(ctx, digest, size) == 1;
}

} // namespace

std::optional<VerifiedChains::Key> VerifiedChains::key_of(X509* leaf, STACK_OF(X509) * sent) noexcept {
    // A digest over the certificates' digests (each DER is self-delimiting,
    // and so is each digest).
    x509::Ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    bool ok = ctx && sha256() != nullptr && EVP_DigestInit_ex(ctx.get(), sha256(), nullptr) == 1 &&
              add_digest(ctx.get(), leaf);
    const int count = sent != nullptr ? sk_X509_num(sent) : 0;
    for (int i = 0; ok && i < count; ++i)
        ok = add_digest(ctx.get(), sk_X509_value(sent, i));
    Key key{};
    unsigned int size = 0;
    if (ok) ok = EVP_DigestFinal_ex(ctx.get(), key.data(), &size) == 1 && size == key.size();
    if (!ok) {
        ERR_clear_error();
        return std::nullopt;
    }
    return key;
}

std::optional<x509::ChainStatus> VerifiedChains::find(const Key& key, std::uint64_t generation,
                                                      TimePoint now) const noexcept {
    const Slot& slot = m_slots[index(key) % k_slots];
    if (!slot.used || slot.generation != generation || slot.key != key || now < slot.verified_at ||
        now >= slot.valid_until)
        return std::nullopt;
    x509::ChainStatus status;
    status.problem = x509::ChainProblem::none;
    status.error = 0;
    status.depth = -1;
    status.valid_until = slot.valid_until;
    return status;
}

void VerifiedChains::remember(const Key& key, std::uint64_t generation, TimePoint at,
                              const x509::ChainStatus& status) noexcept {
    if (!status.verified() || at >= status.valid_until) return;
    m_slots[index(key) % k_slots] = Slot{key, true, generation, at, status.valid_until};
}

VerifiedChains& VerifiedChains::of_this_thread() noexcept {
    thread_local VerifiedChains chains;
    return chains;
}

x509::ChainStatus verify_remembered(const x509::TrustStore& trust, std::uint64_t generation, X509* leaf,
                                    STACK_OF(X509) * sent, std::chrono::system_clock::time_point now) {
    const auto key = VerifiedChains::key_of(leaf, sent);
    if (!key) return trust.verify(leaf, sent, now);
    VerifiedChains& chains = VerifiedChains::of_this_thread();
    if (auto remembered = chains.find(*key, generation, now)) return std::move(*remembered);
    x509::ChainStatus status = trust.verify(leaf, sent, now);
    chains.remember(*key, generation, now, status);
    return status;
}

} // namespace certauth::server::detail
