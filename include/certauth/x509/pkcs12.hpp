#pragma once
// PKCS#12 (.p12 / .pfx): a certificate, its private key and the
// intermediates, encrypted with a password, as browsers and key stores import
// them.

#include <certauth/result.hpp>
#include <certauth/x509/ossl.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace certauth::x509 {

// DER bytes of a PKCS#12 file. OpenSSL 3.0's defaults: AES-256-CBC with
// PBKDF2 for the key and certificates, an HMAC-SHA-256 MAC. `friendly_name`
// is the name a key store shows.
Result<std::string> make_pkcs12(const X509* cert, EVP_PKEY* key, const std::vector<const X509*>& intermediates,
                                std::string_view friendly_name, std::string_view password);

} // namespace certauth::x509
