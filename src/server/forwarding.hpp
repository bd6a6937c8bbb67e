#pragma once
// Private to src/server: the upstream half of a session - one request
// forwarded to the application (--upstream), its response relayed back, and
// a WebSocket (any Upgrade the application accepts with 101) tunnelled both
// ways. Like the session it belongs to, a state machine that runs until a
// socket must become readable or writable and says which (Need); the
// session does the waiting. Bodies stream through bounded buffers in both
// directions, re-framed by certauth: Content-Length stays Content-Length,
// chunked stays chunked, a response without either is chunked to an
// HTTP/1.1 client. Hop-by-hop headers and every identity header the client
// sent are dropped; certauth's identity headers and X-Forwarded-For, -Proto
// and -Host are set.

#include "request_reader.hpp"
#include "tls_socket.hpp"
#include "upstream_connection.hpp"
#include "upstream_error.hpp"

#include <certauth/client/upstream.hpp>
#include <certauth/server/handler.hpp>
#include <certauth/server/server.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::server::detail {

// The client's side of the connection, as the upstream half reads and
// writes it (TLS or plain).
class ClientIo {
  public:
    virtual Io read(char* data, std::size_t size, std::size_t& n) = 0;
    // All of `data` is taken, or want_*: then call again with the same bytes.
    virtual Io write(std::string_view data) = 0;
    // Output held back (TLS records) goes to the socket; done when none is left.
    virtual Io flush() = 0;

  protected:
    ClientIo() = default;
    ~ClientIo() = default;
    ClientIo(const ClientIo&) = default;
    ClientIo& operator=(const ClientIo&) = default;
};

// What the forwarding waits for, and until when.
struct Need {
    bool client_read = false;
    bool client_write = false;
    bool upstream_read = false;
    bool upstream_write = false;
    std::chrono::steady_clock::time_point deadline;
};

// How a forwarding ended.
struct Forwarded {
    // The application's answer was relayed whole and both sides may carry
    // the next request: the client connection goes on.
    bool keep_client = false;
    // Nothing reached the client: certauth answers this (400, 413, 502, 504)
    // and closes.
    std::optional<Response> answer;
    std::string answer_detail; // what its JSON's "detail" says
    // What the client sent beyond this exchange (a pipelined next request).
    std::string leftover;
    int status = 0;          // what the client got (0: nothing complete)
    int upstream_status = 0; // what the application answered (0: nothing)
    std::chrono::microseconds upstream_latency{0};
    UpstreamError upstream_error = UpstreamError::none; // set with a 502 or 504 answer
    // Tried again on a new connection (whatever came of it): the kept-alive
    // one it went on first turned out closed by the application before its
    // answer.
    bool retried = false;
};

// How the client reached certauth: over TLS, or through a trusted proxy
// (--listen-trusted), whose X-Forwarded-For and -Proto go on (extended).
enum class ClientLink { tls, trusted_proxy };

// How much a step reads or re-frames at a time.
inline constexpr std::size_t k_forwarding_scratch = 64 * 1024;

class Forwarding {
  public:
    using Steady = std::chrono::steady_clock;

    // Takes the request whose header `header` holds (nothing of the body
    // parsed yet); `client_bytes` is what the client sent beyond the header.
    // `identity` is the handler's Forward::identity (it must outlive this
    // object); `peer_address` the client's IP. `scratch` is the worker's
    // (WorkerLocal::scratch, at least k_forwarding_scratch bytes): bytes
    // pass through it within one step() and never stay there.
    // New connections to the application are registered with `executor`'s
    // event loop (the worker's, which the pool's connections belong to).
    Forwarding(const ForwardingConfig& config, UpstreamPool& pool, const UpstreamConnection::Executor& executor,
               std::span<char> scratch, ClientIo& client, RequestParser&& header, std::string client_bytes,
               std::string_view identity, std::string_view peer_address, ClientLink link, Steady::time_point now);
    ~Forwarding();
    Forwarding(const Forwarding&) = delete;
    Forwarding& operator=(const Forwarding&) = delete;

    // Runs until it must wait (returns what for) or is over (nullopt: see
    // result()).
    std::optional<Need> step(Steady::time_point now);
    const Forwarded& result() const noexcept;

    // What to wait on for the application's side (null when none).
    UpstreamConnection::Descriptor* upstream() noexcept;
    // Whether the last read of the application's connection emptied it
    // (UpstreamConnection::take_emptied).
    bool take_upstream_emptied() noexcept;
    // The application's connection, once, when it was taken from the pool
    // without the check (UpstreamConnection::quiet()) and nothing of the
    // answer has come on it yet: a close that came with its last answer may
    // be in it, unannounced. Null otherwise.
    UpstreamConnection::Descriptor* unchecked_upstream() noexcept;
    // The deadline passed: 504 when the application's answer has not begun,
    // else the exchange is cut. step() says what follows.
    void timed_out() noexcept;
    // A tunnel (WebSocket) is open: a reload may end it (the session
    // decides, and drops the connection).
    bool tunnelling() const noexcept;
    // The request's method and target, for the access log (views into the
    // request, valid as long as this object).
    std::string_view method() const noexcept;
    std::string_view target() const noexcept;
    // Its Accept header ("" when none): a browser's gets certauth's own
    // answer (Forwarded::answer) as a page.
    std::string_view accept() const noexcept;

  private:
    struct State;
    std::unique_ptr<State> m;
};

} // namespace certauth::server::detail
