#include <certauth/server/server_state.hpp>

#include "verified_chains.hpp"

#include <certauth/policy/decide.hpp>
#include <certauth/server/handler.hpp>
#include <certauth/x509/certificate.hpp>

#include <algorithm>
#include <utility>

namespace certauth::server {
namespace {

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string summarise(const State& state) {
    std::string text;
    const x509::Chain& cas = state.trust.authorities();
    text += plural(cas.size(), "CA", "CAs");
    if (!cas.empty()) {
        text += " (";
        for (std::size_t i = 0; i < cas.size(); ++i) {
            if (i > 0) text += "; ";
            text += cas[i].facts().subject.to_string();
        }
        text += ")";
    }
    const x509::Chain& intermediates = state.trust.intermediates();
    if (!intermediates.empty()) {
        text += ", " + plural(intermediates.size(), "known intermediate", "known intermediates") + " (";
        for (std::size_t i = 0; i < intermediates.size(); ++i)
            text += (i > 0 ? "; " : "") + intermediates[i].facts().subject.to_string();
        text += ")";
    }
    text += ", " + plural(state.trust.crl_count(), "CRL", "CRLs");
    if (state.trust.config().crl_mode == x509::CrlMode::required) text += " (required)";
    if (state.users) {
        text += ", " + plural(state.users->users().size(), "user", "users");
        text += ", " + plural(state.users->routes().size(), "route", "routes");
        if (!state.users->routes().empty()) {
            text += " (";
            for (std::size_t i = 0; i < state.users->routes().size(); ++i) {
                const policy::Route& route = state.users->routes()[i];
                if (i > 0) text += ", ";
                text += route.path + (route.is_public ? " public" : "");
            }
            text += ")";
        }
    } else {
        text += ", no user list (every verified certificate is served)";
    }
    if (state.tls) text += "; server certificate " + state.tls->description();
    return text;
}

// The client's chain as presented, leaf first (a server's peer chain leaves
// the leaf out).
x509::Chain presented_chain(X509* leaf, STACK_OF(X509) * rest) {
    x509::Chain chain;
    chain.emplace_back(x509::share(leaf));
    for (int i = 0; rest != nullptr && i < sk_X509_num(rest); ++i) {
        X509* cert = sk_X509_value(rest, i);
        if (X509_cmp(cert, leaf) != 0) chain.emplace_back(x509::share(cert));
    }
    return chain;
}

} // namespace

Result<std::shared_ptr<const State>> build_state(StateInputs inputs, const TlsSettings& tls, std::uint64_t generation,
                                                 std::chrono::system_clock::time_point now) {
    std::optional<TlsContext> context;
    if (!tls.cert_file.empty()) {
        auto created = TlsContext::create(tls, inputs.trust);
        if (!created) return created.error();
        context.emplace(std::move(*created));
    }
    auto state = std::make_shared<State>(
        State{std::move(inputs.trust), std::move(inputs.users), std::move(context), generation, {}, {}});
    state->summary = summarise(*state);
    for (std::string& warning : state->trust.stale_crls(now))
        state->warnings.push_back(std::move(warning));
    if (state->tls && !state->tls->warning().empty()) state->warnings.push_back(state->tls->warning());
    if (state->users)
        for (const std::string& warning : state->users->warnings())
            state->warnings.push_back(warning);
    return std::shared_ptr<const State>(std::move(state));
}

StateHolder::StateHolder(std::shared_ptr<const State> initial)
    : m_state(std::move(initial)), m_generation(m_state ? m_state->generation : 0) {}

std::shared_ptr<const State> StateHolder::current() const {
    std::lock_guard lock(m_mutex);
    return m_state;
}

void StateHolder::publish(std::shared_ptr<const State> next) {
    const std::uint64_t generation = next->generation;
    std::shared_ptr<const State> old;
    {
        std::lock_guard lock(m_mutex);
        old = std::exchange(m_state, std::move(next));
        m_generation.store(generation, std::memory_order_release);
    }
    // `old` is released outside the lock (connections may still hold it).
}

namespace {

// The rest of a decision once the chain's verification is known: the user,
// the identity headers, until when it holds, the body. `chain()` gives the
// client's chain (leaf first) for --forward-cert's headers.
template <class ChainOf>
void decide_verified(ConnectionDecision& out, const State& state, const x509::CertFacts& facts,
                     const x509::ChainStatus& status, std::chrono::system_clock::time_point now, ChainOf chain_of) {
    out.decision = policy::decide(&facts, status, state.user_list(), now);
    out.fingerprint = FingerprintPrefix(facts.fingerprint256);
    // Identity is read only from verified chains, in the log too.
    if (status.verified()) out.cn = facts.cn();
    // Decided again on the first request past this: the leaf's own
    // notAfter, or the moment the chain's verification stops holding (a
    // CA's notAfter, a CRL's nextUpdate).
    if (out.decision.allowed()) {
        out.valid_until = std::min(facts.not_after, status.valid_until);
        x509::Chain chain;
        if (out.forward_cert == ForwardCert::yes) chain = chain_of();
        out.identity = identity_headers(out.decision, &facts, chain, out.forward_cert);
    }
}

} // namespace

void finish_texts(ConnectionDecision& out) {
    out.body = decision_body(out.decision, out.cn);
    out.body.shrink_to_fit();
}

ConnectionDecision decide_connection(const State& state, SSL* ssl, const std::optional<x509::ChainStatus>& handshake,
                                     std::chrono::system_clock::time_point now, ForwardCert forward_cert) {
    ConnectionDecision out;
    out.generation = state.generation;
    out.forward_cert = forward_cert;
    X509* leaf = ssl ? SSL_get0_peer_certificate(ssl) : nullptr;
    if (leaf == nullptr) {
        out.decision = policy::decide(nullptr, std::nullopt, state.user_list(), now);
    } else {
        // A full handshake recorded its verification; a TLS 1.3 session
        // resumed under the same state carries the one of the handshake that
        // created it, while that still holds; otherwise (or opened under an
        // older state) the chain the session kept is verified here - or taken
        // from what this thread verified lately (verified_chains.hpp).
        std::optional<x509::ChainStatus> remembered;
        if (!handshake) remembered = resumed_verification(ssl, state.generation, now);
        const x509::ChainStatus status = handshake    ? *handshake
                                         : remembered ? std::move(*remembered)
                                                      : detail::verify_remembered(state.trust, state.generation, leaf,
                                                                                  SSL_get_peer_cert_chain(ssl), now);
        const x509::CertFacts facts = x509::Certificate(x509::share(leaf)).facts();
        decide_verified(out, state, facts, status, now,
                        [&] { return presented_chain(leaf, SSL_get_peer_cert_chain(ssl)); });
    }
    finish_texts(out);
    return out;
}

ConnectionDecision decide_chain(const State& state, const x509::Chain& chain, const x509::ChainStatus& status,
                                std::chrono::system_clock::time_point now, ForwardCert forward_cert) {
    ConnectionDecision out;
    out.generation = state.generation;
    out.forward_cert = forward_cert;
    if (chain.empty()) {
        out.decision = policy::decide(nullptr, std::nullopt, state.user_list(), now);
    } else {
        const x509::CertFacts facts = chain.front().facts();
        decide_verified(out, state, facts, status, now, [&] { return chain; });
    }
    finish_texts(out);
    return out;
}

} // namespace certauth::server
