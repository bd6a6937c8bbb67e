// Decisions on trusted proxies' certificate headers (src/server/header_input.hpp):
// verified by the state's own trust store, decided with its users, and
// remembered per thread by the SHA-256 of the header's bytes for one
// configuration generation.
#include "server/header_input.hpp"
#include "support/files.hpp"

#include <certauth/policy/user_list.hpp>
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/encoding.hpp>

#include "support/catch.hpp"

#include <chrono>
#include <string>

using namespace certauth;
using namespace certauth::server;
using namespace std::chrono_literals;
using certauth::test::fixture;
using certauth::test::read_text;

namespace {

std::shared_ptr<const State> state(std::uint64_t generation) {
    x509::TrustConfig config;
    config.ca_files.emplace_back(fixture("ca.crt"));
    config.crl_files.emplace_back(fixture("ca.crl"));
    auto trust = x509::TrustStore::load(config);
    REQUIRE(trust);
    auto users = policy::UserList::load(fixture("users.json"));
    REQUIRE(users);
    auto built = build_state(StateInputs{std::move(*trust), std::move(*users)}, TlsSettings{}, generation,
                             std::chrono::system_clock::now());
    REQUIRE(built);
    return *built;
}

std::string base64_der(const std::string& file) {
    auto chain = x509::parse_chain(read_text(fixture(file)), file);
    REQUIRE(chain);
    return x509::to_base64(x509::to_der(chain->front().native()));
}

} // namespace

TEST_CASE("header decisions: verified by certauth's trust store, remembered by the header's bytes",
          "[server][header]") {
    const auto first = state(1);
    const CertificateHeader header{"X-Client-Cert", HeaderFormat::base64_der};
    const auto now = std::chrono::system_clock::now();
    const std::string joe = base64_der("joe.crt");
    const std::string bob = base64_der("bob.crt");
    const std::string rogue = base64_der("rogue.crt");
    const std::string revoked = base64_der("revoked.crt");

    const auto joe_decision = detail::decide_header(*first, header, {{joe}, {}}, now, ForwardCert::no);
    CHECK(joe_decision->decision.allowed());
    CHECK(joe_decision->cn == "joe");
    CHECK(joe_decision->identity.find("X-Certauth-CN: joe\r\n") != std::string::npos);
    CHECK(detail::decide_header(*first, header, {{bob}, {}}, now, ForwardCert::no)->decision.reason ==
          policy::Reason::unknown_user);
    CHECK(detail::decide_header(*first, header, {{rogue}, {}}, now, ForwardCert::no)->decision.reason ==
          policy::Reason::untrusted);
    CHECK(detail::decide_header(*first, header, {{revoked}, {}}, now, ForwardCert::no)->decision.reason ==
          policy::Reason::revoked);
    CHECK(detail::decide_header(*first, header, {{}, {}}, now, ForwardCert::no)->decision.reason ==
          policy::Reason::no_certificate);
    const auto twice = detail::decide_header(*first, header, {{joe, joe}, {}}, now, ForwardCert::no);
    CHECK(twice->decision.reason == policy::Reason::malformed);
    CHECK(twice->body.find("sent 2 times") != std::string::npos);

    // The same bytes again: the remembered decision, not a new one.
    CHECK(detail::decide_header(*first, header, {{joe}, {}}, now + 1s, ForwardCert::no) == joe_decision);
    // A new configuration decides afresh.
    const auto second = state(2);
    const auto again = detail::decide_header(*second, header, {{joe}, {}}, now + 1s, ForwardCert::no);
    CHECK(again != joe_decision);
    CHECK(again->generation == 2);
    // A denial is remembered for a second at most.
    const auto bob_first = detail::decide_header(*second, header, {{bob}, {}}, now, ForwardCert::no);
    CHECK(detail::decide_header(*second, header, {{bob}, {}}, now + 500ms, ForwardCert::no) == bob_first);
    CHECK(detail::decide_header(*second, header, {{bob}, {}}, now + 2s, ForwardCert::no) != bob_first);
}
