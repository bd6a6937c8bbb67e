#pragma once
// Making CRLs: CrlSpec says what a CRL holds; make_crl() builds and signs it
// with the issuing CA's key.

#include <certauth/result.hpp>
#include <certauth/x509/certificate_spec.hpp>
#include <certauth/x509/ossl.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace certauth::x509 {

struct Revocation {
    std::string serial; // hex, as CertFacts::serial ("1008")
    std::chrono::system_clock::time_point revoked_at;
};

struct CrlSpec {
    std::chrono::system_clock::time_point this_update; // lastUpdate
    std::chrono::system_clock::time_point next_update; // in the past: an expired CRL
    long number = 1;                                   // the cRLNumber extension
    std::vector<Revocation> revoked;
};

// A v2 CRL issued by `issuer`, with authorityKeyIdentifier and cRLNumber.
Result<Ptr<X509_CRL>> make_crl(const CrlSpec& spec, const Issuer& issuer);

} // namespace certauth::x509
