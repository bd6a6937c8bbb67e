#pragma once

#include <string>

namespace certauth::cli {

// What `certauth --version` prints: the version, the git commit and build
// type it was built from, and the OpenSSL it runs with and was built with
// (they differ when libssl3 was updated after the build).
std::string version_text();

// The version ("0.1.0") and the git commit built ("bbaea61"; "unknown"
// outside a git checkout), for the status listener. Only version.cpp sees
// the commit's generated header, so a new commit recompiles it alone.
std::string version_number();
std::string build_commit();

} // namespace certauth::cli
