#pragma once
// Certificate: one parsed X.509 certificate (shared, immutable), and Chain:
// leaf first, as a client presents it or a file holds it.

#include <certauth/result.hpp>
#include <certauth/x509/facts.hpp>
#include <certauth/x509/ossl.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace certauth::x509 {

class Certificate {
  public:
    // Takes ownership of one reference.
    explicit Certificate(Ptr<X509> cert);
    Certificate(const Certificate& other);
    Certificate& operator=(const Certificate& other);
    Certificate(Certificate&&) noexcept = default;
    Certificate& operator=(Certificate&&) noexcept = default;
    ~Certificate() = default;

    X509* native() const noexcept { return m_cert.get(); } // borrowed

    CertFacts facts() const;

    // The object Node.js's tlsSocket.getPeerCertificate() returns (and
    // crypto.X509Certificate#toLegacyObject()), field for field and formatted
    // as Node formats it, keys in Node's order; without the raw/pubkey
    // buffers.
    nlohmann::ordered_json node_object() const;

    // Key description for people: "RSA 2048", "EC P-256", "Ed25519".
    std::string key_description() const;

  private:
    Ptr<X509> m_cert;
};

using Chain = std::vector<Certificate>; // leaf first

// Parses every certificate in `bytes`: PEM (one or more blocks, other PEM
// blocks such as keys ignored) or DER (one certificate). `origin` names the
// source in error messages ("joe.crt", "standard input"). An input holding no
// certificate, broken base64, truncated DER or trailing garbage is an error
// saying so.
Result<Chain> parse_chain(std::string_view bytes, std::string_view origin);

// Reads `path` ("-" is standard input) and parses it as parse_chain does.
// Errors name the file: missing, a directory, unreadable, empty, ...
Result<Chain> load_chain(const std::filesystem::path& path);

// Reads a whole file (or "-": standard input) into memory; errors name it.
Result<std::string> read_file(const std::filesystem::path& path);
// How messages name a file given as `path`: "standard input" for "-".
std::string source_name(const std::filesystem::path& path);

// The entries of an OpenSSL name in certificate order, UTF-8 (a server's
// list of acceptable CAs, a CRL's issuer); Name::to_string prints it.
Name to_name(const X509_NAME* name);

} // namespace certauth::x509
