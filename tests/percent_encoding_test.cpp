// The shared percent-encoding (include/certauth/percent_encoding.hpp): what
// the encoder keeps, and what the decoder accepts and refuses.
#include <certauth/percent_encoding.hpp>

#include "support/catch.hpp"

#include <cstddef>
#include <optional>
#include <string>

using namespace certauth;

TEST_CASE("percent encoding: unreserved characters and the kept ones stay, every other byte is %XX", "[percent]") {
    CHECK(percent_encoded("AZaz09-._~") == "AZaz09-._~");
    CHECK(percent_encoded("a b/c+\n") == "a%20b%2Fc%2B%0A");
    CHECK(percent_encoded("a b/c", "/") == "a%20b/c");
    CHECK(percent_encoded("\xC3\xA9") == "%C3%A9");
}

TEST_CASE("percent decoding: either case of hex, '+' stays '+', a bad escape is named by its place", "[percent]") {
    std::size_t where = 0;
    CHECK(percent_decode("%2f%2F%41", where) == "//A");
    CHECK(percent_decode("a+b%20c", where) == "a+b c");
    CHECK(percent_decode("", where) == "");
    CHECK(percent_decode(percent_encoded("-----BEGIN x\n+/="), where) == "-----BEGIN x\n+/=");

    CHECK_FALSE(percent_decode("ab%4", where));
    CHECK(where == 3);
    CHECK_FALSE(percent_decode("%G1", where));
    CHECK(where == 1);
    CHECK_FALSE(percent_decode("x%", where));
    CHECK(where == 2);

    CHECK(hex_digit('0') == 0);
    CHECK(hex_digit('9') == 9);
    CHECK(hex_digit('a') == 10);
    CHECK(hex_digit('F') == 15);
    CHECK(hex_digit('g') == -1);
    CHECK(hex_digit('/') == -1);
    CHECK(hex_digit(':') == -1);
    CHECK(hex_digit('@') == -1);
    CHECK(hex_digit('`') == -1);
    CHECK(hex_digit('G') == -1);
}
