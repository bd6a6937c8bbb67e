#pragma once
// Private to src/client: the OpenSSL side of a client connection, shared by the
// one-request client (client.cpp) and the load generator (load.cpp). No
// Asio/Beast here.

#include <certauth/client/client.hpp>
#include <certauth/x509/ossl.hpp>

#include <string>
#include <string_view>

namespace certauth::client::detail {

// Filled by OpenSSL's callbacks while one connection handshakes.
struct HandshakeRecord {
    long first_verify_error = X509_V_OK; // the first verification error (verification stops there)
    int verify_depth = -1;
    std::string verify_subject;  // subject of the certificate that failed
    x509::Ptr<X509> server_leaf; // seen by the verify callback, also when verification fails
    bool certificate_requested = false;
    bool certificate_sent = false;
    std::vector<std::string> requested_cas; // filled by summarise()
    int alert = -1;                         // fatal alert received from the server
};

enum class Detail {
    lean,    // load runs: verification record only
    verbose, // one request: also the handshake messages and alerts
};

// Per connection: SNI (not for IP addresses), the name the server
// certificate must match (unless -k), and the record the callbacks fill.
// `record` must outlive the SSL's handshake.
void prepare_ssl(SSL* ssl, const ClientContext& context, const std::string& verify_name, HandshakeRecord* record,
                 Detail detail);

// What the handshake established, from the SSL and the record.
void summarise(SSL* ssl, const HandshakeRecord& record, TlsSummary& out);

// A TLS failure, classified by OpenSSL's packed error code (the error a
// handshake or read failed with): server verification, hostname, the alert
// the server sent. `record` may be null (load runs).
Failure classify_tls_failure(unsigned long ossl_error, const HandshakeRecord* record, const ClientContext& context,
                             std::string_view verify_name);

} // namespace certauth::client::detail
