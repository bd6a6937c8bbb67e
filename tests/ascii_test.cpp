// The shared ASCII helpers (include/certauth/ascii.hpp): they fold ASCII
// letters only and trim the characters asked for.
#include <certauth/ascii.hpp>

#include "support/catch.hpp"

#include <string>

using namespace certauth;

TEST_CASE("ascii: letters fold, every other byte stays as it is", "[ascii]") {
    CHECK(ascii::lowered("X-Certauth-User: A-Z_09") == "x-certauth-user: a-z_09");
    CHECK(ascii::uppered("get /a-z") == "GET /A-Z");
    // Bytes beyond ASCII are no letters to fold: UTF-8's "É" (C3 89) and
    // Latin-1's "É" and "é" (C9, E9, 0x20 apart like 'A' and 'a') come out
    // unchanged and unequal.
    const std::string bytes = "\xC3\x89\xC9\xE9";
    CHECK(ascii::lowered(bytes) == bytes);
    CHECK(ascii::uppered(bytes) == bytes);
    CHECK_FALSE(ascii::iequals("\xC9", "\xE9"));
    CHECK(ascii::lower('@') == '@');
    CHECK(ascii::lower('[') == '[');
    CHECK(ascii::upper('`') == '`');
    CHECK(ascii::upper('{') == '{');
}

TEST_CASE("ascii: comparison without case", "[ascii]") {
    CHECK(ascii::iequals("Content-Length", "content-length"));
    CHECK(ascii::iequals("", ""));
    CHECK_FALSE(ascii::iequals("Content-Length", "Content-Lengths"));
    CHECK_FALSE(ascii::iequals("a", "b"));
    // '@' and '`' are 0x20 apart like 'A' and 'a', but are no letters.
    CHECK_FALSE(ascii::iequals("@", "`"));
    CHECK(ascii::istarts_with("X-Certauth-Roles", "x-certauth-"));
    CHECK_FALSE(ascii::istarts_with("X-Cert", "x-certauth-"));
    CHECK(ascii::istarts_with("anything", ""));
}

TEST_CASE("ascii: trim", "[ascii]") {
    CHECK(ascii::trim(" \t value \t") == "value");
    CHECK(ascii::trim("a b") == "a b");
    CHECK(ascii::trim(" \t ").empty());
    CHECK(ascii::trim("").empty());
    // Only what is asked for: a newline is no optional whitespace.
    CHECK(ascii::trim("\nvalue ") == "\nvalue");
    CHECK(ascii::trim("\r\n value\f\v", " \t\r\n\f\v") == "value");
}
