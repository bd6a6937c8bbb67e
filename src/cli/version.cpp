#include "cli/version.hpp"

#include "cli/build_commit.hpp"
#include "cli/build_info.hpp"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

namespace certauth::cli {

std::string version_text() {
    return std::string("certauth ") + k_version + " (commit " + k_commit + ", " + k_build_type + " build)\n" +
           "running with " + OpenSSL_version(OPENSSL_VERSION) + ", built with " + OPENSSL_VERSION_TEXT;
}

std::string version_number() { return k_version; }

std::string build_commit() { return k_commit; }

} // namespace certauth::cli
