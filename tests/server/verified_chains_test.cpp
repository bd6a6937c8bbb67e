// The memo of verified client chains (src/server/verified_chains.hpp): which
// certificates, which configuration and which moments a remembered
// verification answers for, and that denials are never remembered.
#include "server/verified_chains.hpp"
#include "support/files.hpp"
#include "support/pki.hpp"

#include <certauth/x509/trust_store.hpp>

#include "support/catch.hpp"

#include <chrono>
#include <initializer_list>
#include <string>

using namespace certauth;
using namespace std::chrono_literals;
using certauth::server::detail::VerifiedChains;
using certauth::server::detail::verify_remembered;
using certauth::test::fixture;
using certauth::test::load_pem_certificate;

namespace {

x509::TrustStore trust(std::initializer_list<const char*> cas, std::initializer_list<const char*> crls) {
    x509::TrustConfig config;
    for (const char* ca : cas)
        config.ca_files.emplace_back(fixture(ca));
    for (const char* crl : crls)
        config.crl_files.emplace_back(fixture(crl));
    auto store = x509::TrustStore::load(config);
    REQUIRE(store);
    return std::move(*store);
}

// A chain as the client sent it: borrowed certificates.
x509::X509StackView sent(std::initializer_list<X509*> certs) {
    x509::X509StackView stack(sk_X509_new_null());
    REQUIRE(stack);
    for (X509* cert : certs)
        REQUIRE(sk_X509_push(stack.get(), cert) > 0);
    return stack;
}

x509::ChainStatus verified_until(std::chrono::system_clock::time_point until) {
    x509::ChainStatus status;
    status.problem = x509::ChainProblem::none;
    status.error = 0;
    status.depth = -1;
    status.valid_until = until;
    return status;
}

} // namespace

TEST_CASE("verified chains: the key covers the leaf and every certificate sent with it, in order", "[server]") {
    const auto joe = load_pem_certificate(fixture("joe.crt"));
    const auto bob = load_pem_certificate(fixture("bob.crt"));
    const auto carol = load_pem_certificate(fixture("carol.crt"));
    const auto sub_ca = load_pem_certificate(fixture("sub-ca.crt"));

    const auto joe_alone = VerifiedChains::key_of(joe.get(), nullptr);
    REQUIRE(joe_alone);
    CHECK(VerifiedChains::key_of(joe.get(), nullptr) == joe_alone);
    CHECK(VerifiedChains::key_of(bob.get(), nullptr) != joe_alone);

    const auto carol_alone = VerifiedChains::key_of(carol.get(), nullptr);
    const auto empty = sent({});
    const auto with_sub_ca = sent({sub_ca.get()});
    const auto leaf_then_sub_ca = sent({carol.get(), sub_ca.get()});
    const auto sub_ca_then_leaf = sent({sub_ca.get(), carol.get()});
    REQUIRE(carol_alone);
    CHECK(VerifiedChains::key_of(carol.get(), empty.get()) == carol_alone);
    CHECK(VerifiedChains::key_of(carol.get(), with_sub_ca.get()) != carol_alone);
    CHECK(VerifiedChains::key_of(carol.get(), leaf_then_sub_ca.get()) !=
          VerifiedChains::key_of(carol.get(), with_sub_ca.get()));
    CHECK(VerifiedChains::key_of(carol.get(), leaf_then_sub_ca.get()) !=
          VerifiedChains::key_of(carol.get(), sub_ca_then_leaf.get()));
}

TEST_CASE("verified chains: a remembered verification holds for its generation, from its time until valid_until",
          "[server]") {
    const auto joe = load_pem_certificate(fixture("joe.crt"));
    const auto bob = load_pem_certificate(fixture("bob.crt"));
    const auto key = VerifiedChains::key_of(joe.get(), nullptr);
    const auto other = VerifiedChains::key_of(bob.get(), nullptr);
    REQUIRE(key);
    REQUIRE(other);
    const auto at = std::chrono::system_clock::now();

    VerifiedChains chains;
    CHECK_FALSE(chains.find(*key, 3, at));
    chains.remember(*key, 3, at, verified_until(at + 1h));

    const auto found = chains.find(*key, 3, at + 59min);
    REQUIRE(found);
    CHECK(found->verified());
    CHECK(found->depth == -1);
    CHECK(found->valid_until == at + 1h);
    CHECK(chains.find(*key, 3, at));
    CHECK_FALSE(chains.find(*key, 4, at + 1min));   // another configuration
    CHECK_FALSE(chains.find(*key, 3, at + 1h));     // valid_until reached
    CHECK_FALSE(chains.find(*key, 3, at - 1s));     // the clock went back
    CHECK_FALSE(chains.find(*other, 3, at + 1min)); // other certificates

    // A denial is not remembered, nor a verification already past.
    x509::ChainStatus revoked = verified_until(at + 1h);
    revoked.problem = x509::ChainProblem::revoked;
    chains.remember(*other, 3, at, revoked);
    CHECK_FALSE(chains.find(*other, 3, at));
    chains.remember(*other, 3, at, verified_until(at));
    CHECK_FALSE(chains.find(*other, 3, at));
}

TEST_CASE("verified chains: verify_remembered verifies once per generation and never remembers a denial", "[server]") {
    const auto joe = load_pem_certificate(fixture("joe.crt"));
    const auto revoked = load_pem_certificate(fixture("revoked.crt"));
    const x509::TrustStore fixture_ca = trust({"ca.crt"}, {"ca.crl", "sub-ca.crl"});
    const x509::TrustStore fixture_ca_no_crl = trust({"ca.crt"}, {});
    const x509::TrustStore rogue_ca = trust({"rogue-ca.crt"}, {});
    const auto now = std::chrono::system_clock::now();
    // Generations of this test only (the memo is the thread's).
    constexpr std::uint64_t g1 = 0x7e57'0001, g2 = 0x7e57'0002, g3 = 0x7e57'0003;

    const x509::ChainStatus first = verify_remembered(fixture_ca, g1, joe.get(), nullptr, now);
    REQUIRE(first.verified());
    // Same generation: the remembered verification answers (a store that
    // could not verify joe is not consulted - within one generation the
    // store is always the same one).
    const x509::ChainStatus again = verify_remembered(rogue_ca, g1, joe.get(), nullptr, now + 1s);
    CHECK(again.verified());
    CHECK(again.valid_until == first.valid_until);
    // Another generation verifies with its own store.
    const x509::ChainStatus other = verify_remembered(rogue_ca, g2, joe.get(), nullptr, now + 1s);
    CHECK(other.problem == x509::ChainProblem::untrusted);
    // Past valid_until the chain is verified again.
    const x509::ChainStatus later = verify_remembered(rogue_ca, g1, joe.get(), nullptr, first.valid_until);
    CHECK(later.problem == x509::ChainProblem::untrusted);

    // A denial is worked out each time: revoked under the CRL, then verified
    // by a store without it (a remembered denial would say revoked again).
    CHECK(verify_remembered(fixture_ca, g3, revoked.get(), nullptr, now).problem == x509::ChainProblem::revoked);
    CHECK(verify_remembered(fixture_ca_no_crl, g3, revoked.get(), nullptr, now).verified());
}
