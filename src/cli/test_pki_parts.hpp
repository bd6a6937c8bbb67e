#pragma once
// The pieces of the test PKI (cli/test_pki.hpp), one file each: the edge/ and
// bad/ inputs, the JSON and TOML files, the README.

#include "cli/pki_files.hpp"
#include "cli/test_pki.hpp"

#include <certauth/result.hpp>
#include <certauth/x509/certificate_spec.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace certauth::cli::test_pki {

using TimePoint = std::chrono::system_clock::time_point;

TimePoint utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0, int second = 0);

// The validity windows the README states.
struct Windows {
    TimePoint ca_from, ca_until;
    TimePoint leaf_from, leaf_until;
};

// edge/*.crt+key (certificates with unusual fields, issued by `ca`) and
// bad/* (inputs that must be refused), made from joe's and bob's files.
Result<void> add_edge_cases(const x509::Issuer& ca, const std::string& joe_crt, const std::string& joe_der,
                            const std::string& bob_key, std::vector<PkiFile>& files);

std::string users_json(const std::string& dave_fingerprint);
std::string scenarios_json(const std::string& server_name);
// The same cases for a server that requires a certificate at the handshake:
// no certificate and failed verifications are "refused": "handshake", and a
// reason need not be given.
std::string scenarios_require_cert_json(const std::string& server_name);
std::string certauth_toml();

std::string readme(const TestPkiOptions& options, const Windows& windows);

} // namespace certauth::cli::test_pki
