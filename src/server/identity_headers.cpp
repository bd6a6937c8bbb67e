#include <certauth/server/identity_headers.hpp>

#include <certauth/ascii.hpp>
#include <certauth/json_text.hpp>
#include <certauth/percent_encoding.hpp>
#include <certauth/x509/encoding.hpp>

#include <openssl/x509.h>

namespace certauth::server {
namespace {

void line(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
}

// A header value from certificate text: control characters (CR and LF
// among them) as \XX, so that nothing a certificate holds can end a header.
std::string header_safe(std::string_view text) { return x509::escape_control_characters(text); }

// An XFCC value: quoted, with '"' and '\' escaped (Envoy quotes Subject,
// Cert and Chain always).
std::string xfcc_quoted(std::string_view text) {
    std::string out = "\"";
    for (const char c : header_safe(text)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

// A value XFCC writes unquoted unless it holds one of its separators.
std::string xfcc_value(std::string_view text) {
    if (text.find_first_of(",;=\"") != std::string_view::npos) return xfcc_quoted(text);
    return header_safe(text);
}

// Envoy URL-encodes the PEM it puts in Cert and Chain (newline, space, +,
// /, =, and what is not printable).
std::string url_encoded_pem(const x509::Certificate& cert) { return percent_encoded(x509::to_pem(cert.native())); }

// "3a1f..." from "3A:1F:...": Envoy's Hash is lowercase hex.
std::string xfcc_hash(std::string_view fingerprint) {
    std::string out;
    for (const char c : fingerprint)
        if (c != ':') out += ascii::lower(c);
    return out;
}

std::string roles_of(const nlohmann::json& user) {
    std::string out;
    const auto it = user.find("roles");
    if (it == user.end() || !it->is_array()) return out;
    for (const nlohmann::json& role : *it) {
        if (!role.is_string()) continue;
        if (!out.empty()) out += ',';
        out += header_safe(role.get_ref<const std::string&>());
    }
    return out;
}

void forward_cert_headers(std::string& out, const x509::Chain& chain) {
    std::string client_cert;
    std::string client_chain;
    if (!chain.empty()) {
        client_cert = ":" + x509::to_base64(x509::to_der(chain.front().native())) + ":";
        for (std::size_t i = 1; i < chain.size(); ++i) {
            if (!client_chain.empty()) client_chain += ", ";
            client_chain += ":" + x509::to_base64(x509::to_der(chain[i].native())) + ":";
        }
    }
    line(out, "Client-Cert", client_cert);
    line(out, "Client-Cert-Chain", client_chain);
}

} // namespace

std::string identity_headers(const policy::Decision& decision, const x509::CertFacts* leaf, const x509::Chain& chain,
                             ForwardCert forward_cert) {
    if (!decision.allowed() || !decision.user || leaf == nullptr) return empty_identity_headers(forward_cert);
    std::string out;
    line(out, "X-Certauth-User", json_text(*decision.user, -1, Ascii::escaped));
    line(out, "X-Certauth-CN", header_safe(leaf->cn()));
    line(out, "X-Certauth-Roles", roles_of(*decision.user));
    line(out, "X-Certauth-Fingerprint256", leaf->fingerprint256);

    std::string xfcc = "Hash=" + xfcc_hash(leaf->fingerprint256);
    if (forward_cert == ForwardCert::yes && !chain.empty()) {
        xfcc += ";Cert=\"" + url_encoded_pem(chain.front()) + "\"";
        std::string pems;
        for (const x509::Certificate& cert : chain)
            pems += url_encoded_pem(cert);
        xfcc += ";Chain=\"" + pems + "\"";
    }
    xfcc += ";Subject=" + xfcc_quoted(leaf->subject.to_string());
    for (const std::string& uri : leaf->san_uri)
        xfcc += ";URI=" + xfcc_value(uri);
    for (const std::string& dns : leaf->san_dns)
        xfcc += ";DNS=" + xfcc_value(dns);
    line(out, "X-Forwarded-Client-Cert", xfcc);
    if (forward_cert == ForwardCert::yes) forward_cert_headers(out, chain);
    out.shrink_to_fit(); // kept by the connection as long as it lives
    return out;
}

std::string empty_identity_headers(ForwardCert forward_cert) {
    std::string out = "X-Certauth-User: \r\nX-Certauth-CN: \r\nX-Certauth-Roles: \r\nX-Certauth-Fingerprint256: "
                      "\r\nX-Forwarded-Client-Cert: \r\n";
    if (forward_cert == ForwardCert::yes) out += "Client-Cert: \r\nClient-Cert-Chain: \r\n";
    out.shrink_to_fit(); // kept by the connection as long as it lives
    return out;
}

std::string reason_header(policy::Reason reason) {
    std::string out;
    line(out, "X-Certauth-Reason", policy::to_string(reason));
    return out;
}

bool is_identity_header(std::string_view name) noexcept {
    if (ascii::istarts_with(name, "x-certauth-") || ascii::iequals(name, "x-forwarded-client-cert") ||
        ascii::iequals(name, "client-cert") || ascii::iequals(name, "client-cert-chain"))
        return true;
    // Other proxies' names for a client certificate or its verification (the
    // presets of header_certificate.cpp, nginx's usual X-SSL-*, IIS's
    // X-ARR-ClientCert): an application or a middleware behind certauth may
    // read them, and only a proxy in front may set them.
    return ascii::istarts_with(name, "x-client-cert") || ascii::istarts_with(name, "x-ssl-") ||
           ascii::istarts_with(name, "x-forwarded-tls-client-cert") || ascii::istarts_with(name, "x-amzn-mtls-") ||
           ascii::iequals(name, "x-arr-clientcert");
}

} // namespace certauth::server
