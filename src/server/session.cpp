// One client connection: TLS or plain HTTP (the first byte, peeked), the TLS
// handshake, then HTTP/1.1 requests until the client, a timeout or a
// graceful stop ends it. All of a connection's work runs on the worker
// thread that accepted it, as one state machine: each step runs until a
// socket must become readable or writable (tls_socket.hpp's Io), and
// async_wait on that socket resumes it. No per-operation timer: the
// connection stores its deadline and its worker's sweep ends it once past
// (connection_set.hpp). No per-connection buffer while the connection
// waits: requests are read and answers written through the worker's
// buffers (thread_buffers.hpp), and only bytes that must outlive a wait (a
// request cut in pieces, pipelined requests, an answer the socket would not
// take at once) are copied to the connection.
//
// A request's header decides what happens to it (handler.hpp's action):
// answered here, or forwarded to the application by the connection's
// upstream half (forwarding.hpp), which has a socket of its own; then both
// sockets may be waited on at once. The connection's decision comes from
// server_state.cpp.
#include "connection_set.hpp"
#include "diagnostic.hpp"
#include "forwarding.hpp"
#include "handshake_failure.hpp"
#include "header_input.hpp"
#include "page_response.hpp"
#include "request_reader.hpp"
#include "server_context.hpp"
#include "thread_buffers.hpp"
#include "tls_socket.hpp"
#include "trusted_request.hpp"
#include "worker_metrics.hpp"

#include <certauth/client/upstream.hpp>
#include <certauth/policy/decide.hpp>
#include <certauth/server/accept.hpp>
#include <certauth/server/handler.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <variant>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace certauth::server::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;
using Descriptor = UpstreamConnection::Descriptor;

// A read asks for at least this much room.
constexpr std::size_t k_min_read = 1024;
// The thread's buffers are given back to this size after a larger request
// or answer.
constexpr std::size_t k_thread_buffer = 16 * 1024;
// How long a closing connection waits for the client's close_notify.
constexpr std::chrono::milliseconds k_close_wait{2000};

// The Date header, formatted once per second per thread.
std::string_view current_date(Clock::time_point now) {
    thread_local long long cached_second = -1;
    thread_local std::string cached;
    const long long second = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (second != cached_second) {
        cached = http_date(second);
        cached_second = second;
    }
    return cached;
}

// "127.0.0.1:50412", "[::1]:50412" (with_port), or the address alone.
std::string peer_of(const Socket& socket, bool with_port = true) {
    error_code ec;
    const tcp::endpoint endpoint = socket.remote_endpoint(ec);
    if (ec) return "-";
    const asio::ip::address address = endpoint.address();
    if (!with_port) return address.to_string();
    // Appended piece by piece: g++ 12 -O2 warns (-Wrestrict, wrongly) on "[" + s + "]".
    std::string text;
    if (address.is_v6()) text += '[';
    text += address.to_string();
    if (address.is_v6()) text += ']';
    text += ':';
    text += std::to_string(endpoint.port());
    return text;
}

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

// A request whose client waits for "100 Continue" before it sends the body
// (Expect: 100-continue): answered at its header when the answer does not
// depend on the body, and the connection closed (RFC 9110 10.1.1 allows a
// final status instead of 100); else the client waits its own timeout
// (curl: 1 s) and sends the body only to be refused.
bool expects_continue(const RequestParser& parser) {
    const auto& request = parser.get();
    const auto expect = request.find(http::field::expect);
    return expect != request.end() && beast::iequals(expect->value(), "100-continue");
}

class Session final : public Connection, private ClientIo {
  public:
    Session(Socket&& socket, ServerContext& context, WorkerLocal& local, ConnectionSet& owner, Listening listening)
        : m_context(context), m_local(local), m_owner(owner), m_socket(std::move(socket)),
          m_metrics(context.count_metrics ? &local.metrics : nullptr), m_listening(listening) {
        // OpenSSL and the plain reads use the descriptor directly: it must
        // not block (Asio sets O_NONBLOCK only for its own operations).
        error_code ec;
        m_socket.non_blocking(true, ec);
        if (ec) drop();
        if (m_context.access_log.enabled()) m_peer = peer_of(m_socket);
    }

    ~Session() override { m_context.connection_closed(); }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start() {
        // Dropped unserved when the server is stopping.
        if (m_dropped || m_context.stopping.load(std::memory_order_relaxed)) return end();
        set_deadline(Steady::now() + m_context.limits.handshake_timeout);
        run();
    }

    // The sweep: the deadline of the current phase passed. Dropped - unless
    // a forwarded request waits for the application: then it answers 504
    // (Forwarding::timed_out), woken by cancelling its waits.
    void expire() noexcept override {
        if (m_forward && m_phase == Phase::forwarding && !m_dropped) {
            m_forward->timed_out();
            error_code ignored;
            m_socket.cancel(ignored);
            if (auto* upstream = m_forward->upstream()) upstream->cancel(ignored);
            if (m_waits == 0) run();
            return;
        }
        if (m_phase == Phase::handshake && m_metrics) m_metrics->handshake_failed(HandshakeFailure::timeout);
        drop();
    }

    // A graceful stop: a connection waiting for a client that has not sent
    // a request is closed now; a request in flight is answered (with
    // Connection: close) first.
    void stop_gracefully() noexcept override {
        m_stopping = true;
        if (m_phase == Phase::detect || m_phase == Phase::handshake || m_phase == Phase::idle) drop();
        if (m_forward && m_forward->tunnelling()) drop();
    }

    // At each sweep. A FIN that came with the last bytes read (wait()) is
    // looked for once, on the client's socket and on a kept connection to
    // the application taken without the pool's check. A WebSocket tunnel
    // lives on one decision without requests: after a reload it is decided
    // again (tunnel_decision()) and ends at once when refused.
    void check(std::uint64_t generation) noexcept override {
        if (m_fin_unchecked && m_wait_client_read && !m_dropped) {
            // Waiting without re-arming after a short read (wait()): a FIN
            // that came with those bytes is seen here. Nothing in the
            // socket: whatever comes next raises an event of its own.
            m_fin_unchecked = false;
            error_code ignored;
            if (!client::still_open(fd())) m_socket.cancel(ignored); // the wait comes back; the read finds the end
        }
        if (m_forward && m_wait_upstream_read && !m_dropped) {
            // A kept connection taken without the pool's check, still
            // without an answer: a close that came with its last answer is
            // looked for once. Found, the wait comes back, the read finds
            // the close, and the request goes again on a new connection.
            Descriptor* upstream = m_forward->unchecked_upstream();
            error_code ignored;
            if (upstream != nullptr && !client::still_open(upstream->native_handle())) upstream->cancel(ignored);
        }
        if (m_dropped || !m_forward || !m_forward->tunnelling()) return;
        if (generation == (trusted() && m_header_decision ? m_header_decision->generation : m_connection.generation))
            return;
        try {
            decide(Clock::now());
            const policy::Decision decision = tunnel_decision();
            if (!decision.allowed()) {
                diagnostic("closed a tunnel of " + (m_peer.empty() ? peer_of(m_socket) : m_peer) +
                           ": after the reload it is " + std::string(policy::to_string(decision.reason)));
                drop();
            }
        } catch (const std::exception&) {
            drop();
        }
    }

  private:
    enum class Phase { detect, handshake, idle, reading, reading_body, writing, forwarding, closing };

    int fd() { return m_socket.native_handle(); }

    // --- the driver ---------------------------------------------------------

    // Runs the current phase until it waits for a socket or the connection
    // ends. Every path ends in a wait or in end(), also when something
    // throws: the exception ends this connection only.
    void run() noexcept {
        try {
            step();
        } catch (const std::exception& e) {
            failed(e.what());
        } catch (...) {
            failed("unknown exception");
        }
    }

    // An exception in this connection's processing (out of memory, a
    // library's throw, a broken invariant): the connection ends here, and
    // nothing of it stays behind - its slot, its memory, its bytes in the
    // thread's buffers. A request not yet answered is answered 400 first
    // (once: a second failure just ends it).
    void failed(std::string_view what) noexcept {
        try {
            std::string text = "connection from " + peer_of(m_socket) + " ended by an error while ";
            text += doing();
            text += ": ";
            text += what;
            diagnostic(text);
            const bool unanswered = m_phase == Phase::reading || m_phase == Phase::reading_body;
            if (unanswered && !m_failed) {
                m_failed = true;
                m_stopping = true; // closed after the answer
                m_response = respond_error(400, "the request could not be processed: " + std::string(what));
                if (!m_tls_mode) m_response.reason = "-";
                begin_write(11, Clock::now());
                step();
                return;
            }
            if (m_phase == Phase::writing) log_request(); // the answer was cut short
        } catch (...) {
            // Ends below all the same.
        }
        m_phase = Phase::closing;
        drop();
        end();
    }

    std::string_view doing() const noexcept {
        switch (m_phase) {
        case Phase::detect: return "detecting TLS";
        case Phase::handshake: return "in the TLS handshake";
        case Phase::idle: return "waiting for a request";
        case Phase::reading: return "reading or answering a request";
        case Phase::reading_body: return "reading a request's body";
        case Phase::writing: return "writing an answer";
        case Phase::forwarding: return "forwarding a request";
        case Phase::closing: return "closing";
        }
        return "serving";
    }

    // Tests inject a fault at the start of each phase (ServerOptions::fault_injection).
    void inject(ConnectionPhase phase) const {
        if (m_context.fault_injection) m_context.fault_injection(phase);
    }

    void step() {
        for (;;) {
            Io io = Io::done;
            switch (m_phase) {
            case Phase::detect: io = detect(); break;
            case Phase::handshake: io = handshake(); break;
            case Phase::idle: io = idle(); break;
            case Phase::reading: io = read_request(); break;
            case Phase::reading_body: io = read_body(); break;
            case Phase::writing: io = write_response(); break;
            case Phase::closing: io = closing(); break;
            case Phase::forwarding: {
                const std::optional<Io> next = forward();
                if (!next) return; // its waits are registered
                io = *next;
                break;
            }
            }
            if (io == Io::done) continue; // the phase changed: run the next one
            if (io != Io::want_read && io != Io::want_write) return end();
            Need need;
            need.client_read = io == Io::want_read;
            need.client_write = io == Io::want_write;
            if (!flush_before_wait(need)) return end();
            return wait(need);
        }
    }

    // What OpenSSL wrote goes out before the connection waits; what the
    // socket would not take makes it wait for writability as well.
    bool flush_before_wait(Need& need) {
        if (!m_tls || !m_tls->has_pending()) return true;
        const Io flushed = m_tls->flush();
        if (flushed == Io::failed) return false;
        if (flushed == Io::want_write) need.client_write = true;
        return true;
    }

    // Registers the waits `need` lists that are not pending already.
    void wait(const Need& need) {
        park();
        if (need.client_read && !m_wait_client_read) {
            // No re-arming when OpenSSL's last read found the socket empty,
            // or took all it held: after a short read only a FIN can be
            // there unannounced, and check() looks for it at the next sweep.
            const auto last_read = m_tls ? m_tls->take_last_read() : TlsSocket::LastRead::unknown;
            m_fin_unchecked = last_read == TlsSocket::LastRead::short_read;
            m_local.emptied_read_wait.wait_readable(m_socket, last_read != TlsSocket::LastRead::unknown,
                                                    [this](const error_code&) {
                                                        m_wait_client_read = false;
                                                        m_fin_unchecked = false;
                                                        // Whatever a read said before, bytes may be there now.
                                                        if (m_tls) (void)m_tls->take_last_read();
                                                        woken();
                                                    });
            m_wait_client_read = true;
            ++m_waits;
        }
        if (need.client_write && !m_wait_client_write) {
            m_socket.async_wait(Socket::wait_write, [this](const error_code&) {
                m_wait_client_write = false;
                woken();
            });
            m_wait_client_write = true;
            ++m_waits;
        }
        Descriptor* upstream = m_forward ? m_forward->upstream() : nullptr;
        if (need.upstream_read && !m_wait_upstream_read && upstream != nullptr) {
            m_local.emptied_read_wait.wait_readable(*upstream, m_forward->take_upstream_emptied(),
                                                    [this](const error_code&) {
                                                        m_wait_upstream_read = false;
                                                        if (m_forward) (void)m_forward->take_upstream_emptied();
                                                        woken();
                                                    });
            m_wait_upstream_read = true;
            ++m_waits;
        }
        if (need.upstream_write && !m_wait_upstream_write && upstream != nullptr) {
            upstream->async_wait(Descriptor::wait_write, [this](const error_code&) {
                m_wait_upstream_write = false;
                woken();
            });
            m_wait_upstream_write = true;
            ++m_waits;
        }
    }

    // A wait came back: readable or writable, cancelled (a timeout wakes
    // the upstream half), or aborted because the connection was dropped.
    void woken() {
        --m_waits;
        if (m_dropped) return end();
        run();
    }

    // Leaving the thread: what is in its buffers and must outlive the wait
    // moves to the connection.
    void park() {
        beast::flat_buffer& in = m_local.in;
        if (m_in == &in) {
            if (in.size() > 0) {
                if (!m_own_in) m_own_in = std::make_unique<beast::flat_buffer>();
                m_own_in->max_size(in.max_size());
                const auto data = in.data();
                const auto space = m_own_in->prepare(data.size());
                std::memcpy(space.data(), data.data(), data.size());
                m_own_in->commit(data.size());
                in.clear();
                m_in = m_own_in.get();
            } else {
                m_in = nullptr;
            }
        }
        if (m_out == &m_local.out) {
            if (m_phase == Phase::writing) {
                m_own_out = m_local.out; // the rest of the answer (same bytes: OpenSSL retries the record)
                m_out = &m_own_out;
            } else {
                m_out = nullptr;
            }
            m_local.out.clear();
        }
        if (m_local.in.capacity() > k_thread_buffer) m_local.in.shrink_to_fit();
        if (m_local.out.capacity() > k_thread_buffer) std::string().swap(m_local.out);
    }

    // Closes the sockets now; pending waits complete (aborted) and end the
    // session. Safe to call more than once.
    void drop() noexcept {
        m_dropped = true;
        error_code ignored;
        m_socket.close(ignored);
        if (Descriptor* upstream = m_forward ? m_forward->upstream() : nullptr) upstream->cancel(ignored);
    }

    // The session is over: destroyed now, or once its pending waits have
    // come back.
    void end() noexcept {
        // Alerts and close_notify, as far as the socket takes them now.
        if (m_tls && !m_dropped) (void)m_tls->flush();
        if (m_in == &m_local.in) m_local.in.clear();
        if (m_out == &m_local.out) m_local.out.clear();
        if (m_waits > 0) return drop();
        m_owner.destroy(*this); // the last thing it does
    }

    // --- TLS or plain HTTP, then the handshake --------------------------------

    Io detect() {
        inject(ConnectionPhase::detect);
        if (trusted()) { // plain HTTP from a proxy: each request decided on its own
            m_tls_mode = false;
            begin_request();
            return Io::done;
        }
        unsigned char first = 0;
        const Io io = peek_first_byte(fd(), first);
        if (io != Io::done) return io; // wait for it, or silent and gone: dropped
        if (first != 0x16) {
            // Plain HTTP sent to the TLS port: read the request (so that the
            // client sees the answer, not a reset) and tell it to use https.
            m_tls_mode = false;
            begin_request();
            return Io::done;
        }
        m_state = m_context.states.current();
        x509::Ptr<SSL> ssl(SSL_new(m_state->tls->native()));
        if (!ssl) {
            x509::drain_errors();
            return Io::failed;
        }
        m_verification.reset(new (std::nothrow) HandshakeVerification{&m_state->trust, m_state->generation, {}});
        if (!m_verification) return Io::failed;
        attach_verification(ssl.get(), m_verification.get());
        m_tls.emplace(std::move(ssl), fd());
        if (!m_tls->valid()) return Io::failed;
        m_phase = Phase::handshake;
        return Io::done;
    }

    Io handshake() {
        inject(ConnectionPhase::handshake);
        const Io io = m_tls->handshake();
        // Refused or failed (--require-cert, a bad ClientHello, EOF): the
        // client saw the alert, if any. Dropped.
        if (io != Io::done) {
            if (m_metrics && (io == Io::failed || io == Io::closed))
                m_metrics->handshake_failed(classify_handshake_failure(
                    m_tls->last_error(), m_verification ? m_verification->status : std::nullopt));
            return io == Io::closed ? Io::failed : io;
        }
        if (m_metrics) m_metrics->handshake_done(SSL_session_reused(m_tls->native()) == 1);
        decide(Clock::now());
        enter_idle();
        return Io::done;
    }

    // Verified and decided once per connection and configuration generation.
    void decide(Clock::time_point now) {
        if (trusted()) return decide_trusted(now);
        // What the handshake's verify callback recorded, the first time; the
        // record goes (and OpenSSL's pointer to it) once the handshake is over.
        std::optional<x509::ChainStatus> handshake;
        if (m_verification) {
            handshake = std::move(m_verification->status);
            attach_verification(m_tls->native(), nullptr);
            m_verification.reset();
        }
        const std::uint64_t generation = m_context.states.generation();
        if (generation != m_state->generation) {
            // Opened under an older configuration: decide again under the
            // current one (its trust store, CRLs and users), before answering.
            // The handshake's verification is valid for its state only.
            m_state = m_context.states.current();
            handshake.reset();
        }
        m_connection = decide_connection(*m_state, m_tls->native(), handshake, now, m_context.forward_cert());
        // Reads and writes do not clear OpenSSL's error queue: leave it empty.
        ERR_clear_error();
        m_decided = true;
    }

    // --- requests -------------------------------------------------------------

    // Waiting for the next request: the request timeout for a connection's
    // first, then the idle timeout.
    void enter_idle() {
        m_phase = Phase::idle;
        m_readable = false;
        set_deadline(Steady::now() +
                     (m_requests == 0 ? m_context.limits.request_timeout : m_context.limits.idle_timeout));
        m_parser.reset();
        m_forward.reset();
        m_response = Response{};
        if (m_out == &m_own_out) std::string().swap(m_own_out);
        m_out = nullptr;
    }

    Io idle() {
        if (m_stopping) return start_close();
        // Pipelined: the next request is already here (in a buffer, or in
        // records OpenSSL has read ahead).
        if (buffered() == 0 && !(m_tls && SSL_has_pending(m_tls->native()) == 1)) {
            if (!m_readable) {
                m_readable = true; // run again once the socket is readable
                if (m_requests == 0 && m_tls && !m_tls->has_pending()) acknowledge_now();
                return Io::want_read;
            }
            const Io io = read_some();
            if (io == Io::want_read) return io;
            if (io == Io::closed && m_tls) m_tls->ended_cleanly(); // between requests: resumable
            if (io != Io::done) return io;                         // closed by the client, reset: dropped
        }
        begin_request();
        return Io::done;
    }

    // What the client sent is acknowledged now rather than by the kernel's
    // delayed ACK (40 ms or more), because the client may be holding its next
    // bytes until it is: a client with Nagle's algorithm on (ab, Python's ssl
    // sockets, openssl s_client) sends nothing small while data of its own is
    // unacknowledged. Two waits meet this: after a handshake that ended with
    // the client's flight and sends nothing back (no session ticket: a TLS
    // 1.2 resumption, or --session-cache 0), the request waits for the
    // Finished's ACK; in a request that came in pieces (headers, then a
    // body), the next piece waits for the ACK of the last.
    void acknowledge_now() noexcept {
        const int on = 1;
        (void)::setsockopt(fd(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
    }

    // The first bytes of a request are here (or the plain-HTTP client's
    // first byte): the request timeout counts from now and bounds its
    // answer too. The header is read first: it decides what happens.
    void begin_request() {
        m_phase = Phase::reading;
        m_request_start = Steady::now();
        set_deadline(m_request_start + m_context.limits.request_timeout);
        m_parser = std::make_unique<RequestParser>();
        configure_parser(*m_parser, m_context.limits);
        // A forwarded body is bounded by --upstream-max-body-size (Content-Length
        // is checked against the limit as the header ends).
        if ((m_tls_mode || trusted()) && m_context.output() == Output::forward)
            m_parser->body_limit(m_context.forward_body_limit());
        m_parser->eager(false);
        m_header_bytes = 0;
        m_header_decision.reset(); // the access log of an early error names no earlier request's user
    }

    std::size_t buffered() const { return m_in ? m_in->size() : 0; }

    // The buffer this request reads into: the thread's, unless the
    // connection holds bytes of its own.
    beast::flat_buffer& in() {
        if (m_in == m_own_in.get() && m_in != nullptr && m_in->size() == 0) {
            m_own_in.reset();
            m_in = nullptr;
        }
        if (m_in == nullptr) {
            m_in = &m_local.in;
            m_in->max_size(read_buffer_limit(m_context.limits));
        }
        return *m_in;
    }

    // One read: the room left in the buffer, at least k_min_read, at most
    // read_room().
    Io read_some() {
        beast::flat_buffer& buffer = in();
        const std::size_t free_space = buffer.capacity() - buffer.size();
        const std::size_t room = std::min(read_room(buffer), std::max(free_space, k_min_read));
        if (room == 0) return Io::done; // full: the parser decides (buffer_overflow)
        const auto space = buffer.prepare(room);
        char* data = static_cast<char*>(space.data());
        std::size_t n = 0;
        const Io io = m_tls_mode ? m_tls->read(data, space.size(), n) : plain_read(fd(), data, space.size(), n);
        buffer.commit(n);
        return io;
    }

    // Reads until `stop` (the header, or the whole request) is parsed; then
    // the request goes on (on_header, on_request) or fails (on_error).
    Io read_until(ParseStop stop) {
        for (;;) {
            error_code ec;
            if (parse_request(*m_parser, in(), m_context.limits, m_header_bytes, ec, stop)) {
                if (ec) return on_error(ec);
                return stop == ParseStop::header ? on_header() : on_request();
            }
            if (read_room(in()) == 0) return on_error(http::error::buffer_overflow);
            const Io io = read_some();
            if (io == Io::want_read) {
                acknowledge_now(); // a request in pieces: the client may wait for it
                return io;
            }
            if (io == Io::want_write) return io;
            if (io == Io::closed) return on_error(read_failure(asio::error::eof, *m_parser));
            if (io == Io::failed) return on_error(asio::error::connection_reset);
        }
    }

    Io read_request() {
        inject(ConnectionPhase::read);
        return read_until(ParseStop::header);
    }

    Io read_body() { return read_until(ParseStop::message); }

    // 431, 413 or 400; end of stream, a request cut short or a transport
    // error: dropped.
    Io on_error(error_code ec) {
        std::optional<ReadError> error = read_error(ec, *m_parser, m_context.limits);
        if (!error) return Io::failed;
        const bool forwarding = m_context.output() == Output::forward && (m_tls_mode || trusted());
        if (forwarding && ec == http::error::body_limit)
            error->detail =
                "the request body exceeds " + std::to_string(m_context.forwarding->options.max_body_size) + " bytes";
        m_response = respond_error(error->status, error->detail);
        // The parser stops at a faulty header before it is done, the fields
        // before the fault read.
        const bool request_line_read = !m_parser->get().method_string().empty();
        if (request_line_read) m_response.head = m_parser->get().method() == http::verb::head;
        // A request of an authorised connection that will not be passed on
        // (a body over --upstream-max-body-size, a malformed or ambiguous
        // one): for a browser whose Accept came before the fault, the
        // forwarding's page, as its other answers are. A connection not let
        // in keeps the JSON: no decision was made for this request.
        if (forwarding && !trusted() && request_line_read && (error->status == 400 || error->status == 413) &&
            m_decided && m_connection.decision.allowed()) {
            const RequestFacts facts = request_facts(m_parser->get());
            if (prefers_html(facts.accept))
                present_gateway_answer_as_page(m_response, facts.method, facts.target, error->detail, Clock::now());
        }
        m_parser.reset();
        if (!m_tls_mode) m_response.reason = "-";
        begin_write(11, Clock::now());
        return Io::done;
    }

    // The header is here: what happens to the request.
    Io on_header() {
        inject(ConnectionPhase::handle);
        const auto& request = m_parser->get();
        const RequestFacts facts = request_facts(request);
        ++m_requests;
        // Stopping: answer, then close.
        if (m_context.stopping.load(std::memory_order_relaxed)) m_stopping = true;
        const Clock::time_point now = Clock::now();
        if (!m_tls_mode && !trusted()) {
            m_response = respond_plain_http(facts, request_host(request));
            if (prefers_html(facts.accept)) present_plain_http_as_page(m_response, facts, request_host(request), now);
            return answer_after_body();
        }
        Action action = trusted() ? handle_header(request, facts, now) : Action{Response{}};
        if (!trusted()) {
            if (m_context.states.generation() != m_connection.generation || now >= m_connection.valid_until)
                decide(now);
            action = handle(facts, m_connection, m_state->user_list(), m_context.output());
        }
        if (auto* forward = std::get_if<Forward>(&action)) return start_forwarding(*forward);
        m_response = std::move(std::get<Response>(action));
        if (!trusted() && prefers_html(facts.accept)) // a browser: the answer as a page (page_response.hpp)
            present_as_page(m_response, facts, m_connection, m_state->user_list(),
                            SSL_get0_peer_certificate(m_tls->native()), now);
        // Answered at the header, the rest of the connection being a body
        // not read: a method answer mode does not serve (405) whose client
        // waits for 100 Continue; any denial while forwarding (its body may
        // be as large as an upload: not read, the connection closes).
        const bool denial_while_forwarding = m_context.output() == Output::forward;
        if (!m_parser->is_done() &&
            (denial_while_forwarding || (!served_method(facts.method) && expects_continue(*m_parser)))) {
            m_response.keep_alive = false;
            begin_write(facts.version, now);
            return Io::done;
        }
        return answer_after_body();
    }

    // The answer waits for the rest of the request (a body, bounded by
    // --max-body-size), so that the connection can carry the next one.
    Io answer_after_body() {
        m_phase = Phase::reading_body;
        m_parser->eager(true);
        return Io::done;
    }

    Io on_request() {
        m_response.keep_alive = m_response.keep_alive && !m_stopping;
        begin_write(m_parser->get().version(), Clock::now());
        return Io::done;
    }

    void begin_write(unsigned version, Clock::time_point now) {
        m_phase = Phase::writing;
        std::string& out = m_local.out;
        out.clear();
        serialize(m_response, version, current_date(now), out);
        m_out = &out;
        m_written = 0;
    }

    Io write_response() {
        inject(ConnectionPhase::write);
        const std::string& out = *m_out;
        const Io io =
            m_tls_mode ? m_tls->write(out.data(), out.size()) : plain_write(fd(), out.data(), out.size(), m_written);
        if (io != Io::done) return io;
        m_written = 0; // the next answer, or a forwarded one (ClientIo::write), starts at its first byte
        log_request();
        if (!m_response.keep_alive || m_stopping) return start_close();
        enter_idle();
        return Io::done;
    }

    // The request is over (answered, or its answer cut short): counted and logged.
    void log_request() {
        const bool logging = m_context.access_log.enabled();
        if (!logging && !m_metrics) return;
        const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - m_request_start);
        if (m_metrics) {
            m_metrics->request(m_response.status, m_response.reason, latency);
            if (m_forward) {
                const Forwarded& result = m_forward->result();
                m_metrics->upstream(result.upstream_status, result.upstream_latency, result.upstream_error,
                                    result.retried);
            }
        }
        if (!logging) return;
        AccessRecord record;
        record.time = Clock::now();
        record.peer = m_peer;
        record.method = "-";
        record.target = "-";
        if (m_forward) {
            record.method = m_forward->method();
            record.target = m_forward->target();
        } else if (m_parser) {
            record.method = view(m_parser->get().method_string());
            record.target = view(m_parser->get().target());
        }
        record.status = m_response.status;
        record.reason = m_response.reason;
        if (m_tls_mode && m_decided) {
            record.cn = m_connection.cn;
            record.fingerprint = m_connection.fingerprint.view();
        } else if (m_header_decision) {
            record.cn = m_header_decision->cn;
            record.fingerprint = m_header_decision->fingerprint.view();
        }
        record.latency = latency;
        record.tls = m_tls_mode;
        if (m_forward) {
            const Forwarded& result = m_forward->result();
            record.forwarded = true;
            record.upstream_status = result.upstream_status;
            record.upstream_latency = result.upstream_latency;
        }
        m_context.access_log.write(record);
    }

    // --- forwarding -------------------------------------------------------------

    // ClientIo: the upstream half reads and writes the client through these.
    Io read(char* data, std::size_t size, std::size_t& n) override {
        return m_tls_mode ? m_tls->read(data, size, n) : plain_read(fd(), data, size, n);
    }
    Io write(std::string_view data) override {
        if (m_tls_mode) return m_tls->write(data.data(), data.size());
        const Io io = plain_write(fd(), data.data(), data.size(), m_written);
        if (io == Io::done) m_written = 0;
        return io;
    }
    Io flush() override { return m_tls ? m_tls->flush() : Io::done; }

    Io start_forwarding(const Forward& forward) {
        // What the client sent beyond the header goes with the request.
        std::string beyond;
        if (m_in != nullptr && m_in->size() > 0) {
            const auto data = m_in->data();
            beyond.assign(static_cast<const char*>(data.data()), data.size());
            m_in->consume(data.size());
        }
        // A unix socket's peer has no address: "" (no X-Forwarded-For).
        if (m_peer_address.empty() && m_listening != Listening::trusted_unix) m_peer_address = peer_of(m_socket, false);
        m_forward_reason = forward.reason;
        m_forward_with_user = forward.with_user;
        ClientIo& client = *this;
        m_forward = std::make_unique<Forwarding>(
            *m_context.forwarding, m_local.pool, m_socket.get_executor(), m_local.scratch, client, std::move(*m_parser),
            std::move(beyond), forward.identity, m_peer_address,
            m_tls_mode ? ClientLink::tls : ClientLink::trusted_proxy, Steady::now());
        m_parser.reset();
        m_phase = Phase::forwarding;
        return Io::done;
    }

    // --- the trusted-header input (--listen-trusted; trusted_request.hpp) -------

    bool trusted() const noexcept { return m_listening != Listening::tls; }

    Action handle_header(const RequestParser::value_type& request, const RequestFacts& facts, Clock::time_point now) {
        m_state = m_context.states.current();
        if (m_peer_address.empty() && m_listening == Listening::trusted) m_peer_address = peer_of(m_socket, false);
        Action action = handle_trusted(request, facts, *m_context.trusted, *m_state, m_peer_address, m_context.output(),
                                       m_context.forward_cert(), now, m_header_decision);
        // A tunnel outlives its request: its header, kept, is decided again after a reload.
        if (std::holds_alternative<Forward>(action) && m_header_decision)
            m_kept_fields.emplace(certificate_fields(request, m_context.trusted->header));
        return action;
    }

    void decide_trusted(Clock::time_point now) {
        m_state = m_context.states.current();
        if (m_kept_fields)
            m_header_decision = decide_header(*m_state, m_context.trusted->header, m_kept_fields->view(), now,
                                              m_context.forward_cert());
    }

    // The decision its upgrade request would get now (after decide()): the
    // connection's, or its route's, as handle() routes it. A route whose
    // roles the user lost ends the tunnel; a public route keeps the tunnel of
    // a client who was no user, but one that went to the application as a
    // user's ends with that user's connection.
    policy::Decision tunnel_decision() const {
        const std::optional<std::string> path = policy::normalise_path(m_forward->target());
        // Denied (untrusted) when either is missing, which no forwarded request lacks.
        if (!path || (trusted() && !m_header_decision)) return {};
        const policy::Decision& connection = trusted() ? m_header_decision->decision : m_connection.decision;
        if (m_forward_with_user && !connection.allowed()) return connection;
        return policy::route(connection, m_state->user_list(), *path);
    }

    // A step of the upstream half; nullopt when it registered its waits.
    std::optional<Io> forward() {
        const Steady::time_point now = Steady::now();
        std::optional<Need> need = m_forward->step(now);
        if (need) {
            set_deadline(need->deadline);
            if (!flush_before_wait(*need)) return Io::failed;
            wait(*need);
            return std::nullopt;
        }
        // Over: the application's answer went to the client, or certauth
        // answers (502, 504, 400) now.
        const Forwarded& result = m_forward->result();
        if (result.answer) {
            m_response = *result.answer;
            m_response.reason = "-"; // 400, 413, 502, 504: the request was not answered by the application
            const Clock::time_point wall = Clock::now();
            // A browser: the answer as a page (page_response.hpp).
            if (!trusted() && prefers_html(m_forward->accept())) {
                try {
                    present_gateway_answer_as_page(m_response, m_forward->method(), m_forward->target(),
                                                   result.answer_detail, wall);
                } catch (const std::exception&) {
                    m_response = *result.answer; // the JSON, rather than no answer
                    m_response.reason = "-";
                }
            }
            begin_write(11, wall);
            return Io::done;
        }
        m_response = Response{};
        m_response.status = result.status;
        m_response.reason = m_forward_reason;
        log_request();
        if (m_dropped) return Io::failed;
        if (!result.keep_client || m_stopping) return start_close();
        // The client's next request may already be here.
        if (!result.leftover.empty()) {
            beast::flat_buffer& buffer = in();
            const auto space = buffer.prepare(result.leftover.size());
            std::memcpy(space.data(), result.leftover.data(), result.leftover.size());
            buffer.commit(result.leftover.size());
        }
        enter_idle();
        return Io::done;
    }

    // --- closing --------------------------------------------------------------

    Io start_close() {
        m_phase = Phase::closing;
        m_parser.reset();
        if (!m_tls_mode) {
            ::shutdown(fd(), SHUT_WR);
            return Io::closed; // the socket closes when the session goes
        }
        if (!m_tls) return Io::closed;
        // Stopping: close_notify, no waiting for the client's.
        if (m_stopping) {
            (void)m_tls->shutdown(false);
            m_tls->ended_cleanly();
            return Io::closed;
        }
        set_deadline(Steady::now() +
                     std::min<std::chrono::milliseconds>(m_context.limits.request_timeout, k_close_wait));
        return closing();
    }

    // close_notify, then briefly waiting for the client's.
    Io closing() {
        if (!m_tls) return Io::closed;
        const Io io = m_tls->shutdown(true);
        if (io != Io::done) return io;
        m_tls->ended_cleanly();
        return Io::closed;
    }

    ServerContext& m_context;
    WorkerLocal& m_local;
    ConnectionSet& m_owner;
    Socket m_socket;
    WorkerMetrics* m_metrics; // the worker's counters when the server counts (--status), else null
    std::shared_ptr<const State> m_state;
    std::optional<TlsSocket> m_tls;                        // once the first byte said TLS
    std::unique_ptr<HandshakeVerification> m_verification; // during the handshake only
    ConnectionDecision m_connection;
    std::unique_ptr<RequestParser> m_parser; // while a request is read and answered
    std::unique_ptr<Forwarding> m_forward;   // while a request is forwarded
    std::string_view m_forward_reason;
    bool m_forward_with_user = false; // the forwarded request carried the connection's user
    Response m_response;
    beast::flat_buffer* m_in = nullptr;           // the thread's buffer, m_own_in, or none
    std::unique_ptr<beast::flat_buffer> m_own_in; // request bytes kept over a wait
    const std::string* m_out = nullptr;           // the answer being written: the thread's, or m_own_out
    std::string m_own_out;                        // an answer kept over a wait
    std::string m_peer;                           // for the access log only
    std::string m_peer_address;                   // for X-Forwarded-For, once forwarding
    Steady::time_point m_request_start;
    std::uint64_t m_requests = 0;
    std::size_t m_header_bytes = 0; // of the request being read, consumed by the parser
    std::size_t m_written = 0;      // of the answer (plain HTTP)
    int m_waits = 0;                // async_waits pending
    Phase m_phase = Phase::detect;
    bool m_tls_mode = true;
    const Listening m_listening;                                 // which listener accepted it
    std::shared_ptr<const ConnectionDecision> m_header_decision; // trusted: the last request's
    std::optional<KeptFields> m_kept_fields;                     // trusted: a tunnel's certificate header
    bool m_decided = false;
    bool m_stopping = false;
    bool m_failed = false;   // an exception was answered 400: the next one ends the connection
    bool m_dropped = false;  // the sockets were closed: end at the next wake-up
    bool m_readable = false; // idle: the wait for the next request's bytes is over
    bool m_wait_client_read = false;
    bool m_fin_unchecked = false; // waiting without re-arming after a short read (check())
    bool m_wait_client_write = false;
    bool m_wait_upstream_read = false;
    bool m_wait_upstream_write = false;
};

} // namespace

void start_session(Socket&& socket, ServerContext& context, WorkerLocal& local, ConnectionSet& connections,
                   Listening listening) noexcept {
    Session* session = nullptr;
    try {
        auto owned = std::make_unique<Session>(std::move(socket), context, local, connections, listening);
        session = owned.get();
        connections.adopt(std::move(owned));
    } catch (const std::exception& e) {
        // Not served (out of memory): the socket closes with the object that
        // holds it, and the slot counted at accept is given back.
        diagnostic(std::string("a new connection was dropped: ") + e.what());
        if (session == nullptr) context.connection_closed();
        return;
    }
    session->start(); // ends the session itself whatever happens
}

} // namespace certauth::server::detail
