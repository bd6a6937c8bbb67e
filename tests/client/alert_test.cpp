#include <certauth/client/alert.hpp>

#include "support/catch.hpp"

#include <openssl/ssl.h>
#include <openssl/tls1.h>

using namespace certauth::client;

TEST_CASE("alert names are the RFC's - alert_N for a code no RFC names", "[client]") {
    CHECK(alert_name(TLS13_AD_CERTIFICATE_REQUIRED) == "certificate_required");
    CHECK(alert_name(TLS1_AD_UNKNOWN_CA) == "unknown_ca");
    CHECK(alert_name(SSL3_AD_BAD_CERTIFICATE) == "bad_certificate");
    CHECK(alert_name(SSL3_AD_CERTIFICATE_EXPIRED) == "certificate_expired");
    CHECK(alert_name(SSL3_AD_CERTIFICATE_REVOKED) == "certificate_revoked");
    CHECK(alert_name(SSL3_AD_UNSUPPORTED_CERTIFICATE) == "unsupported_certificate");
    CHECK(alert_name(SSL3_AD_HANDSHAKE_FAILURE) == "handshake_failure");
    CHECK(alert_name(TLS1_AD_PROTOCOL_VERSION) == "protocol_version");
    CHECK(alert_name(TLS1_AD_NO_APPLICATION_PROTOCOL) == "no_application_protocol");
    CHECK(alert_name(200) == "alert_200");

    CHECK(is_alert_name("certificate_required"));
    CHECK(is_alert_name("close_notify"));
    CHECK_FALSE(is_alert_name("certificate required"));
    CHECK_FALSE(is_alert_name("alert_200"));
    CHECK_FALSE(is_alert_name(""));
}
