#pragma once
// Certificates, CRLs and private keys as bytes for files: PEM (with a final
// newline) and DER.

#include <certauth/x509/ossl.hpp>

#include <string>

namespace certauth::x509 {

std::string to_pem(const X509* cert);
std::string to_der(const X509* cert);
std::string to_pem(const X509_CRL* crl);
std::string to_der(const X509_CRL* crl);
// Unencrypted PKCS#8 ("-----BEGIN PRIVATE KEY-----").
std::string private_key_pem(const EVP_PKEY* key);

} // namespace certauth::x509
