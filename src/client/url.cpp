#include <certauth/client/url.hpp>

#include <certauth/ascii.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include <arpa/inet.h>

namespace certauth::client {
namespace {

Result<std::uint16_t> parse_port(std::string_view text, std::string_view context) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535)
        return Error{std::string(context) + ": invalid port '" + std::string(text) + "' (expected 1-65535)"};
    return static_cast<std::uint16_t>(value);
}

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

} // namespace

bool is_ip_address(std::string_view text) {
    const std::string s(text);
    unsigned char buf[16];
    return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool Url::host_is_ip() const { return is_ip_address(host); }

std::string Url::authority() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != 443) out += ":" + std::to_string(port);
    return out;
}

std::string Url::to_string() const { return "https://" + authority() + target; }

Result<Url> parse_url(std::string_view text) {
    const std::string context = "URL '" + std::string(text) + "'";
    constexpr std::string_view scheme = "https://";
    if (!ascii::istarts_with(text, scheme)) {
        if (text.find("://") == std::string_view::npos) return Error{context + ": expected https://HOST[:PORT][/PATH]"};
        return Error{context + ": only https:// URLs are supported (probe speaks TLS)"};
    }
    std::string_view rest = text.substr(scheme.size());
    const std::size_t path_at = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_at);
    std::string_view target = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
    if (const std::size_t hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
    if (authority.find('@') != std::string_view::npos) return Error{context + ": user information is not supported"};

    Url url;
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return Error{context + ": unterminated '[' in the host"};
        url.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return Error{context + ": unexpected text after ']'"};
            port_text = after.substr(1);
            if (port_text.empty()) return Error{context + ": empty port"};
        }
        if (!is_ip_address(url.host)) return Error{context + ": '" + url.host + "' is not an IPv6 address"};
    } else {
        const std::size_t colon = authority.rfind(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return Error{context + ": empty port"};
        }
    }
    if (url.host.empty()) return Error{context + ": no host"};
    for (char c : url.host)
        if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '\\')
            return Error{context + ": invalid character in the host"};
    if (!port_text.empty()) {
        auto port = parse_port(port_text, context);
        if (!port) return port.error();
        url.port = *port;
    }
    if (target.empty()) target = "/";
    url.target = target.front() == '?' ? "/" + std::string(target) : std::string(target);
    for (char c : url.target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return Error{context + ": the path holds a space or control character (percent-encode it)"};
    return url;
}

Result<ResolveOverride> parse_resolve(std::string_view text) {
    const std::string context = "'" + std::string(text) + "'";
    const std::size_t first = text.find(':');
    const std::size_t second = first == std::string_view::npos ? first : text.find(':', first + 1);
    if (second == std::string_view::npos) return Error{context + ": expected HOST:PORT:ADDRESS"};
    ResolveOverride out;
    out.host = std::string(text.substr(0, first));
    if (out.host.empty()) return Error{context + ": empty host"};
    auto port = parse_port(text.substr(first + 1, second - first - 1), context);
    if (!port) return port.error();
    out.port = *port;
    std::string_view address = text.substr(second + 1);
    if (address.size() >= 2 && address.front() == '[' && address.back() == ']')
        address = address.substr(1, address.size() - 2);
    out.address = std::string(address);
    if (!is_ip_address(out.address)) return Error{context + ": '" + out.address + "' is not a numeric IP address"};
    return out;
}

Result<Header> parse_header(std::string_view text) {
    const std::string context = "header '" + std::string(text) + "'";
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) return Error{context + ": expected 'Name: value'"};
    Header header{std::string(text.substr(0, colon)), std::string(ascii::trim(text.substr(colon + 1)))};
    if (header.name.empty() || !std::all_of(header.name.begin(), header.name.end(), is_token_char))
        return Error{context + ": invalid header name"};
    for (char c : header.value)
        if (c == '\r' || c == '\n' || c == '\0') return Error{context + ": control character in the value"};
    return header;
}

std::string connect_host(const Url& url, const std::vector<ResolveOverride>& overrides) {
    for (const ResolveOverride& o : overrides) {
        if (ascii::iequals(o.host, url.host) && o.port == url.port) return o.address;
    }
    return url.host;
}

} // namespace certauth::client
