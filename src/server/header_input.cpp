#include "header_input.hpp"

#include <certauth/policy/decide.hpp>
#include <certauth/server/server_state.hpp>
#include <certauth/x509/ossl.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>

namespace certauth::server::detail {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

// Fetched once: EVP_sha256() would look the implementation up per digest.
const EVP_MD* sha256() noexcept {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

bool add_field(EVP_MD_CTX* ctx, std::string_view value) noexcept {
    // The length first: the concatenation of several values is then one
    // way only.
    const std::uint64_t size = value.size();
    unsigned char length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<unsigned char>(size >> (8 * i));
    return EVP_DigestUpdate(ctx, length, sizeof length) == 1 && EVP_DigestUpdate(ctx, value.data(), value.size()) == 1;
}

ConnectionDecision decide_now(const State& state, const CertificateHeader& header, const CertificateFields& fields,
                              TimePoint now, ForwardCert forward_cert) {
    const Result<std::optional<x509::Chain>> decoded = decode_certificate_header(header, fields);
    if (!decoded) {
        ConnectionDecision out;
        out.generation = state.generation;
        out.forward_cert = forward_cert;
        out.decision.verdict = policy::Verdict::denied;
        out.decision.reason = policy::Reason::malformed;
        out.decision.detail = decoded.error().message;
        finish_texts(out);
        return out;
    }
    if (!*decoded) return decide_chain(state, {}, x509::ChainStatus{}, now, forward_cert);
    const x509::Chain& chain = **decoded;
    return decide_chain(state, chain, state.trust.verify(chain, now), now, forward_cert);
}

} // namespace

std::optional<HeaderDecisions::Key> HeaderDecisions::key_of(const CertificateFields& fields) noexcept {
    x509::Ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    bool ok = ctx && sha256() != nullptr && EVP_DigestInit_ex(ctx.get(), sha256(), nullptr) == 1;
    for (const std::string_view value : fields.values)
        ok = ok && add_field(ctx.get(), value);
    ok = ok && add_field(ctx.get(), "\n"); // between the certificate's lines and the chain's
    for (const std::string_view value : fields.chain)
        ok = ok && add_field(ctx.get(), value);
    Key key{};
    unsigned int size = 0;
    if (ok) ok = EVP_DigestFinal_ex(ctx.get(), key.data(), &size) == 1 && size == key.size();
    if (!ok) {
        ERR_clear_error();
        return std::nullopt;
    }
    return key;
}

std::shared_ptr<const ConnectionDecision> HeaderDecisions::find(const Key& key, std::uint64_t generation,
                                                                TimePoint now) const noexcept {
    const Slot& slot = m_slots[index(key) % k_slots];
    if (!slot.decision || slot.decision->generation != generation || slot.key != key || now < slot.decided_at ||
        now >= slot.valid_until)
        return nullptr;
    return slot.decision;
}

void HeaderDecisions::remember(const Key& key, TimePoint now,
                               std::shared_ptr<const ConnectionDecision> decision) noexcept {
    TimePoint until = decision->valid_until;
    const policy::Reason reason = decision->decision.reason;
    if (!decision->decision.allowed() && reason != policy::Reason::no_certificate &&
        reason != policy::Reason::malformed)
        until = now + k_denial_memory;
    if (now >= until) return;
    m_slots[index(key) % k_slots] = Slot{key, now, until, std::move(decision)};
}

HeaderDecisions& HeaderDecisions::of_this_thread() noexcept {
    thread_local HeaderDecisions decisions;
    return decisions;
}

std::shared_ptr<const ConnectionDecision> decide_header(const State& state, const CertificateHeader& header,
                                                        const CertificateFields& fields, TimePoint now,
                                                        ForwardCert forward_cert) {
    const std::optional<HeaderDecisions::Key> key = HeaderDecisions::key_of(fields);
    HeaderDecisions& decisions = HeaderDecisions::of_this_thread();
    if (key)
        if (auto remembered = decisions.find(*key, state.generation, now)) return remembered;
    auto decided = std::make_shared<const ConnectionDecision>(decide_now(state, header, fields, now, forward_cert));
    if (key) decisions.remember(*key, now, decided);
    return decided;
}

} // namespace certauth::server::detail
