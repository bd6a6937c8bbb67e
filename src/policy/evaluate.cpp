// evaluate(): steps 2-4 of the pipeline for a chain in hand. Kept apart from
// decide.cpp so that code using only decide() does not pull in the x509
// verification code.
#include <certauth/policy/decide.hpp>

namespace certauth::policy {

Decision evaluate(const x509::Chain& chain, const x509::TrustStore* store, const UserList* users,
                  std::chrono::system_clock::time_point now) {
    if (chain.empty()) return decide(nullptr, std::nullopt, users, now);
    const x509::CertFacts leaf = chain.front().facts();
    std::optional<x509::ChainStatus> status;
    if (store != nullptr) status = store->verify(chain, now);
    return decide(&leaf, status, users, now);
}

} // namespace certauth::policy
