#pragma once
// ASCII text helpers: case folding and comparison of header names, media
// types, host names, match keys and HTTP methods, and trimming. They never
// consult the C locale (std::tolower does, through a call per character):
// what they fold is ASCII by definition (RFC 9110's tokens, DNS names), and
// any other byte is left as it is.

#include <string>
#include <string_view>

namespace certauth::ascii {

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

inline std::string lowered(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        c = lower(c);
    return out;
}

inline std::string uppered(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        c = upper(c);
    return out;
}

// Equal but for the case of ASCII letters.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

constexpr bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// Without the leading and trailing characters of `set`; by default spaces
// and tabs (RFC 9110's optional whitespace).
constexpr std::string_view trim(std::string_view text, std::string_view set = " \t") noexcept {
    const auto first = text.find_first_not_of(set);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(set) - first + 1);
}

} // namespace certauth::ascii
