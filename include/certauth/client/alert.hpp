#pragma once
// TLS alert descriptions by the names RFC 8446 (section 6) and RFC 5246 give
// them: "certificate_required", "unknown_ca", ... The stable words of probe's
// reports and scenario files; OpenSSL's own texts ("tlsv13 alert certificate
// required") stay in failure messages.

#include <string>
#include <string_view>

namespace certauth::client {

// The name of alert description `code` (0-255); "alert_N" for a code no RFC
// names.
std::string alert_name(int code);

// Whether `name` is one of the names alert_name gives for a registered alert.
bool is_alert_name(std::string_view name) noexcept;

} // namespace certauth::client
