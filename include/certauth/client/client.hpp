#pragma once
// The client side of certauth probe: a TLS client context (client
// certificate, trusted CAs for the server) and one HTTPS request with what a
// person needs to understand its outcome: status and body, TLS version and
// cipher, the server's certificate, the CA names the server asked for, and
// for a failure which kind it was (refused, not resolved, timed out, server
// not trusted, hostname mismatch, client certificate refused, ...).
// No Asio/Beast types here: the implementation keeps them in src/client.

#include <certauth/client/url.hpp>
#include <certauth/result.hpp>
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/ossl.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace certauth::client {

struct ClientTlsOptions {
    std::filesystem::path cert;   // client certificate (PEM, leaf first, may hold the key too); empty: none
    std::filesystem::path key;    // client key (PEM); empty: the key inside `cert`
    std::filesystem::path cacert; // CAs trusted for the server certificate; empty: the system store
    bool insecure = false;        // -k: do not verify the server certificate (nor its name); without cacert no store
};

// An OpenSSL client context: TLS 1.2 minimum, the client certificate and key
// (checked to match before any connection), the trust store for the server.
// Shared by every connection of a load run (SSL_CTX is thread-safe to use).
class ClientContext {
  public:
    // Errors name the file and say what is wrong ("joe.key: does not match the
    // certificate in bob.crt (CN=bob)").
    static Result<ClientContext> create(const ClientTlsOptions& options);

    SSL_CTX* native() const noexcept { return m_ctx.get(); } // borrowed
    bool insecure() const noexcept { return m_insecure; }
    // The client certificate chain (leaf first); empty when none is configured.
    const x509::Chain& certificate_chain() const noexcept { return m_chain; }

  private:
    ClientContext() = default;
    x509::Ptr<SSL_CTX> m_ctx;
    x509::Chain m_chain;
    bool m_insecure = false;
};

enum class HttpMethod { get, head };
std::string_view to_string(HttpMethod method) noexcept; // "GET", "HEAD"
// "GET" or "HEAD", in any case; nullopt for any other method.
std::optional<HttpMethod> parse_method(std::string_view text) noexcept;

struct ClientRequest {
    Url url;
    HttpMethod method = HttpMethod::get;
    std::vector<Header> headers;              // added to (or replacing) Host, User-Agent, Accept
    std::vector<ResolveOverride> resolve;     // curl's --resolve
    std::string servername;                   // SNI and the name checked in the server certificate; "" = URL host
    std::chrono::milliseconds timeout{10000}; // for the whole exchange (curl's --max-time)
};

// What kind of failure ended an exchange; to_string gives a stable key
// ("connection_refused") for JSON reports and load summaries.
enum class FailureKind {
    name_not_resolved,
    connection_refused,
    connection_failed, // other socket errors (unreachable, reset, ...)
    timed_out,
    server_untrusted,            // the server certificate did not verify
    hostname_mismatch,           // ... or does not name the host
    client_certificate_required, // the server wants a client certificate and none was sent
    client_certificate_refused,  // the server rejected the client certificate (by alert)
    handshake_failed,            // any other TLS failure
    connection_closed,           // closed before a complete response
    http_error,                  // a response probe could not parse
};
std::string_view to_string(FailureKind kind) noexcept;

struct Failure {
    FailureKind kind = FailureKind::handshake_failed;
    std::string message; // for a person: what failed and, where known, why
};

struct TlsSummary {
    bool handshake_done = false;
    std::string version; // "TLSv1.3"
    std::string cipher;  // "TLS_AES_256_GCM_SHA384"
    bool resumed = false;
    x509::Chain server_chain;               // as the server sent it, leaf first
    long verify_result = 0;                 // X509_V_OK or the first verification error (also with -k)
    std::string verify_error;               // its text, with depth and subject; "" when verified
    bool certificate_requested = false;     // the server sent a CertificateRequest
    std::vector<std::string> requested_cas; // the CA names it listed (RFC 2253), may be empty
    bool certificate_sent = false;          // we answered with a non-empty Certificate
    std::string alert; // the fatal alert the server sent, by its RFC name ("certificate_required"); "" none
};

struct ClientResponse {
    int version = 11; // 10 or 11
    int status = 0;
    std::string reason_phrase;
    std::vector<Header> headers;
    std::string body; // up to k_body_limit bytes
};

inline constexpr std::size_t k_body_limit = 8 * 1024 * 1024;

struct Exchange {
    std::string peer; // the address connected to ("127.0.0.1:3443"); "" before
    TlsSummary tls;   // as far as the handshake got
    std::optional<ClientResponse> response;
    std::optional<Failure> failure; // set exactly when there is no response
    std::chrono::microseconds connect_time{0}, handshake_time{0}, total_time{0};
};

// One request over a new connection, then the connection is closed. Never
// throws for network or TLS failures: they are in `failure`.
Exchange fetch(const ClientContext& context, const ClientRequest& request);

// The "reason" string of a certauth JSON body ({"error":..,"reason":"x",..})
// without a full JSON parse (load runs call it on every response); "" when
// absent.
std::string_view body_reason(std::string_view body) noexcept;

// A response body as JSON, for reports and comparisons: discarded
// (is_discarded()) when it is not JSON, or nests arrays and objects deeper
// than 64 levels (copying and printing recurse per level: a server answering
// 100,000 nested brackets crashed probe --json).
nlohmann::json parse_body(std::string_view body);

} // namespace certauth::client
