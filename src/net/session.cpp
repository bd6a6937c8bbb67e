// One client connection: TLS detection and handshake, then HTTP/1.1 requests
// until the client, a timeout or a graceful stop ends it (the shape of
// Beast's async-ssl server: do_x / on_x pairs, a deadline before every
// phase, parser limits on every read). What to answer comes from
// handler.cpp; the connection's decision from server_state.cpp.
#include "request_reader.hpp"
#include "server_context.hpp"

#include <certauth/net/handler.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>

namespace certauth::net::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

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

std::string peer_of(const tcp::socket& socket) {
    error_code ec;
    const tcp::endpoint endpoint = socket.remote_endpoint(ec);
    if (ec) return "-";
    const asio::ip::address address = endpoint.address();
    std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return text + ":" + std::to_string(endpoint.port());
}

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

class Session final : public SessionBase {
  public:
    Session(tcp::socket&& socket, ServerContext& context, std::shared_ptr<const State> state, SSL* ssl)
        : m_context(context), m_state(std::move(state)), m_peer(peer_of(socket)),
          m_stream(beast::tcp_stream(std::move(socket)), ssl), m_buffer(read_buffer_limit(context.limits)) {
        m_verification.trust = &m_state->trust;
        attach_verification(m_stream.native_handle(), &m_verification);
        m_out.reserve(1024);
    }

    ~Session() override {
        m_context.sessions.remove(this);
        m_context.connection_closed();
    }

    void start() {
        m_context.sessions.add(this, weak_from_this());
        asio::dispatch(m_stream.get_executor(), [self = self()] { self->do_detect(); });
    }

    void stop_gracefully() override {
        asio::post(m_stream.get_executor(), [self = self()] {
            self->m_stopping = true;
            // Waiting for a client that has not sent a request: close now.
            // A request in flight is answered (with Connection: close) first.
            if (self->m_phase == Phase::handshake || self->m_phase == Phase::idle) self->lowest().cancel();
        });
    }

  private:
    enum class Phase { handshake, idle, reading, writing, closing };

    std::shared_ptr<Session> self() { return std::static_pointer_cast<Session>(shared_from_this()); }
    beast::tcp_stream& lowest() { return m_stream.next_layer(); }

    // --- TLS or plain HTTP, then the handshake -----------------------------

    void do_detect() {
        if (m_context.stopping.load(std::memory_order_relaxed)) return; // dropped unserved
        lowest().expires_after(m_context.limits.handshake_timeout);
        beast::async_detect_ssl(lowest(), m_buffer,
                                [self = self()](error_code ec, bool tls) { self->on_detect(ec, tls); });
    }

    void on_detect(error_code ec, bool tls) {
        if (ec) return; // silent, timed out or gone: dropped
        if (!tls) {
            // Plain HTTP sent to the TLS port: read the request (so that the
            // client sees the answer, not a reset) and tell it to use https.
            m_tls = false;
            m_request_start = Steady::now();
            do_read_request();
            return;
        }
        m_stream.async_handshake(ssl::stream_base::server, m_buffer.data(),
                                 [self = self()](error_code ec, std::size_t used) { self->on_handshake(ec, used); });
    }

    void on_handshake(error_code ec, std::size_t used) {
        if (ec) return; // refused or failed (--require-cert, bad ClientHello, timeout): the client saw the alert
        m_buffer.consume(used);
        decide(Clock::now());
        do_read();
    }

    // Verified and decided once per connection and configuration generation.
    void decide(Clock::time_point now) {
        const std::uint64_t generation = m_context.states.generation();
        if (generation != m_state->generation) {
            // Opened under an older configuration: decide again under the
            // current one (its trust store, CRLs and users), before answering.
            m_state = m_context.states.current();
            m_verification.trust = &m_state->trust;
            m_verification.status.reset();
        }
        m_connection = decide_connection(*m_state, m_stream.native_handle(), m_verification.status, now);
        // The handshake's verification is valid for this state only.
        m_verification.status.reset();
        m_decided = true;
    }

    // --- requests -----------------------------------------------------------

    void do_read() {
        m_phase = Phase::idle;
        if (m_stopping) return do_close();
        if (m_buffer.size() > 0) { // pipelined: the next request is already here
            m_request_start = Steady::now();
            return do_read_request();
        }
        // Waiting for the next request: the idle timeout (the request timeout
        // for a connection's first request), then the request timeout.
        lowest().expires_after(m_requests == 0 ? m_context.limits.request_timeout : m_context.limits.idle_timeout);
        const std::size_t room = std::min<std::size_t>(8192, m_buffer.max_size() - m_buffer.size());
        m_stream.async_read_some(m_buffer.prepare(room), [self = self()](error_code ec, std::size_t n) {
            self->m_buffer.commit(n);
            self->on_first_bytes(ec);
        });
    }

    void on_first_bytes(error_code ec) {
        if (ec) {
            if (m_stopping && ec == asio::error::operation_aborted) return do_close();
            return; // closed by the client, idle timeout, or reset
        }
        m_request_start = Steady::now();
        do_read_request();
    }

    void do_read_request() {
        m_phase = Phase::reading;
        m_parser.emplace();
        configure_parser(*m_parser, m_context.limits);
        m_header_bytes = 0;
        // Usually the whole request came in one read: parse it here, with no
        // further I/O, timer or handler.
        error_code ec;
        if (parse_request(*m_parser, m_buffer, m_context.limits, m_header_bytes, ec)) return on_read_request(ec);
        lowest().expires_after(m_context.limits.request_timeout);
        do_read_more();
    }

    // The rest of a request: read, parse what came (parse_request holds the
    // header limit over the whole header), until the request is settled.
    void do_read_more() {
        const std::size_t room = read_room(m_buffer);
        if (room == 0) return on_read_request(http::error::buffer_overflow);
        auto handler = [self = self()](error_code ec, std::size_t n) { self->on_read_more(ec, n); };
        if (m_tls)
            m_stream.async_read_some(m_buffer.prepare(room), std::move(handler));
        else
            lowest().async_read_some(m_buffer.prepare(room), std::move(handler));
    }

    void on_read_more(error_code ec, std::size_t n) {
        m_buffer.commit(n);
        if (ec) return on_read_request(read_failure(ec, *m_parser));
        if (parse_request(*m_parser, m_buffer, m_context.limits, m_header_bytes, ec)) return on_read_request(ec);
        do_read_more();
    }

    void on_read_request(error_code ec) {
        if (ec) {
            // 431, 413 or 400; end of stream, a timeout, a cancelled read, a
            // request cut short or a transport error: dropped.
            if (std::optional<Response> error = read_error_response(ec, *m_parser, m_context.limits))
                return write_error(std::move(*error));
            return;
        }
        const auto& request = m_parser->get();
        RequestFacts facts = request_facts(request);
        // Stopping: answer, then close (the flag is seen here before the
        // session's own stop_gracefully() runs).
        if (m_context.stopping.load(std::memory_order_relaxed)) m_stopping = true;
        facts.keep_alive = facts.keep_alive && !m_stopping;
        ++m_requests;

        const Clock::time_point now = Clock::now();
        if (!m_tls) {
            m_response = respond_plain_http(facts, request_host(request));
        } else {
            if (m_context.states.generation() != m_connection.generation || now >= m_connection.valid_until)
                decide(now);
            m_response = respond(facts, m_connection, m_state->user_list());
        }
        do_write(facts.version, now);
    }

    void write_error(Response response) {
        m_parser.reset();
        m_response = std::move(response);
        if (!m_tls) m_response.reason = "-";
        do_write(11, Clock::now());
    }

    void do_write(unsigned version, Clock::time_point now) {
        m_phase = Phase::writing;
        m_out.clear();
        serialize(m_response, version, current_date(now), m_out);
        // No new deadline: the one armed for this request's read (idle or
        // request timeout) still runs and bounds the write too, so a client
        // that stops reading is dropped like an idle one.
        auto handler = [self = self()](error_code ec, std::size_t) { self->on_write(ec); };
        if (m_tls)
            asio::async_write(m_stream, asio::buffer(m_out), std::move(handler));
        else
            asio::async_write(lowest(), asio::buffer(m_out), std::move(handler));
    }

    void on_write(error_code ec) {
        log_request();
        if (ec) return;
        if (!m_response.keep_alive || m_stopping) return do_close();
        do_read();
    }

    void log_request() {
        if (!m_context.access_log.enabled()) return;
        AccessRecord record;
        record.time = Clock::now();
        record.peer = m_peer;
        if (m_parser) {
            record.method = view(m_parser->get().method_string());
            record.target = view(m_parser->get().target());
        } else {
            record.method = "-";
            record.target = "-";
        }
        record.status = m_response.status;
        record.reason = m_response.reason;
        if (m_tls && m_decided) {
            record.cn = m_connection.cn;
            record.fingerprint = m_connection.fingerprint;
        }
        record.latency = std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - m_request_start);
        record.tls = m_tls;
        m_context.access_log.write(record);
    }

    // --- closing ------------------------------------------------------------

    void do_close() {
        m_phase = Phase::closing;
        if (!m_tls) {
            error_code ignored;
            lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
            return; // the socket closes when the session goes
        }
        if (m_stopping) {
            // Stopping: no waiting for the client's close_notify.
            error_code ignored;
            lowest().socket().close(ignored);
            return;
        }
        // close_notify, briefly waiting for the client's.
        lowest().expires_after(
            std::min<std::chrono::milliseconds>(m_context.limits.request_timeout, std::chrono::milliseconds(2000)));
        m_stream.async_shutdown([self = self()](error_code) {});
    }

    ServerContext& m_context;
    std::shared_ptr<const State> m_state;
    std::string m_peer;
    ssl::stream<beast::tcp_stream> m_stream;
    beast::flat_buffer m_buffer;
    HandshakeVerification m_verification;
    ConnectionDecision m_connection;
    std::optional<http::request_parser<http::string_body>> m_parser;
    Response m_response;
    std::string m_out;
    Steady::time_point m_request_start;
    std::uint64_t m_requests = 0;
    std::size_t m_header_bytes = 0; // of the request being read, consumed by the parser
    Phase m_phase = Phase::handshake;
    bool m_tls = true;
    bool m_decided = false;
    bool m_stopping = false;
};

} // namespace

void start_session(tcp::socket&& socket, ServerContext& context) {
    std::shared_ptr<const State> state = context.states.current();
    SSL* ssl = SSL_new(state->tls.native());
    if (ssl == nullptr) {
        x509::drain_errors();
        context.connection_closed();
        return; // the socket closes here
    }
    std::make_shared<Session>(std::move(socket), context, std::move(state), ssl)->start();
}

} // namespace certauth::net::detail
