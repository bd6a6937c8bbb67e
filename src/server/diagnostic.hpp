#pragma once
// Private to src/server: the server's diagnostics on standard error (start-up,
// reload, stop, and a connection that ended by an error), one line each,
// prefixed "certauth: ".

#include <string_view>

namespace certauth::server::detail {

// Writes "certauth: TEXT\n" to standard error in one write(2), so that lines
// of several threads never interleave.
void diagnostic(std::string_view text) noexcept;

} // namespace certauth::server::detail
