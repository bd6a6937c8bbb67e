// Inputs fuzz/certificate (fuzz/certificate.cpp) found to crash the x509
// layer, replayed through the normal build, and what they stand for.
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/trust_store.hpp>

#include "support/process.hpp"
#include "support/utc.hpp"

#include "support/catch.hpp"
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using certauth::x509::Chain;
using certauth::x509::load_chain;
using certauth::x509::TrustConfig;
using certauth::x509::TrustStore;
using Clock = std::chrono::system_clock;
using certauth::test::utc;

namespace {

const fs::path k_regressions = fs::path(certauth::test::source_dir()) / "fuzz/regressions/certificate";

Chain load(const std::string& name) {
    auto chain = load_chain(k_regressions / name);
    INFO(name << ": " << (chain ? "" : chain.error().message));
    REQUIRE(chain);
    REQUIRE(chain->size() == 1);
    return std::move(*chain);
}

TrustStore trusting(const std::string& name) {
    TrustConfig config;
    config.ca_files = {k_regressions / name};
    auto store = TrustStore::load(config);
    INFO(name << ": " << (store ? "" : store.error().message));
    REQUIRE(store);
    return std::move(*store);
}

} // namespace

// system_clock holds 1677-09-21 .. 2262-04-11 in nanoseconds; converting a
// GeneralizedTime beyond overflowed (UBSan: signed integer overflow).
TEST_CASE("a notAfter beyond 2262 saturates instead of overflowing", "[x509]") {
    const Chain far = load("not-after-2860.der"); // the fuzzer's input: ca.der with notAfter 2860
    const auto facts = far.front().facts();
    CHECK(facts.not_after == Clock::time_point::max());
    CHECK(facts.not_before == utc(2000, 1, 1));
    CHECK(far.front().node_object()["valid_to"] == "Jan  1 00:00:00 2860 GMT");

    // RFC 5280's "no well-defined expiration date", 99991231235959Z, as an
    // IEEE 802.1AR device certificate has it (here self-signed, 9999-12-30).
    const Chain forever = load("not-after-9999.der");
    CHECK(forever.front().facts().not_after == Clock::time_point::max());
    CHECK(forever.front().node_object()["valid_to"] == "Dec 30 18:39:09 9999 GMT");
    const TrustStore store = trusting("not-after-9999.der");
    CHECK(store.verify(forever, utc(2030, 1, 1)).problem == certauth::x509::ChainProblem::none);
    CHECK(store.verify(forever, utc(2200, 1, 1)).problem == certauth::x509::ChainProblem::none);
    const auto early = store.verify(forever, utc(2020, 1, 1));
    CHECK(early.problem == certauth::x509::ChainProblem::not_yet_valid);
    CHECK_THAT(early.detail, Catch::Matchers::ContainsSubstring("is not valid before 2026-11-28T18:39:09Z"));
}

TEST_CASE("a notAfter before 1677 saturates, and the expiry detail does not overflow", "[x509]") {
    // not-after-9999.der with its GeneralizedTime notAfter set to 1600.
    const Chain old = load("not-after-1600.der");
    CHECK(old.front().facts().not_after == Clock::time_point::min());
    CHECK(old.front().node_object()["valid_to"] == "Dec 30 18:39:09 1600 GMT");
    // Trusted as itself (the anchor's own signature is not checked): expired,
    // and "N days before the time of the check" subtracted 1600 from 2030.
    const auto status = trusting("not-after-1600.der").verify(old, utc(2030, 1, 1));
    CHECK(status.problem == certauth::x509::ChainProblem::expired);
    CHECK_THAT(status.detail, Catch::Matchers::ContainsSubstring("days before the time of the check"));
}
