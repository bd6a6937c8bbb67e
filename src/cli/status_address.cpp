#include "cli/status_address.hpp"

#include "cli/listen_address.hpp"

#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace certauth::cli {
namespace {

bool loopback(const std::string& host) {
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24U) == 127U;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

} // namespace

Result<server::StatusAddress> parse_status_address(std::string_view text) {
    server::StatusAddress out;
    out.text = std::string(text);
    constexpr std::string_view unix_prefix = "unix:";
    if (text.substr(0, unix_prefix.size()) == unix_prefix) {
        out.unix_path = std::string(text.substr(unix_prefix.size()));
        if (out.unix_path.empty() || out.unix_path.front() != '/')
            return Error{"--status: " + out.text + ": expected unix:/absolute/path/of/the/socket"};
        return out;
    }
    const std::string usage = "--status: " + out.text +
                              ": expected a loopback HOST:PORT (127.0.0.1:9090, [::1]:9090, localhost:9090) or "
                              "unix:/path (the status pages have no authentication)";
    auto address = parse_listen(text);
    if (!address) return Error{usage};
    if (address->host == "localhost") address->host = "127.0.0.1";
    if (!loopback(address->host)) return Error{usage};
    out.tcp = std::move(*address);
    return out;
}

} // namespace certauth::cli
