#pragma once
// serve's --status ADDR: where the status listener (/metrics, /status,
// /healthz) listens - a loopback address with its port, or a unix socket.

#include <certauth/result.hpp>
#include <certauth/server/server.hpp>

#include <string_view>

namespace certauth::cli {

// "127.0.0.1:9090", "[::1]:9090", "localhost:9090" (127.0.0.1),
// "unix:/run/certauth/status.sock". Any other host is an error: the status
// pages carry no authentication and stay on this machine.
Result<server::StatusAddress> parse_status_address(std::string_view text);

} // namespace certauth::cli
