#pragma once
// serve's --listen HOST:PORT, as nginx's listen reads it: an IPv4 address,
// [IPv6], a name (every address it resolves to), or * for every address.

#include <certauth/result.hpp>
#include <certauth/server/server.hpp>

#include <string_view>

namespace certauth::cli {

// "127.0.0.1:3443", "[::1]:3443", "localhost:3443", "*:3443", ":3443".
// Errors say what is expected ("x: expected HOST:PORT ..."); the caller
// names the flag.
Result<server::ListenAddress> parse_listen(std::string_view text);

} // namespace certauth::cli
