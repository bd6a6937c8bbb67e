#pragma once
// The pieces of a probe target, parsed as curl reads them: an https URL, a
// --resolve HOST:PORT:ADDR override and a -H "Name: value" header.

#include <certauth/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::client {

struct Url {
    std::string host; // as written, without brackets for IPv6 ("::1")
    std::uint16_t port = 443;
    std::string target = "/"; // path and query, starting with '/'

    bool host_is_ip() const;
    // "localhost:3443", "[::1]:3443"; the port left out when it is 443 (the Host header).
    std::string authority() const;
    // "https://localhost:3443/x"
    std::string to_string() const;
};

// https://HOST[:PORT][/PATH[?QUERY]]. Only https: probe talks TLS. Errors say
// what is wrong with the URL.
Result<Url> parse_url(std::string_view text);

// curl's --resolve HOST:PORT:ADDR ("localhost:3443:127.0.0.1",
// "example.org:443:[::1]"): connect to ADDR when the URL names HOST:PORT.
struct ResolveOverride {
    std::string host;
    std::uint16_t port = 0;
    std::string address; // numeric, without brackets
};
Result<ResolveOverride> parse_resolve(std::string_view text);

struct Header {
    std::string name;
    std::string value;
};
// "Name: value" (curl's -H). The name must be a token; the value is trimmed.
Result<Header> parse_header(std::string_view text);

// The address to connect to for `url`: the first matching override's
// address, else the URL's host (to be resolved).
std::string connect_host(const Url& url, const std::vector<ResolveOverride>& overrides);

// True when `text` is a numeric IPv4 or IPv6 address.
bool is_ip_address(std::string_view text);

} // namespace certauth::client
