// The header formats of proxies that terminate TLS and pass the client's
// certificate on (include/certauth/server/header_certificate.hpp): each
// decoder with the quirks of its real producers, and the errors that name
// the header. Values are made from the fixtures the way each producer writes
// them; the producers' documentation is cited at each.
#include "support/files.hpp"

#include <certauth/server/header_certificate.hpp>
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/encoding.hpp>

#include "support/catch.hpp"

#include <string>
#include <vector>

using namespace certauth;
using namespace certauth::server;
using certauth::test::fixture;
using certauth::test::read_text;

namespace {

x509::Chain chain_of(const std::string& file) {
    auto chain = x509::parse_chain(read_text(fixture(file)), file);
    REQUIRE(chain);
    return std::move(*chain);
}

std::string pem_of(const x509::Chain& chain) {
    std::string out;
    for (const x509::Certificate& cert : chain)
        out += x509::to_pem(cert.native());
    return out;
}

// nginx's $ssl_client_escaped_cert (ngx_escape_uri, NGX_ESCAPE_URI_COMPONENT):
// every byte but letters, digits and "-._~" percent-encoded, upper-case hex.
std::string nginx_escaped(const std::string& pem) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const char c : pem) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

// AWS ALB's X-Amzn-Mtls-Clientcert (Elastic Load Balancing user guide,
// "Mutual TLS authentication", HTTP headers): URL-encoded PEM with '+', '='
// and '/' left raw; spaces and newlines encoded.
std::string alb_escaped(const std::string& pem) {
    std::string out;
    for (const char c : pem) {
        if (c == ' ')
            out += "%20";
        else if (c == '\n')
            out += "%0A";
        else
            out += c;
    }
    return out;
}

std::string b64(const x509::Certificate& cert) { return x509::to_base64(x509::to_der(cert.native())); }

void require_same(const Result<x509::Chain>& decoded, const x509::Chain& expected) {
    INFO((decoded ? std::string("decoded") : decoded.error().message));
    REQUIRE(decoded);
    REQUIRE(decoded->size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        CHECK((*decoded)[i].facts().fingerprint256 == expected[i].facts().fingerprint256);
}

CertificateFields fields(std::vector<std::string_view> values, std::vector<std::string_view> chain = {}) {
    return CertificateFields{std::move(values), std::move(chain)};
}

} // namespace

TEST_CASE("url-pem: nginx's $ssl_client_escaped_cert and ALB's raw '+'", "[server][header]") {
    const x509::Chain joe = chain_of("joe.crt");
    const x509::Chain carol = chain_of("carol-chain.pem");
    require_same(decode_url_pem(nginx_escaped(pem_of(joe))), joe);
    // Every base64 body has '+' or '/' somewhere with overwhelming odds; the
    // fixtures' do: a decoder that read '+' as a space would fail here.
    REQUIRE(pem_of(carol).find_first_of("+/") != std::string::npos);
    require_same(decode_url_pem(alb_escaped(pem_of(carol))), carol);
    require_same(decode_url_pem(nginx_escaped(pem_of(carol))), carol);
    // Lower-case hex is percent-encoding too.
    std::string lower = nginx_escaped(pem_of(joe));
    for (std::size_t at = lower.find("%0A"); at != std::string::npos; at = lower.find("%0A", at))
        lower.replace(at, 3, "%0a");
    require_same(decode_url_pem(lower), joe);

    SECTION("errors say what is wrong") {
        const auto bad_escape = decode_url_pem("-----BEGIN%2");
        REQUIRE(!bad_escape);
        CHECK(bad_escape.error().message.find("'%' at character 11") != std::string::npos);
        const auto not_pem = decode_url_pem("hello");
        REQUIRE(!not_pem);
        CHECK(not_pem.error().message.find("no \"-----BEGIN\" line") != std::string::npos);
    }
}

TEST_CASE("base64-der: Caddy and HAProxy's leaf, Traefik's comma-separated chain", "[server][header]") {
    const x509::Chain joe = chain_of("joe.crt");
    const x509::Chain carol = chain_of("carol-chain.pem");
    require_same(decode_base64_der(b64(joe.front())), joe);
    // Traefik PassTLSClientCert pem: true (doc.traefik.io, "PassTLSClientCert"):
    // the certificates' base64 DER, comma-separated, leaf first.
    require_same(decode_base64_der(b64(carol[0]) + "," + b64(carol[1])), carol);
    require_same(decode_base64_der(b64(carol[0]) + ", " + b64(carol[1])), carol);
    // Traefik 2.x URL-escaped the value.
    std::string escaped = b64(carol[0]) + "%2C" + b64(carol[1]);
    for (std::size_t at = escaped.find('+'); at != std::string::npos; at = escaped.find('+', at))
        escaped.replace(at, 1, "%2B");
    require_same(decode_base64_der(escaped), carol);

    SECTION("errors say which certificate and what is wrong") {
        const auto truncated = decode_base64_der(b64(joe.front()).substr(0, 101));
        REQUIRE(!truncated);
        CHECK(truncated.error().message.find("the value is not base64 DER") != std::string::npos);
        const auto second = decode_base64_der(b64(joe.front()) + ",!!!!");
        REQUIRE(!second);
        CHECK(second.error().message.find("certificate 2 of the comma-separated chain") != std::string::npos);
        const auto empty_member = decode_base64_der(b64(joe.front()) + ",");
        REQUIRE(!empty_member);
        CHECK(empty_member.error().message.find("certificate 2 of the comma-separated chain is empty") !=
              std::string::npos);
        const auto not_der = decode_base64_der(x509::to_base64("not a certificate"));
        REQUIRE(!not_der);
    }
}

TEST_CASE("xfcc: Envoy's one element, quoted values, Chain= over Cert=, keys in any case", "[server][header]") {
    // Envoy's documentation, "HTTP header manipulation", x-forwarded-client-cert:
    // By=...;Hash=...;Cert="<url-encoded PEM>";Chain="...";Subject="...";URI=...;DNS=...
    const x509::Chain joe = chain_of("joe.crt");
    const x509::Chain bob = chain_of("bob.crt");
    const x509::Chain carol = chain_of("carol-chain.pem");
    const std::string joe_cert = nginx_escaped(pem_of(joe));
    const std::string bob_cert = nginx_escaped(pem_of(bob));
    const std::string carol_chain = nginx_escaped(pem_of(carol));

    require_same(decode_xfcc("By=spiffe://cluster.local/ns/foo/sa/bar;Hash=abcd;Cert=\"" + joe_cert +
                             "\";Subject=\"CN=joe,O=certauth\";URI=;DNS=joe.example"),
                 joe);
    // Several elements are refused: a SAN in the client's certificate, which
    // Envoy writes unquoted (URI=, DNS=), can forge an element boundary.
    const auto forged = decode_xfcc("Hash=ab;Cert=\"" + bob_cert + "\";URI=x,Cert=" + joe_cert);
    REQUIRE(!forged);
    CHECK(forged.error().message.find("has 2 elements") != std::string::npos);
    CHECK(!decode_xfcc("Cert=\"" + joe_cert + "\",By=spiffe://x;Hash=1;Cert=\"" + bob_cert + "\""));
    // Chain= wins over Cert=, in either order.
    require_same(decode_xfcc("Cert=\"" + bob_cert + "\";Chain=\"" + carol_chain + "\""), carol);
    require_same(decode_xfcc("Chain=\"" + carol_chain + "\";Cert=\"" + bob_cert + "\""), carol);
    // Keys are case-insensitive.
    require_same(decode_xfcc("hash=1;cert=\"" + joe_cert + "\""), joe);
    require_same(decode_xfcc("CHAIN=" + carol_chain), carol); // unquoted: no ',', ';', '=' or '"' in it
    // Quoted values may hold ',', ';', '=' and '\"'.
    require_same(decode_xfcc("Subject=\"CN=a\\\"b, O=x;y\";Cert=\"" + joe_cert + "\""), joe);
    // Several field lines are joined with ", " before (decode_certificate_header):
    // two elements, refused.
    const CertificateHeader envoy{"X-Forwarded-Client-Cert", HeaderFormat::xfcc};
    const std::string first = "Cert=\"" + joe_cert + "\"";
    const std::string second = "By=x;Cert=\"" + bob_cert + "\"";
    const auto joined = decode_certificate_header(envoy, fields({first, second}));
    CHECK(!joined);

    SECTION("errors") {
        const auto no_cert = decode_xfcc("By=spiffe://x;Hash=abcd");
        REQUIRE(!no_cert);
        CHECK(no_cert.error().message.find("no Cert= or Chain=") != std::string::npos);
        const auto unclosed = decode_xfcc("Cert=\"" + joe_cert);
        REQUIRE(!unclosed);
        CHECK(unclosed.error().message.find("not closed") != std::string::npos);
        const auto twice = decode_xfcc("Cert=\"" + joe_cert + "\";cert=\"" + bob_cert + "\"");
        REQUIRE(!twice);
        CHECK(twice.error().message.find("twice") != std::string::npos);
        CHECK(!decode_xfcc("Cert"));
        CHECK(!decode_xfcc("=x"));
    }
}

TEST_CASE("rfc9440: byte sequences, Client-Cert-Chain over several field lines", "[server][header]") {
    // RFC 9440 section 2 (Client-Cert, Client-Cert-Chain) and appendix A's
    // example form ":MIIB...:"; Cloudflare's "Client certificate headers"
    // (developers.cloudflare.com, mTLS) sends both.
    const x509::Chain carol = chain_of("carol-chain.pem");
    const x509::Chain joe = chain_of("joe.crt");
    const x509::Chain ca = chain_of("ca.crt");
    const std::string leaf = ":" + b64(carol[0]) + ":";
    const std::string sub = ":" + b64(carol[1]) + ":";
    const std::string root = ":" + b64(ca[0]) + ":";
    require_same(decode_rfc9440(":" + b64(joe[0]) + ":", ""), joe);
    require_same(decode_rfc9440(leaf, sub), carol);
    // A byte sequence may drop base64's padding (RFC 8941 3.3.5 parsers accept it).
    std::string unpadded = b64(joe[0]);
    while (!unpadded.empty() && unpadded.back() == '=')
        unpadded.pop_back();
    require_same(decode_rfc9440(":" + unpadded + ":", ""), joe);
    // Parameters on an Item are ignored.
    require_same(decode_rfc9440(leaf + ";a=1;b=\"x;y\"", sub + ";z"), carol);

    const CertificateHeader cloudflare{"Client-Cert", HeaderFormat::rfc9440};
    CHECK(cloudflare.chain_name() == "Client-Cert-Chain");
    // The chain split over two field lines, joined as HTTP joins them.
    const auto split = decode_certificate_header(cloudflare, fields({leaf}, {sub, root}));
    REQUIRE(split);
    REQUIRE(*split);
    REQUIRE((*split)->size() == 3);
    CHECK((**split)[2].facts().fingerprint256 == ca[0].facts().fingerprint256);

    SECTION("errors name the field") {
        const auto no_colon = decode_rfc9440(b64(joe[0]), "");
        REQUIRE(!no_colon);
        CHECK(no_colon.error().message.rfind("Client-Cert: ", 0) == 0);
        const auto two = decode_rfc9440(leaf + ", " + sub, "");
        REQUIRE(!two);
        CHECK(two.error().message.find("more than one byte sequence") != std::string::npos);
        const auto bad_member = decode_rfc9440(leaf, sub + ", :!!:");
        REQUIRE(!bad_member);
        CHECK(bad_member.error().message.rfind("Client-Cert-Chain member 2: ", 0) == 0);
        const auto trailing = decode_rfc9440(leaf, sub + ",");
        REQUIRE(!trailing);
        CHECK(trailing.error().message.find("ends with ','") != std::string::npos);
        CHECK(!decode_rfc9440(":" + b64(joe[0]), ""));
    }
}

TEST_CASE("decode_certificate_header: absent, empty, twice, and the wrong format", "[server][header]") {
    const x509::Chain joe = chain_of("joe.crt");
    const CertificateHeader nginx{"X-Client-Cert", HeaderFormat::url_pem};
    const std::string value = nginx_escaped(pem_of(joe));

    const auto absent = decode_certificate_header(nginx, fields({}));
    REQUIRE(absent);
    CHECK(!*absent);
    // nginx sends the header empty for a client without a certificate.
    const auto empty = decode_certificate_header(nginx, fields({""}));
    REQUIRE(empty);
    CHECK(!*empty);
    const auto one = decode_certificate_header(nginx, fields({value}));
    REQUIRE(one);
    REQUIRE(*one);
    // A proxy that added its header beside the client's own: refused, never guessed.
    const auto twice = decode_certificate_header(nginx, fields({value, value}));
    REQUIRE(!twice);
    CHECK(twice.error().message ==
          "X-Client-Cert: sent 2 times; the proxy must replace the header a client sends, not add another");
    // A proxy set to another format: the error says what the value looks like.
    const CertificateHeader caddy{"X-Client-Cert", HeaderFormat::base64_der};
    const auto wrong = decode_certificate_header(caddy, fields({value}));
    REQUIRE(!wrong);
    CHECK(wrong.error().message.rfind("X-Client-Cert (base64-der): ", 0) == 0);
    CHECK(wrong.error().message.find("looks like url-pem") != std::string::npos);
}

TEST_CASE("proxy presets: header, format and original URI of each proxy", "[server][header]") {
    const ProxyPreset* nginx = proxy_preset_named("nginx");
    REQUIRE(nginx != nullptr);
    CHECK(nginx->header == "X-Client-Cert");
    CHECK(nginx->format == HeaderFormat::url_pem);
    CHECK(nginx->original_uri == "X-Original-URI");
    const ProxyPreset* alb = proxy_preset_named("aws-alb");
    REQUIRE(alb != nullptr);
    CHECK(alb->header == "X-Amzn-Mtls-Clientcert");
    CHECK(proxy_preset_named("envoy")->format == HeaderFormat::xfcc);
    CHECK(proxy_preset_named("cloudflare")->format == HeaderFormat::rfc9440);
    CHECK(proxy_preset_named("traefik")->header == "X-Forwarded-Tls-Client-Cert");
    CHECK(proxy_preset_named("apache") == nullptr);
    CHECK(proxy_presets().size() == 7);
    for (const ProxyPreset& preset : proxy_presets())
        CHECK(header_format_named(to_string(preset.format)) == preset.format);
    CHECK(!header_format_named("pem"));
}
