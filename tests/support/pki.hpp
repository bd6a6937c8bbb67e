#pragma once
// Certificates read, and CRLs made at test time under the fixture CA
// (fixtures/ca.crt, fixtures/ca.key), for times the committed fixtures cannot
// have: "an hour ago", "in three seconds".

#include <certauth/x509/ossl.hpp>

#include <chrono>
#include <string>

namespace certauth::test {

using SystemTime = std::chrono::system_clock::time_point;

// The first certificate of a PEM file; REQUIREs one.
x509::Ptr<X509> load_pem_certificate(const std::string& file);

// PEM of a CRL of ca.crt with this lastUpdate and nextUpdate, revoking the
// certificate in the PEM file `revoked_cert` (none when empty).
std::string ca_crl(SystemTime last_update, SystemTime next_update, const std::string& revoked_cert = {});

} // namespace certauth::test
