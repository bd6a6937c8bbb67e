// Who may use a trusted listener (include/certauth/server/trusted_proxies.hpp):
// CIDR ranges, single addresses, IPv4-mapped IPv6 peers, and the errors.
#include <certauth/server/trusted_proxies.hpp>

#include "support/catch.hpp"

using namespace certauth::server;

namespace {

std::vector<AddressRange> ranges(std::initializer_list<const char*> texts) {
    std::vector<AddressRange> out;
    for (const char* text : texts) {
        auto range = parse_address_range(text);
        INFO(text);
        REQUIRE(range);
        out.push_back(*range);
    }
    return out;
}

} // namespace

TEST_CASE("trusted proxies: ranges contain their peers", "[server][header]") {
    const auto lan = ranges({"10.0.0.0/8", "192.0.2.7", "fd00::/8"});
    CHECK(in_ranges(lan, "10.1.2.3"));
    CHECK(in_ranges(lan, "192.0.2.7"));
    CHECK(!in_ranges(lan, "192.0.2.8"));
    CHECK(!in_ranges(lan, "11.0.0.1"));
    CHECK(in_ranges(lan, "fd12::1"));
    CHECK(!in_ranges(lan, "fe80::1"));
    CHECK(in_ranges(lan, "::ffff:10.9.9.9")); // an IPv4 peer on a dual-stack socket
    CHECK(!in_ranges(lan, "not an address"));
    CHECK(in_ranges(ranges({"172.16.0.0/12"}), "172.31.255.255"));
    CHECK(!in_ranges(ranges({"172.16.0.0/12"}), "172.32.0.0"));
    CHECK(in_ranges(ranges({"0.0.0.0/0"}), "203.0.113.9"));

    const auto loopback = loopback_ranges();
    CHECK(in_ranges(loopback, "127.0.0.1"));
    CHECK(in_ranges(loopback, "127.8.9.10"));
    CHECK(in_ranges(loopback, "::1"));
    CHECK(!in_ranges(loopback, "192.168.1.1"));
    CHECK(!in_ranges(loopback, "::2"));
    CHECK(ranges_text(loopback) == "127.0.0.0/8, ::1");
}

TEST_CASE("trusted proxies: errors say what is wrong with a range", "[server][header]") {
    const auto not_address = parse_address_range("proxy.example");
    REQUIRE(!not_address);
    CHECK(not_address.error().message.find("not an IP address or range") != std::string::npos);
    const auto too_long = parse_address_range("10.0.0.0/33");
    REQUIRE(!too_long);
    CHECK(too_long.error().message == "10.0.0.0/33: the prefix length of an IPv4 range is 0 to 32");
    CHECK(!parse_address_range("::/129"));
    CHECK(!parse_address_range("10.0.0.0/"));
    CHECK(!parse_address_range("10.0.0.0/8x"));
    const auto host_bits = parse_address_range("10.0.0.1/8");
    REQUIRE(!host_bits);
    CHECK(host_bits.error().message.find("bits set beyond the /8 prefix") != std::string::npos);
}
