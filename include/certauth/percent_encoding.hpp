#pragma once
// Percent-encoding and decoding (RFC 3986, section 2.1). Encoding: for
// URIs certauth writes (a PostgreSQL directory's name) and the PEM of
// XFCC's Cert and Chain. Decoding: for the certificates proxies send in
// headers (URL-encoded PEM, XFCC, Traefik's URL-escaped base64 DER) and, by
// hex_digit, for request paths (policy's normalise_path, which refuses some
// decoded bytes).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace certauth {

// Every byte but the unreserved characters (letters, digits, "-._~") and
// those a caller keeps becomes "%XX" in upper-case hex.
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

// The value of a hex digit (either case); -1 for any other character.
inline int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "%2B" is '+'. A '+' stays a '+': it is not a space here (AWS ALB leaves
// '+' raw in its URL-encoded PEM, and no producer writes a space as '+').
// nullopt at a '%' not followed by two hex digits; `where` then holds its
// position (from 1).
inline std::optional<std::string> percent_decode(std::string_view text, std::size_t& where) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        const int high = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
        const int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
        if (high < 0 || low < 0) {
            where = i + 1;
            return std::nullopt;
        }
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

} // namespace certauth
