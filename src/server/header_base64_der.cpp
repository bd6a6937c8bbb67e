// The base64-der header format: base64 (RFC 4648, with padding) of a
// certificate's DER, without PEM armour; a chain as several of them
// separated by commas, leaf first. Caddy's
// {http.request.tls.client.certificate_der_base64} and HAProxy's
// %[ssl_c_der,base64] (the leaf); Traefik's PassTLSClientCert with pem:
// true (the chain, comma-separated; Traefik 2.x URL-escaped it, so a value
// with '%' in it is percent-decoded first: base64 itself has no '%').
#include <certauth/server/header_certificate.hpp>

#include <certauth/ascii.hpp>
#include <certauth/percent_encoding.hpp>
#include <certauth/x509/encoding.hpp>

#include <algorithm>

namespace certauth::server {

Result<x509::Chain> decode_base64_der(std::string_view value) {
    std::string text(ascii::trim(value));
    if (text.find('%') != std::string::npos) {
        std::size_t where = 0;
        std::optional<std::string> decoded = percent_decode(text, where);
        if (!decoded)
            return Error{"not base64: the '%' at character " + std::to_string(where) +
                         " is not followed by two hex digits"};
        text = std::move(*decoded);
    }
    const bool several = text.find(',') != std::string::npos;
    x509::Chain chain;
    std::size_t start = 0;
    for (std::size_t index = 1; start <= text.size(); ++index) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string_view part = ascii::trim(std::string_view(text).substr(start, comma - start));
        start = comma + 1;
        const std::string name = several ? "certificate " + std::to_string(index) + " of the comma-separated chain"
                                         : std::string("the value");
        if (part.empty()) return Error{name + " is empty"};
        const Result<std::string> der = x509::from_base64(part);
        if (!der) return Error{name + " is not base64 DER: it " + der.error().message};
        Result<x509::Chain> certs = x509::parse_chain(*der, name);
        if (!certs) return certs.error();
        for (x509::Certificate& cert : *certs)
            chain.push_back(std::move(cert));
    }
    return chain;
}

} // namespace certauth::server
