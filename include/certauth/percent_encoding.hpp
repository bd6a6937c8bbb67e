#pragma once
// Percent-encoding (RFC 3986, section 2.1): every byte but the unreserved
// characters (letters, digits, "-._~") and those a caller keeps becomes
// "%XX" in upper-case hex. For URIs certauth writes (a PostgreSQL
// directory's name) and the PEM of XFCC's Cert and Chain.

#include <string>
#include <string_view>

namespace certauth {

inline std::string percent_encoded(std::string_view text, std::string_view kept = {}) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved || kept.find(c) != std::string_view::npos) {
            out += c;
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += hex[byte >> 4U];
            out += hex[byte & 0xFU];
        }
    }
    return out;
}

} // namespace certauth
