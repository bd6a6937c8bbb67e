// The url-pem header format: PEM, percent-encoded (RFC 3986), one or more
// certificates, leaf first. nginx's $ssl_client_escaped_cert (the leaf
// only; every byte but unreserved ones encoded, newlines as %0A) and AWS
// ALB's X-Amzn-Mtls-Clientcert (the chain; '+', '=' and '/' left raw, so a
// '+' is a '+', never a space).
#include <certauth/server/header_certificate.hpp>

#include <certauth/ascii.hpp>
#include <certauth/percent_encoding.hpp>

namespace certauth::server {

Result<x509::Chain> decode_url_pem(std::string_view value) {
    std::size_t where = 0;
    const std::optional<std::string> pem = percent_decode(ascii::trim(value), where);
    if (!pem)
        return Error{"not URL-encoded PEM: the '%' at character " + std::to_string(where) +
                     " is not followed by two hex digits"};
    if (pem->find("-----BEGIN") == std::string::npos)
        return Error{"not URL-encoded PEM: the decoded value has no \"-----BEGIN\" line"};
    return x509::parse_chain(*pem, "the URL-decoded PEM");
}

} // namespace certauth::server
