#pragma once
// Test support for the server tests: `certauth serve` as a child process on
// an ephemeral port, and a small blocking TLS/HTTP client on plain OpenSSL
// (keeps a connection open across reloads, speaks HTTP/1.0 and 1.1, sends
// raw bytes). Every socket operation has a timeout.

#include "support/process.hpp"

#include <certauth/x509/ossl.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/ssl.h>

namespace certauth::test {

// `certauth serve ARGS --listen 127.0.0.1:0` in `cwd`; waits for the
// "listening on" line. Stopped (SIGTERM, then SIGKILL) when destroyed.
class ServeProcess {
  public:
    ServeProcess(std::vector<std::string> args, const std::string& cwd = source_path("fixtures"));
    bool started() const noexcept { return m_port != 0; }
    unsigned short port() const noexcept { return m_port; }
    ChildProcess& process() { return *m_process; }
    std::string output() const { return m_process->output(); }
    // Sends SIGHUP and waits for "reloaded (generation N)" or "reload
    // failed"; returns the line (empty on timeout).
    std::string reload();
    // SIGTERM and the exit code (nullopt on timeout).
    std::optional<int> terminate(std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));

  private:
    std::unique_ptr<ChildProcess> m_process;
    unsigned short m_port = 0;
};

struct HttpResponse {
    int status = 0;
    std::string version;                        // "HTTP/1.1"
    std::map<std::string, std::string> headers; // lower-case names
    std::string body;

    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
    std::string reason() const; // the body's "reason", "" when absent
    std::string header(const std::string& name) const;
};

struct ClientOptions {
    std::string cert; // PEM file, may hold a chain (leaf first); "" for none
    std::string key;
    bool tls = true;               // false: plain TCP
    int max_version = 0;           // e.g. TLS1_2_VERSION; 0 = default (1.3)
    SSL_SESSION* resume = nullptr; // a session to offer for resumption (borrowed)
    bool nagle = false;            // keep Nagle's algorithm (no TCP_NODELAY), as ab and Python's sockets do
    int security_level = -1;       // the client's OpenSSL security level (-1: the default), set before its certificate
    // Called on the client's context last, before the connection: protocol
    // versions, ciphers, extra chain certificates (the hostile-client tests).
    std::function<void(SSL_CTX*)> configure;
};

class HttpClient {
  public:
    // Connects to 127.0.0.1:port and, for TLS, completes the handshake;
    // nullptr (and *error) when the connection or the handshake fails.
    static std::unique_ptr<HttpClient> connect(unsigned short port, const ClientOptions& options,
                                               std::string* error = nullptr);
    ~HttpClient();

    bool send(const std::string& bytes);
    // Reads one response, as its framing says (Content-Length, chunked, or
    // to the end of the stream; HEAD: no body). nullopt on error, on broken
    // framing or on end of stream before a complete response (last_error()).
    std::optional<HttpResponse> read(bool head = false);
    // Exactly `size` bytes (what a read() left over first): raw bytes after
    // a 101, for instance. nullopt on error or end of stream (last_error()).
    std::optional<std::string> read_exactly(std::size_t size);
    // GET/HEAD `path` with HTTP/1.1 (keep-alive) and read the answer.
    std::optional<HttpResponse> request(const std::string& method, const std::string& path,
                                        const std::string& extra_headers = "");
    // True when the server has closed the connection (EOF or close_notify),
    // waiting at most `timeout`; false when bytes came (or are left over
    // from the last response) before the close.
    bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

    std::string tls_version() const;
    bool session_reused() const;
    SSL_SESSION* session() const;                        // borrowed
    SSL* native() const noexcept { return m_ssl.get(); } // borrowed; nullptr for plain TCP
    const std::string& last_error() const noexcept { return m_error; }

  private:
    HttpClient() = default;
    // Up to `size` bytes; <= 0 at the end of the stream (m_ended) or on an
    // error (m_error says which).
    long read_some(char* buffer, int size);

    int m_fd = -1;
    x509::Ptr<SSL_CTX> m_ctx;
    x509::Ptr<SSL> m_ssl;
    std::string m_pending;
    std::string m_error;
    bool m_ended = false; // the server ended the stream (a FIN, close_notify, or a FIN without it)
};

// Sends a WebSocket upgrade for `path` (with `extra_headers`) on `client`'s
// connection; true when the answer is 101 (the connection is then a tunnel).
bool upgrade_to_websocket(HttpClient& client, const std::string& path, const std::string& extra_headers = "");
// One masked text frame out through a tunnel to an echoing application;
// true when the same text comes back in one unmasked frame.
bool websocket_echoes(HttpClient& client, const std::string& text);

// One GET on a new connection.
std::optional<HttpResponse> fetch(unsigned short port, const std::string& path, const std::string& cert = "",
                                  const std::string& key = "", const std::string& method = "GET");

} // namespace certauth::test
