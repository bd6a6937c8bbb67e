#pragma once

#include <string>

namespace certauth::cli {

// What `certauth --version` prints: the version, the git commit and build
// type it was built from, and the OpenSSL it runs with and was built with
// (they differ when libssl3 was updated after the build).
std::string version_text();

} // namespace certauth::cli
