#pragma once
// Private to src/server: why certauth answered 502 or 504 for the
// application (forwarding.hpp sets it, certauth_upstream_errors_total{why}
// counts it).

#include <cstddef>
#include <string_view>

namespace certauth::server::detail {

enum class UpstreamError {
    none,
    connect,   // no connection: refused, unreachable (502)
    closed,    // closed or reset the connection before its answer (502)
    malformed, // its answer is not HTTP (502)
    timeout,   // no answer within --upstream-timeout (504)
};
inline constexpr std::size_t k_upstream_errors = 4; // without none

std::string_view to_label(UpstreamError why) noexcept;

} // namespace certauth::server::detail
