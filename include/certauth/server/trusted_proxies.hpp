#pragma once
// Who may use a trusted listener (--listen-trusted): the peers in
// --trusted-proxy, IP address ranges in CIDR notation. A trusted proxy's
// header is believed to hold the certificate its client presented, so the
// listener must not take requests from anyone else (docs/proxies.md).

#include <certauth/result.hpp>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::server {

// "10.0.0.0/8", "2001:db8::/32", or one address ("192.0.2.7": /32, "::1": /128).
struct AddressRange {
    bool v6 = false;
    std::array<unsigned char, 16> bytes{}; // network order; IPv4 in the first 4
    unsigned prefix = 0;                   // bits that must match
    std::string text;                      // as given, for messages

    bool contains(bool peer_v6, const unsigned char* peer) const noexcept;
};

// Errors say what is wrong ("10.0.0.0/33: the prefix length of an IPv4 range is 0 to 32").
// Bits set beyond the prefix ("10.0.0.1/8") are an error: a typo, most often.
Result<AddressRange> parse_address_range(std::string_view text);

// The default --trusted-proxy: loopback, 127.0.0.0/8 and ::1.
std::vector<AddressRange> loopback_ranges();

// Whether the peer `address` (as an IP address prints: "127.0.0.1", "::1")
// is in one of `ranges`; an IPv4-mapped IPv6 address ("::ffff:127.0.0.1")
// counts as its IPv4 address. False for anything that is not an address.
bool in_ranges(const std::vector<AddressRange>& ranges, std::string_view address);

// "127.0.0.0/8, ::1" for messages.
std::string ranges_text(const std::vector<AddressRange>& ranges);

} // namespace certauth::server
