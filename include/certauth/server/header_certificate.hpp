#pragma once
// The client certificate as a trusted proxy sends it in a header, when the
// proxy terminated TLS (serve --listen-trusted; check --header-value): the
// header formats of the real producers and the proxy presets
// (docs/proxies.md).
//
// Which layer: turning header text into an x509::Chain is two steps. The
// HTTP half - which field lines, percent-encoding, XFCC's elements and
// quoting, RFC 8941 structured fields - is the server's, here (the
// percent-decoding itself is the shared include/certauth/percent_encoding.hpp);
// the certificates themselves are parsed by x509::parse_chain (PEM or DER), as
// for files. So the x509 layer stays free of HTTP, and one PEM/DER parser
// serves files, TLS and headers alike. Pure functions, no sockets and no
// Asio: check uses them offline, and the fuzz target fuzz/header_certificate.cpp
// drives them.

#include <certauth/result.hpp>
#include <certauth/x509/certificate.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::server {

// How the certificate is written in the header.
enum class HeaderFormat {
    url_pem,    // URL-encoded PEM, one or more certificates, leaf first (nginx $ssl_client_escaped_cert, AWS ALB)
    base64_der, // base64 DER, one certificate or a comma-separated chain (Caddy, HAProxy, Traefik)
    xfcc,       // Envoy's X-Forwarded-Client-Cert: the last element's Chain= (or Cert=), URL-encoded PEM
    rfc9440,    // RFC 9440 Client-Cert (a byte sequence) and Client-Cert-Chain (a list of them)
};

// "url-pem", "base64-der", "xfcc", "rfc9440".
std::string_view to_string(HeaderFormat format) noexcept;
std::optional<HeaderFormat> header_format_named(std::string_view name) noexcept;

// Where a trusted proxy puts the certificate, and how.
struct CertificateHeader {
    std::string name = "X-Client-Cert";
    HeaderFormat format = HeaderFormat::url_pem;
    // rfc9440: the field of the chain, NAME-Chain ("Client-Cert-Chain");
    // "" for the other formats (their chain, if any, is in NAME itself).
    std::string chain_name() const;
};

// A proxy's defaults: its header, its format, and the header holding the
// URI its client asked for (auth subrequests are sent to another path).
struct ProxyPreset {
    std::string_view name;         // "nginx"
    std::string_view header;       // "X-Client-Cert"
    HeaderFormat format;           // url_pem
    std::string_view original_uri; // "X-Original-URI"; "" when the request's own target is the one
};

// nginx, caddy, haproxy, traefik, envoy, aws-alb, cloudflare.
const std::vector<ProxyPreset>& proxy_presets();
const ProxyPreset* proxy_preset_named(std::string_view name) noexcept;

// The field lines of one request that may hold the certificate: the
// values (without name and colon) of every line named
// CertificateHeader::name, in order, and for rfc9440 of every line named
// its chain_name().
struct CertificateFields {
    std::vector<std::string_view> values;
    std::vector<std::string_view> chain;
};

// The decoders, one per format: a header value in (several field lines of
// the same name already joined with ", ", as HTTP joins them), the chain
// out, leaf first. An error says what is wrong with the value, without the
// header's name (the caller adds it).
Result<x509::Chain> decode_url_pem(std::string_view value);
Result<x509::Chain> decode_base64_der(std::string_view value);
Result<x509::Chain> decode_xfcc(std::string_view value);
// `cert`: the Client-Cert value; `chain`: the Client-Cert-Chain value ("" when absent). Its errors
// name the fields (as `cert_name`, `chain_name`).
Result<x509::Chain> decode_rfc9440(std::string_view cert, std::string_view chain,
                                   std::string_view cert_name = "Client-Cert",
                                   std::string_view chain_name = "Client-Cert-Chain");

// What a request's header held, as serve decides on it: nullopt when it
// holds no certificate (the header absent, or empty: what proxies send for a
// client without one); the chain, leaf first; or an error (the request is
// denied `malformed`) naming the header and saying what is wrong - also when
// a one-certificate header comes on several field lines (a proxy that added
// its header to the client's own instead of replacing it).
Result<std::optional<x509::Chain>> decode_certificate_header(const CertificateHeader& header,
                                                             const CertificateFields& fields);

} // namespace certauth::server
