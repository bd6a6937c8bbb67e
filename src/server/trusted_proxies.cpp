#include <certauth/server/trusted_proxies.hpp>

#include <charconv>
#include <cstring>

#include <arpa/inet.h>

namespace certauth::server {
namespace {

// Parses a numeric IPv4 or IPv6 address into `bytes`.
bool parse_address(const std::string& text, bool& v6, unsigned char* bytes) {
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
        v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
        v6 = true;
        return true;
    }
    return false;
}

constexpr unsigned char k_v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

} // namespace

bool AddressRange::contains(bool peer_v6, const unsigned char* peer) const noexcept {
    if (peer_v6 && !v6 && std::memcmp(peer, k_v4_mapped, sizeof k_v4_mapped) == 0) {
        peer += sizeof k_v4_mapped; // ::ffff:a.b.c.d is a.b.c.d
        peer_v6 = false;
    }
    if (peer_v6 != v6) return false;
    const unsigned whole = prefix / 8;
    if (std::memcmp(peer, bytes.data(), whole) != 0) return false;
    const unsigned rest = prefix % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (peer[whole] & mask) == (bytes[whole] & mask);
}

Result<AddressRange> parse_address_range(std::string_view text) {
    AddressRange range;
    range.text = std::string(text);
    const auto slash = text.find('/');
    const std::string address(text.substr(0, slash));
    if (!parse_address(address, range.v6, range.bytes.data()))
        return Error{range.text + ": not an IP address or range (e.g. 10.0.0.0/8, 192.0.2.7, ::1, fd00::/8)"};
    const unsigned max = range.v6 ? 128 : 32;
    range.prefix = max;
    if (slash != std::string_view::npos) {
        const std::string_view length = text.substr(slash + 1);
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), value);
        if (length.empty() || ec != std::errc{} || end != length.data() + length.size() || value > max)
            return Error{range.text + ": the prefix length of an " + (range.v6 ? "IPv6" : "IPv4") + " range is 0 to " +
                         std::to_string(max)};
        range.prefix = value;
    }
    // No bit set past the prefix: "10.0.0.1/8" is most often a mistake.
    for (unsigned bit = range.prefix; bit < max; ++bit)
        if ((range.bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            return Error{range.text + ": the address has bits set beyond the /" + std::to_string(range.prefix) +
                         " prefix (the range starts at a network address, e.g. 10.0.0.0/8)"};
    return range;
}

std::vector<AddressRange> loopback_ranges() {
    std::vector<AddressRange> out;
    for (const std::string_view text : {"127.0.0.0/8", "::1"})
        out.push_back(*parse_address_range(text));
    return out;
}

bool in_ranges(const std::vector<AddressRange>& ranges, std::string_view address) {
    bool v6 = false;
    unsigned char bytes[16] = {};
    if (!parse_address(std::string(address), v6, bytes)) return false;
    for (const AddressRange& range : ranges)
        if (range.contains(v6, bytes)) return true;
    return false;
}

std::string ranges_text(const std::vector<AddressRange>& ranges) {
    std::string out;
    for (const AddressRange& range : ranges) {
        if (!out.empty()) out += ", ";
        out += range.text;
    }
    return out;
}

} // namespace certauth::server
