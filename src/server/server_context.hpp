#pragma once
// Private to src/server: what the listeners and sessions of one server share.
// Plain types and one Asio type (the accepted socket); Beast stays in
// session.cpp.

#include <certauth/client/upstream.hpp>
#include <certauth/server/access_log.hpp>
#include <certauth/server/handler.hpp>
#include <certauth/server/server.hpp>
#include <certauth/server/server_state.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/optional/optional.hpp>

namespace certauth::server::detail {

// What every forwarding of one server shares (read-only): --upstream.
struct ForwardingConfig {
    UpstreamOptions options;
    std::vector<client::UpstreamAddress> addresses; // resolved at start-up
    Limits limits;
    // Not forwarded either: the trusted input's certificate headers
    // (--client-cert-header; the application gets the identity headers).
    std::vector<std::string> dropped_headers;
};

struct ServerContext {
    ServerContext(StateHolder& holder, const Limits& limit, const AccessLog& log,
                  std::function<void(ConnectionPhase)> faults = {},
                  std::optional<ForwardingConfig> forward = std::nullopt,
                  std::optional<TrustedInput> trusted_input = std::nullopt)
        : states(holder), limits(limit), access_log(log), fault_injection(std::move(faults)),
          forwarding(std::move(forward)), trusted(std::move(trusted_input)) {}

    StateHolder& states;
    const Limits limits;
    const AccessLog& access_log;
    const std::function<void(ConnectionPhase)> fault_injection; // tests only (ServerOptions)
    const std::optional<ForwardingConfig> forwarding;           // --upstream
    const std::optional<TrustedInput> trusted;                  // --listen-trusted
    std::atomic<std::size_t> connections{0};
    std::atomic<bool> stopping{false};
    // The workers count for the metrics (--status); set before they start.
    bool count_metrics = false;

    // Signalled when the last connection closes (graceful stop waits on it).
    std::mutex drain_mutex;
    std::condition_variable drained;

    Output output() const noexcept { return forwarding ? Output::forward : Output::answer; }
    ForwardCert forward_cert() const noexcept {
        return forwarding ? forwarding->options.forward_cert : ForwardCert::no;
    }
    // The limit of a forwarded request's body (none: unlimited).
    boost::optional<std::uint64_t> forward_body_limit() const noexcept {
        if (!forwarding || forwarding->options.max_body_size == 0) return boost::none;
        return forwarding->options.max_body_size;
    }

    void connection_closed() {
        if (connections.fetch_sub(1, std::memory_order_acq_rel) == 1 && stopping.load(std::memory_order_acquire)) {
            { std::lock_guard lock(drain_mutex); }
            drained.notify_all();
        }
    }
};

// An accepted connection's socket, bound to its worker's io_context (no
// type-erased executor).
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

struct WorkerLocal;
class ConnectionSet;

// Which listener accepted a connection.
enum class Listening {
    tls,          // --listen: TLS (or plain HTTP, answered 401)
    trusted,      // --listen-trusted HOST:PORT: plain HTTP, from --trusted-proxy peers only
    trusted_unix, // --listen-trusted unix:/path: plain HTTP; its peers are trusted (file permissions decide)
};

// Starts serving an accepted connection (counted in `context.connections`
// by the caller) on the calling worker thread: `connections` owns it,
// `local` is the worker's. The session ends itself. A unix socket's
// connection comes as a Socket too: the session does only what any stream
// descriptor does (waits, reads, writes, close).
void start_session(Socket&& socket, ServerContext& context, WorkerLocal& local, ConnectionSet& connections,
                   Listening listening = Listening::tls) noexcept;

} // namespace certauth::server::detail
