// The header formats' names, the proxy presets, and the decision of what a
// request's certificate header holds (header_certificate.hpp); the decoders
// themselves are in header_url_pem.cpp, header_base64_der.cpp,
// header_xfcc.cpp and header_rfc9440.cpp.
#include <certauth/server/header_certificate.hpp>

#include <certauth/ascii.hpp>

#include <array>
#include <utility>

namespace certauth::server {
namespace {

constexpr std::array<std::pair<HeaderFormat, std::string_view>, 4> k_formats{{
    {HeaderFormat::url_pem, "url-pem"},
    {HeaderFormat::base64_der, "base64-der"},
    {HeaderFormat::xfcc, "xfcc"},
    {HeaderFormat::rfc9440, "rfc9440"},
}};

// What a value that did not decode looks like instead, for the error: a
// proxy configured with another format is the usual cause.
std::string_view looks_like(std::string_view value) {
    value = ascii::trim(value);
    if (ascii::istarts_with(value, "-----BEGIN") || ascii::istarts_with(value, "-----BEGIN%20") ||
        ascii::istarts_with(value, "%2D%2D%2D%2D%2DBEGIN"))
        return "url-pem";
    if (!value.empty() && value.front() == ':') return "rfc9440";
    if (ascii::istarts_with(value, "MII")) return "base64-der";
    for (const std::string_view key : {"Hash=", "Cert=", "Chain=", "By=", "Subject="})
        for (std::size_t at = value.find('='); at != std::string_view::npos; at = value.find('=', at + 1))
            if (at + 1 >= key.size() && ascii::iequals(value.substr(at + 1 - key.size(), key.size()), key))
                return "xfcc";
    return {};
}

std::string joined(const std::vector<std::string_view>& lines) {
    std::string out;
    for (const std::string_view line : lines) {
        if (!out.empty()) out += ", ";
        out += line;
    }
    return out;
}

} // namespace

std::string_view to_string(HeaderFormat format) noexcept {
    for (const auto& [value, name] : k_formats)
        if (value == format) return name;
    return "url-pem";
}

std::optional<HeaderFormat> header_format_named(std::string_view name) noexcept {
    for (const auto& [value, text] : k_formats)
        if (text == name) return value;
    return std::nullopt;
}

std::string CertificateHeader::chain_name() const {
    return format == HeaderFormat::rfc9440 ? name + "-Chain" : std::string();
}

const std::vector<ProxyPreset>& proxy_presets() {
    // Each proxy's own documentation names these; docs/proxies.md has the table.
    static const std::vector<ProxyPreset> presets{
        {"nginx", "X-Client-Cert", HeaderFormat::url_pem, "X-Original-URI"},
        {"caddy", "X-Client-Cert", HeaderFormat::base64_der, "X-Forwarded-Uri"},
        {"haproxy", "X-Client-Cert", HeaderFormat::base64_der, ""},
        {"traefik", "X-Forwarded-Tls-Client-Cert", HeaderFormat::base64_der, "X-Forwarded-Uri"},
        {"envoy", "X-Forwarded-Client-Cert", HeaderFormat::xfcc, ""},
        {"aws-alb", "X-Amzn-Mtls-Clientcert", HeaderFormat::url_pem, ""},
        {"cloudflare", "Client-Cert", HeaderFormat::rfc9440, ""},
    };
    return presets;
}

const ProxyPreset* proxy_preset_named(std::string_view name) noexcept {
    for (const ProxyPreset& preset : proxy_presets())
        if (preset.name == name) return &preset;
    return nullptr;
}

Result<std::optional<x509::Chain>> decode_certificate_header(const CertificateHeader& header,
                                                             const CertificateFields& fields) {
    using Found = std::optional<x509::Chain>;
    const std::vector<std::string_view>& values = fields.values;
    if (values.empty()) return Found{};
    // XFCC lines join into one list (decode_xfcc accepts one element only).
    // Every other header holds one certificate (or one chain) and must come
    // once: two lines mean a proxy added its own to the client's.
    if (header.format != HeaderFormat::xfcc && values.size() > 1)
        return Error{header.name + ": sent " + std::to_string(values.size()) +
                     " times; the proxy must replace the header a client sends, not add another"};
    const std::string value = header.format == HeaderFormat::xfcc ? joined(values) : std::string(values.front());
    if (ascii::trim(value).empty()) return Found{};

    Result<x509::Chain> chain = Error{};
    switch (header.format) {
    case HeaderFormat::url_pem: chain = decode_url_pem(value); break;
    case HeaderFormat::base64_der: chain = decode_base64_der(value); break;
    case HeaderFormat::xfcc: chain = decode_xfcc(value); break;
    case HeaderFormat::rfc9440: {
        const Result<x509::Chain> decoded =
            decode_rfc9440(value, joined(fields.chain), header.name, header.chain_name());
        if (decoded) return Found{*decoded};
        return decoded.error(); // names its fields itself
    }
    }
    if (chain) return Found{std::move(*chain)};
    std::string message = header.name + " (" + std::string(to_string(header.format)) + "): " + chain.error().message;
    const std::string_view other = looks_like(value);
    if (!other.empty() && other != to_string(header.format))
        message += "; the value looks like " + std::string(other) + ": is the proxy's format set right?";
    return Error{message};
}

} // namespace certauth::server
