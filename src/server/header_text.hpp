#pragma once
// Private to src/server: small helpers for the text of HTTP header fields
// (names compared case-insensitively, optional whitespace, percent-encoding),
// shared by the header decoders (header_*.cpp), the identity headers and the
// forwarding. No Beast: the decoders are also built into a fuzz target.

#include <certauth/ascii.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace certauth::server::detail {

// Header names and XFCC keys are compared without case by the shared ASCII
// helpers (values are trimmed of optional whitespace by ascii::trim).
using ascii::iequals;
using ascii::istarts_with;

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
