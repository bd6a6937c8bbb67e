#pragma once
// Certificates, CRLs and private keys as bytes for files: PEM (with a final
// newline) and DER; and base64 (RFC 4648, standard alphabet), the text of
// PEM bodies and of certificates in HTTP header fields.

#include <certauth/result.hpp>
#include <certauth/x509/ossl.hpp>

#include <string>
#include <string_view>

namespace certauth::x509 {

std::string to_pem(const X509* cert);
std::string to_der(const X509* cert);
std::string to_pem(const X509_CRL* crl);
std::string to_der(const X509_CRL* crl);
// Unencrypted PKCS#8 ("-----BEGIN PRIVATE KEY-----").
std::string private_key_pem(const EVP_PKEY* key);

// Base64 with '=' padding, on one line.
std::string to_base64(std::string_view bytes);

// Whether from_base64 demands the '=' padding (RFC 4648) or also takes
// text without it (RFC 8941 structured-field byte sequences).
enum class Base64Padding { required, optional };

// Decodes base64 text (no whitespace, no line breaks). The error says what
// is wrong as a predicate of the text, for the caller to name it: "is
// empty", "is truncated (3 characters, not a multiple of 4)", "has
// misplaced '=' padding", "has the character '!' at position 5, which is
// not base64".
Result<std::string> from_base64(std::string_view text, Base64Padding padding = Base64Padding::required);

} // namespace certauth::x509
