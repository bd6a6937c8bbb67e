#pragma once
// CertFacts: the identity-relevant fields of one certificate as plain values,
// no OpenSSL types, so that the policy layer (and its tests) work on facts
// built in memory.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::x509 {

struct NameEntry {
    std::string key;   // OpenSSL short name: "CN", "O", "OU", "C", "emailAddress", ...; dotted OID when unnamed
    std::string value; // UTF-8
};

// `text` with its control characters (below 0x20, and DEL) written as \XX,
// as openssl and RFC 4514 write them: certificate fields are the sender's
// to choose, and a terminal escape sequence in a CN must never reach a
// terminal or a log raw. UTF-8 passes unchanged.
std::string escape_control_characters(std::string_view text);

// A distinguished name in certificate order (most significant RDN first).
struct Name {
    std::vector<NameEntry> entries;

    // Every value of `key`, in order ("OU" may repeat).
    std::vector<std::string> values(std::string_view key) const;
    // The value of `key` when the name has exactly one; "" when it has none
    // or several (then no single one of them is the name's).
    std::string only(std::string_view key) const;
    // "CN=joe, O=Example" style, most specific first as people read it
    // (OpenSSL's RFC 2253 order, UTF-8, escaped commas).
    std::string to_string() const;
};

struct CertFacts {
    Name subject;
    Name issuer;
    // subjectAltName entries by kind, in certificate order. IP addresses are
    // in canonical text form (inet_ntop: "127.0.0.1", "::1").
    std::vector<std::string> san_dns;
    std::vector<std::string> san_email;
    std::vector<std::string> san_uri;
    std::vector<std::string> san_ip;
    std::string serial;         // uppercase hex, as Node's serialNumber
    std::string fingerprint256; // SHA-256, uppercase, colon-separated
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;

    // The identity a CN gives: the subject's CN when it has exactly one.
    // A certificate with two CNs (CN=bob, CN=joe, or CN=bob+CN=joe) has no
    // CN identity: matching on cn, the user object's "cn" and the log would
    // otherwise disagree on which of them it is.
    std::string cn() const { return subject.only("CN"); }
    std::string issuer_cn() const { return issuer.only("CN"); }
};

} // namespace certauth::x509
