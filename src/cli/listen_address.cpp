#include "cli/listen_address.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace certauth::cli {

Result<server::ListenAddress> parse_listen(std::string_view text) {
    const std::string usage =
        std::string(text) + ": expected HOST:PORT (e.g. 127.0.0.1:3443, [::1]:3443, localhost:3443, *:3443)";
    server::ListenAddress out;
    out.text = std::string(text);
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return Error{usage};
        out.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return Error{usage};
        out.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
        if (out.host.find(':') != std::string::npos) return Error{usage + " (IPv6 addresses go in brackets)"};
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535) return Error{usage};
    out.port = static_cast<std::uint16_t>(value);
    if (out.host.empty() || out.host == "*") out.host = "0.0.0.0";
    return out;
}

} // namespace certauth::cli
