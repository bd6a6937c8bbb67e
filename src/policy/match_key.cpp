#include <certauth/policy/match_key.hpp>

#include <certauth/ascii.hpp>

#include <cctype>

#include <arpa/inet.h>

namespace certauth::policy {
namespace {

constexpr std::array<std::string_view, k_match_key_count> k_names{
    "cn", "o", "ou", "email", "dns", "uri", "ip", "fingerprint256", "serial", "issuer_cn"};

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Uppercase hex digits without colons; nullopt when anything else is there.
std::optional<std::string> bare_hex(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == ':') continue;
        if (!is_hex(c)) return std::nullopt;
        out += ascii::upper(c);
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// "3a1f..." / "3A:1F:..." -> "3A:1F:...": 32 bytes, uppercase, colon-separated.
std::optional<std::string> normalise_fingerprint(std::string_view text) {
    std::optional<std::string> hex = bare_hex(text);
    if (!hex || hex->size() != 64) return std::nullopt;
    std::string out;
    out.reserve(95);
    for (std::size_t i = 0; i < hex->size(); i += 2) {
        if (i) out += ':';
        out.append(*hex, i, 2);
    }
    return out;
}

// Serial numbers compare as numbers: uppercase hex, no colons, no leading zeros.
std::optional<std::string> normalise_serial(std::string_view text) {
    std::optional<std::string> hex = bare_hex(text);
    if (!hex) return std::nullopt;
    const std::size_t first = hex->find_first_not_of('0');
    return first == std::string::npos ? std::string("0") : hex->substr(first);
}

// IP addresses compare as addresses: the canonical text form of inet_ntop.
std::optional<std::string> normalise_ip(std::string_view text) {
    const std::string input(text);
    char buffer[INET6_ADDRSTRLEN] = {};
    unsigned char v4[4];
    if (::inet_pton(AF_INET, input.c_str(), v4) == 1) {
        if (::inet_ntop(AF_INET, v4, buffer, sizeof buffer) == nullptr) return std::nullopt;
        return std::string(buffer);
    }
    unsigned char v6[16];
    if (::inet_pton(AF_INET6, input.c_str(), v6) == 1) {
        if (::inet_ntop(AF_INET6, v6, buffer, sizeof buffer) == nullptr) return std::nullopt;
        return std::string(buffer);
    }
    return std::nullopt;
}

} // namespace

std::string_view name_of(MatchKey key) noexcept { return k_names[index_of(key)]; }

std::optional<MatchKey> match_key_named(std::string_view name) noexcept {
    for (MatchKey key : k_match_keys)
        if (k_names[index_of(key)] == name) return key;
    return std::nullopt;
}

std::string match_key_names() {
    std::string out;
    for (std::string_view name : k_names) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

std::optional<std::string> normalise_match_value(MatchKey key, std::string_view value) {
    switch (key) {
    case MatchKey::dns:
    case MatchKey::email: return ascii::lowered(value);
    case MatchKey::ip: return normalise_ip(value);
    case MatchKey::fingerprint256: return normalise_fingerprint(value);
    case MatchKey::serial: return normalise_serial(value);
    default: return std::string(value);
    }
}

} // namespace certauth::policy
