#pragma once
// `certauth serve`: the mTLS HTTPS server (docs/serve.md). Worker threads
// run Asio/Beast (inside src/server and src/client only); the thread that
// calls run() handles the signals (SIGHUP reloads, SIGUSR1 reopens the
// access log, SIGTERM/SIGINT stop gracefully) and the status listener.

#include <certauth/client/upstream.hpp>
#include <certauth/result.hpp>
#include <certauth/server/access_log.hpp>
#include <certauth/server/header_certificate.hpp>
#include <certauth/server/identity_headers.hpp>
#include <certauth/server/metrics_writer.hpp>
#include <certauth/server/server_state.hpp>
#include <certauth/server/tls_context.hpp>
#include <certauth/server/trusted_proxies.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace certauth::server {

// The phases of a connection, as ServerOptions::fault_injection sees them.
enum class ConnectionPhase { detect, handshake, read, handle, write };

// How long a connection may take and how much it may send (serve's timeout
// and size options); the defaults are serve's.
struct Limits {
    std::chrono::milliseconds handshake_timeout{10'000}; // TCP accept to TLS handshake done (and a silent client)
    std::chrono::milliseconds request_timeout{10'000};   // first byte of a request to its end
    std::chrono::milliseconds idle_timeout{60'000};      // kept-alive connection waiting for its next request
    std::chrono::milliseconds shutdown_timeout{10'000};  // SIGTERM: in-flight requests finish within this
    std::size_t max_connections = 10'000;                // further connections are closed at accept
    std::size_t max_header_size = 16 * 1024;             // request line + headers; beyond: 431
    std::size_t max_body_size = 64 * 1024;               // beyond: 413
};

// An address to listen on: a numeric address, or a name (every address it
// resolves to; "localhost" is 127.0.0.1 and ::1). Port 0: a free port.
struct ListenAddress {
    std::string host; // without brackets; "0.0.0.0" for every IPv4 address
    std::uint16_t port = 0;
    std::string text;      // as given, for messages ("localhost:3443")
    std::string unix_path; // a unix socket instead ("unix:/run/certauth.sock"; trusted listeners only)
};

// Forwarding authorised requests to an application (--upstream): output
// forward instead of answer.
struct UpstreamOptions {
    client::UpstreamTarget target;
    std::chrono::milliseconds timeout{60'000};      // connect + response header; beyond: 504
    std::chrono::milliseconds idle_timeout{60'000}; // a kept-alive connection to it unused this long is closed
    std::uint64_t max_body_size = 0;                // of a forwarded request body; 0: no limit
    ForwardCert forward_cert = ForwardCert::no;     // --forward-cert
};

// The status listener (--status): /metrics, /status and /healthz in plain
// HTTP, on a loopback address or a unix socket, apart from the clients'.
struct StatusAddress {
    std::string unix_path; // unix:/path (the socket file); "" for TCP
    ListenAddress tcp;     // a numeric loopback address; port 0: a free port
    std::string text;      // as given, for messages
};

// What certauth_build_info and /status say of the program.
struct BuildInfo {
    std::string version; // "0.1.0"
    std::string commit;  // "bbaea61", "unknown"
};

// The trusted-header input (--listen-trusted): plain HTTP from proxies that
// terminated TLS and send each client's certificate in a header
// (docs/proxies.md). Requests are decided one by one.
struct TrustedInput {
    std::vector<ListenAddress> listen; // TCP addresses and unix sockets
    CertificateHeader header;          // where the certificate is, and how
    // The header holding the URI the proxy's client asked for (routed in
    // answer mode: auth subrequests go to a path of their own); "" for the
    // request's own target. Forwarding always routes the target it forwards.
    std::string original_uri;
    std::vector<AddressRange> proxies = loopback_ranges(); // peers of TCP listeners that may use them
};

struct ServerOptions {
    std::vector<ListenAddress> listen{{"127.0.0.1", 3443, "127.0.0.1:3443", {}}}; // TLS; may be empty with `trusted`
    TlsSettings tls;    // its certificate and key: needed when `listen` is not empty
    StateLoader loader; // reads trust store and users (start-up and every reload)
    // How a reload's error is told in its diagnostic (the CLI names the
    // setting's flag: cli/setting_flag.hpp); the message alone when empty.
    std::function<std::string(const Error&)> describe_error;
    std::string config_file; // named in the start-up line ("" when none)
    unsigned threads = 0;    // 0: one per core; each runs its own event loop (SO_REUSEPORT listeners)
    LogFormat log_format = LogFormat::text;
    std::string access_log_file; // "" for standard output; reopened on SIGUSR1

    std::optional<StatusAddress> status; // none: no status listener, nothing counted
    BuildInfo build;
    // More for /metrics and /status (the user directory's sync state).
    std::vector<std::shared_ptr<const StatusSource>> status_sources;

    Limits limits;
    std::optional<UpstreamOptions> upstream; // none: answer with the user (the default output)
    std::optional<TrustedInput> trusted;     // --listen-trusted and its options

    // For tests: called as each phase of every connection begins. What it
    // throws stands for any failure there; the connection must end cleanly
    // and no other connection be affected. Empty in production.
    std::function<void(ConnectionPhase)> fault_injection;
};

struct BoundAddress {
    std::string host; // as given ("127.0.0.1", "::1", "localhost")
    unsigned short port = 0;
    bool trusted = false;  // a trusted listener (plain HTTP from proxies)
    std::string unix_path; // a unix socket (trusted listeners)
    // "https://127.0.0.1:3443", "https://[::1]:3443"; trusted:
    // "http://127.0.0.1:9000", "unix:/run/certauth.sock".
    std::string url() const;
};

class Server {
  public:
    // Loads the state, builds the TLS context and binds every address.
    // Errors (port in use, unreadable key, key not matching the certificate,
    // bad users file) name the cause; the caller exits 2.
    static Result<std::unique_ptr<Server>> create(ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    const std::vector<BoundAddress>& addresses() const noexcept;
    // Connections open now, on every worker (accepted, not yet closed).
    std::size_t open_connections() const noexcept;
    // The status listener's address ("http://127.0.0.1:9090",
    // "unix:/run/certauth/status.sock"); "" without --status.
    std::string status_url() const;

    // Prints the start-up lines on stderr, serves until SIGTERM/SIGINT (or
    // stop()), then drains in-flight requests within the shutdown timeout.
    // Returns the exit code (0).
    int run();

    // Thread-safe: what SIGHUP and SIGTERM do.
    void reload();
    void stop();

  private:
    struct Impl;
    explicit Server(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace certauth::server
