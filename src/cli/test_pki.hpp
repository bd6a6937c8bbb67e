#pragma once
// The test PKI of `certauth pki init`: every failure case a client
// certificate can have (fixtures/README.md lists them), with the server
// certificate, CRLs, users.json, scenarios.json, certauth.toml and a README,
// made in memory.

#include "cli/pki_files.hpp"

#include <certauth/result.hpp>
#include <certauth/x509/key.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace certauth::cli {

struct TestPkiOptions {
    std::vector<std::string> server_names{"localhost", "127.0.0.1", "::1"}; // the first is the CN
    x509::KeyType key_type = x509::KeyType::rsa2048; // every key but dave's and server-ec's (P-256)
    // Ordinary certificates valid from an hour before now for this many
    // days; none: 2020-01-01 .. 2049-12-31T23:59:59Z.
    std::optional<int> days;
    bool edge_cases = false; // also edge/ and bad/, the inputs of certauth's own tests
    std::string p12_password = "certauth";
};

// Every file, paths relative to the output folder.
Result<std::vector<PkiFile>> make_test_pki(const TestPkiOptions& options, std::chrono::system_clock::time_point now);

} // namespace certauth::cli
