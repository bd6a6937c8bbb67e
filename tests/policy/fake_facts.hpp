#pragma once
// CertFacts built in memory for the policy tests: no files, no OpenSSL.

#include <certauth/x509/facts.hpp>
#include <certauth/x509/trust_store.hpp>

#include <chrono>
#include <string>

namespace certauth::test {

inline std::chrono::system_clock::time_point at_date(int y, unsigned m, unsigned d) {
    return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

inline const std::string k_fingerprint =
    "F8:38:B2:63:B4:88:B6:CA:52:E2:BE:73:67:A9:3D:7D:A0:B5:EE:AC:56:7D:3B:9D:7F:30:1D:03:B8:E4:24:89";

// A client certificate CN=<cn>, O=Example, issued by CN=certauth test CA,
// valid 2000-01-01 .. 2049-12-31.
inline x509::CertFacts fake_facts(const std::string& cn) {
    x509::CertFacts facts;
    facts.subject.entries = {{"C", "XX"}, {"O", "Example"}, {"CN", cn}};
    facts.issuer.entries = {{"O", "certauth"}, {"CN", "certauth test CA"}};
    facts.serial = "1A2B3C";
    facts.fingerprint256 = k_fingerprint;
    facts.not_before = at_date(2000, 1, 1);
    facts.not_after = at_date(2049, 12, 31);
    return facts;
}

inline x509::ChainStatus verified_status() {
    x509::ChainStatus status;
    status.problem = x509::ChainProblem::none;
    return status;
}

inline const std::chrono::system_clock::time_point k_now = at_date(2025, 6, 1);

} // namespace certauth::test
