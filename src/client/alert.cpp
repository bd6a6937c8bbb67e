// TLS alert names (RFC 8446 section 6.2, RFC 5246 section 7.2, RFC 7301 for
// no_application_protocol), for reports and scenario files.
#include <certauth/client/alert.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace certauth::client {
namespace {

constexpr std::array<std::pair<int, std::string_view>, 34> k_alerts{{
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {21, "decryption_failed"},
    {22, "record_overflow"},
    {30, "decompression_failure"},
    {40, "handshake_failure"},
    {41, "no_certificate"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {60, "export_restriction"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {100, "no_renegotiation"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {111, "certificate_unobtainable"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
}};

} // namespace

std::string alert_name(int code) {
    const auto it =
        std::find_if(k_alerts.begin(), k_alerts.end(), [code](const auto& entry) { return entry.first == code; });
    return it != k_alerts.end() ? std::string(it->second) : "alert_" + std::to_string(code);
}

bool is_alert_name(std::string_view name) noexcept {
    return std::any_of(k_alerts.begin(), k_alerts.end(), [name](const auto& entry) { return entry.second == name; });
}

} // namespace certauth::client
