#pragma once
// Private helpers of the x509 layer, shared by certificate.cpp,
// node_object.cpp and trust_store.cpp: PEM scanning, time conversion,
// names, OpenSSL error reasons. Not part of the public interface.

#include <certauth/result.hpp>
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/facts.hpp>
#include <certauth/x509/ossl.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::x509::detail {

using TimePoint = std::chrono::system_clock::time_point;

// One PEM block of a text: its label and where it starts. `der` holds the
// decoded body for the labels the caller asked to decode, else it is empty.
struct PemBlock {
    std::string label;    // "CERTIFICATE", "PRIVATE KEY", "X509 CRL", ...
    std::size_t line = 0; // 1-based line of the BEGIN line
    std::string der;      // decoded body (only for decoded labels)
};

struct PemScan {
    std::vector<PemBlock> blocks;
    std::size_t trailing_line = 0; // line of non-whitespace text after the last END line; 0 when none
};

// parse_chain, telling "no certificate at all" apart: then `no_certificate`
// holds why ("a PEM PRIVATE KEY block, not a certificate", "empty", ...).
Result<Chain> parse_certificates(std::string_view bytes, const std::string& origin, std::string& no_certificate);

// True when `bytes` has a line starting with "-----BEGIN ".
bool looks_like_pem(std::string_view bytes);

// Scans every PEM block of `text`. Blocks with a label in `decoded_labels`
// are base64-decoded (error: "line 3: invalid base64 ..."); every block needs
// a matching END line. Text before and between blocks is ignored; text after
// the last block is reported in trailing_line. Errors carry no origin.
Result<PemScan> scan_pem(std::string_view text, const std::vector<std::string_view>& decoded_labels);

// The outer DER length of `bytes` (tag 0x30 header + content), or nullopt
// when no definite-length SEQUENCE header can be read.
std::optional<std::size_t> der_sequence_size(std::string_view bytes);

// nullopt when unreadable; times beyond what TimePoint holds (before
// 1677-09-21, after 2262-04-11) saturate to TimePoint::min() / max().
std::optional<TimePoint> to_time_point(const ASN1_TIME* time);
// "CN=joe" (Name::to_string of the subject / issuer).
std::string subject_of(const X509* cert);
std::string issuer_of(const X509* cert);
// Uppercase hex as Node's serialNumber ("1004"); "" when unreadable.
std::string serial_hex(const X509* cert);
// Uppercase colon-separated hex digest ("AB:CD:...").
std::string fingerprint(const X509* cert, const EVP_MD* md);

// For making certificates and CRLs:
// An ASN1_TIME (UTCTime before 2050, GeneralizedTime from 2050 on, as RFC 5280 says).
Ptr<ASN1_STRING> to_asn1_time(TimePoint time);
// An ASN1_INTEGER from hex ("1004", any case); error for anything else.
Result<Ptr<ASN1_STRING>> to_asn1_serial(std::string_view hex);
// The digest to sign with `key`: SHA-256, or none for Ed25519/Ed448 (their own scheme).
const EVP_MD* signing_digest(const EVP_PKEY* key);

// The value of a base64 digit (RFC 4648 alphabet), -1 for any other byte.
int base64_value(unsigned char c);
// "'!'", or "0x0A" for a byte that is not printable: for messages.
std::string printable(char c);

} // namespace certauth::x509::detail
