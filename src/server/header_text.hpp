#pragma once
// Private to src/server: small helpers for the text of HTTP header fields
// (names compared case-insensitively, optional whitespace, percent-encoding),
// shared by the header decoders (header_*.cpp), the identity headers and the
// forwarding. No Beast: the decoders are also built into a fuzz target.

#include <cctype>
#include <optional>
#include <string>
#include <string_view>

namespace certauth::server::detail {

// ASCII case-insensitive comparison (header names, XFCC keys).
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

inline bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// Without leading and trailing spaces and tabs (RFC 9110's OWS).
inline std::string_view trim_ows(std::string_view text) noexcept {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

inline int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decoding (RFC 3986 2.1): "%2B" is '+'. A '+' stays a '+': it is
// not a space here (AWS ALB leaves '+' raw in its URL-encoded PEM, and no
// producer writes a space as '+'). nullopt at a '%' not followed by two
// hex digits; `where` then holds its position (from 1).
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

} // namespace certauth::server::detail
