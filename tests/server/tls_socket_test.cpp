// The server's TLS socket (src/server/tls_socket.hpp) over a socketpair, both
// ends non-blocking, against an OpenSSL client: handshake, reads, writes that
// wait for room, the two ways a client ends a stream, and the plain-TCP
// helpers. And the per-thread deadline list (src/server/deadline_sweeper.hpp).
#include "server/deadline_sweeper.hpp"
#include "server/tls_socket.hpp"
#include "support/files.hpp"

#include <certauth/server/tls_context.hpp>
#include <certauth/x509/trust_store.hpp>

#include "support/catch.hpp"

#include <array>
#include <cctype>
#include <csignal>
#include <string>
#include <vector>

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace certauth;
using namespace certauth::server::detail;
using certauth::test::fixture;

namespace {

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

void non_blocking(int fd) { REQUIRE(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0); }

x509::TrustStore trust_store() {
    x509::TrustConfig config;
    config.ca_files = {fixture("ca.crt")};
    auto trust = x509::TrustStore::load(config);
    REQUIRE(trust);
    return std::move(*trust);
}

server::TlsContext server_context(const x509::TrustStore& trust) {
    server::TlsSettings settings;
    settings.cert_file = fixture("server.crt");
    settings.key_file = fixture("server.key");
    auto context = server::TlsContext::create(settings, trust);
    REQUIRE(context);
    return std::move(*context);
}

x509::Ptr<SSL_CTX> client_context(bool with_joe) {
    x509::Ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
    REQUIRE(ctx);
    if (with_joe) {
        REQUIRE(SSL_CTX_use_certificate_file(ctx.get(), fixture("joe.crt").c_str(), SSL_FILETYPE_PEM) == 1);
        REQUIRE(SSL_CTX_use_PrivateKey_file(ctx.get(), fixture("joe.key").c_str(), SSL_FILETYPE_PEM) == 1);
    }
    return ctx;
}

// A server TlsSocket and an OpenSSL client on the two ends of a socketpair.
struct Pair {
    x509::TrustStore trust = trust_store();
    server::TlsContext server_ctx = server_context(trust);
    x509::Ptr<SSL_CTX> client_ctx;
    Fd server_fd{-1};
    Fd client_fd{-1};
    std::unique_ptr<TlsSocket> server;
    x509::Ptr<SSL> client;
    server::HandshakeVerification verification;

    explicit Pair(bool with_joe = true) : client_ctx(client_context(with_joe)) {
        std::signal(SIGPIPE, SIG_IGN); // as Server::run(): OpenSSL writes with write(2)
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        server_fd.fd = fds[0];
        client_fd.fd = fds[1];
        non_blocking(fds[0]);
        non_blocking(fds[1]);
        x509::Ptr<SSL> ssl(SSL_new(server_ctx.native()));
        REQUIRE(ssl);
        verification.trust = &trust;
        server::attach_verification(ssl.get(), &verification);
        server = std::make_unique<TlsSocket>(std::move(ssl), server_fd.fd);
        REQUIRE(server->valid());
        client.reset(SSL_new(client_ctx.get()));
        REQUIRE(client);
        REQUIRE(SSL_set_fd(client.get(), client_fd.fd) == 1);
        SSL_set_connect_state(client.get());
    }

    // Steps both handshakes until both are done (bounded).
    void handshake() {
        Io s = Io::want_read;
        int c = -1;
        for (int i = 0; i < 100 && (s != Io::done || c != 1); ++i) {
            if (c != 1) {
                ERR_clear_error();
                c = SSL_do_handshake(client.get());
                if (c != 1) {
                    const int e = SSL_get_error(client.get(), c);
                    REQUIRE((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE));
                }
            }
            if (s != Io::done) {
                s = server->handshake();
                REQUIRE((s == Io::done || s == Io::want_read || s == Io::want_write));
            }
            REQUIRE(server->flush() == Io::done); // what the server wrote goes out before it waits
        }
        REQUIRE(s == Io::done);
        REQUIRE(c == 1);
    }

    void client_write(const std::string& text) {
        std::size_t n = 0;
        REQUIRE(SSL_write_ex(client.get(), text.data(), text.size(), &n) == 1);
        REQUIRE(n == text.size());
    }

    // Whatever the client can read now (handles post-handshake tickets).
    std::string client_read_available() {
        std::string out;
        std::array<char, 4096> buf{};
        for (;;) {
            std::size_t n = 0;
            ERR_clear_error();
            if (SSL_read_ex(client.get(), buf.data(), buf.size(), &n) == 1) {
                out.append(buf.data(), n);
                continue;
            }
            return out;
        }
    }
};

} // namespace

TEST_CASE("tls socket: handshake, request and answer over a non-blocking socketpair", "[server]") {
    Pair p;
    std::array<char, 64> buf{};
    std::size_t n = 0;
    // Nothing sent yet: the server's first step waits for the ClientHello.
    CHECK(p.server->handshake() == Io::want_read);
    p.handshake();
    CHECK(SSL_get0_peer_certificate(p.server->native()) != nullptr);

    CHECK(p.server->read(buf.data(), buf.size(), n) == Io::want_read);
    CHECK(n == 0);
    p.client_write("GET / HTTP/1.1\r\n\r\n");
    p.client_write("second");
    // Both records came in one read(2) (read-ahead): served one after the
    // other without waiting.
    REQUIRE(p.server->read(buf.data(), buf.size(), n) == Io::done);
    CHECK(std::string(buf.data(), n) == "GET / HTTP/1.1\r\n\r\n");
    REQUIRE(p.server->read(buf.data(), buf.size(), n) == Io::done);
    CHECK(std::string(buf.data(), n) == "second");
    CHECK(p.server->read(buf.data(), buf.size(), n) == Io::want_read);

    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    CHECK(p.server->write(answer.data(), answer.size()) == Io::done);
    // Written, not sent: the records wait for flush() (one segment with
    // whatever else comes before the server waits).
    CHECK(p.server->has_pending());
    CHECK(p.client_read_available().empty());
    CHECK(p.server->write(answer.data(), answer.size()) == Io::done);
    CHECK(p.server->flush() == Io::done);
    CHECK_FALSE(p.server->has_pending());
    CHECK(p.client_read_available() == answer + answer);
}

TEST_CASE("tls socket: how the last read ended is told once: emptied, short (perhaps a FIN behind), or unknown (full)",
          "[server]") {
    using LastRead = TlsSocket::LastRead;
    Pair p;
    std::array<char, 64> buf{};
    std::size_t n = 0;
    p.handshake();
    (void)p.client_read_available(); // the session ticket
    CHECK(p.server->read(buf.data(), buf.size(), n) == Io::want_read);
    CHECK(p.server->take_last_read() == LastRead::emptied);
    CHECK(p.server->take_last_read() == LastRead::unknown); // taken: only a new read tells
    // Found empty, then a read that returns bytes, fewer than it had room
    // for: the socket held no more, but the client's FIN may be behind them.
    CHECK(p.server->read(buf.data(), buf.size(), n) == Io::want_read);
    p.client_write("GET / HTTP/1.1\r\n\r\n");
    REQUIRE(p.server->read(buf.data(), buf.size(), n) == Io::done);
    CHECK(p.server->take_last_read() == LastRead::short_read);
    CHECK(p.server->take_last_read() == LastRead::unknown);
    CHECK(p.server->read(buf.data(), buf.size(), n) == Io::want_read);
    CHECK(p.server->take_last_read() == LastRead::emptied);
    // A read that filled OpenSSL's buffer says nothing of what is behind:
    // more records are.
    p.client_write(std::string(64 * 1024, 'x'));
    REQUIRE(p.server->read(buf.data(), buf.size(), n) == Io::done);
    CHECK(p.server->take_last_read() == LastRead::unknown);
}

namespace {
std::string negotiated_group(SSL* ssl) {
    const char* name = SSL_group_to_name(ssl, SSL_get_negotiated_group(ssl));
    std::string out = name == nullptr ? "?" : name;
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
} // namespace

TEST_CASE("tls socket: the key exchange is X25519MLKEM768 where OpenSSL has it (3.5 on), else X25519", "[server]") {
    SECTION("a client with OpenSSL's defaults") {
        Pair p;
        p.handshake();
        // OpenSSL 3.5 clients offer the hybrid group first; 3.0 has none.
        CHECK(negotiated_group(p.server->native()) ==
              (OpenSSL_version_num() >= 0x30500000L ? "x25519mlkem768" : "x25519"));
    }
    SECTION("a client offering the classical groups only") {
        Pair p;
        REQUIRE(SSL_set1_groups_list(p.client.get(), "X25519:P-256") == 1);
        p.handshake();
        CHECK(negotiated_group(p.server->native()) == "x25519");
    }
}

TEST_CASE("tls socket: a write larger than the socket buffer waits for room and finishes", "[server]") {
    Pair p;
    p.handshake();
    const int small = 16 * 1024;
    REQUIRE(::setsockopt(p.server_fd.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
    const std::string big(1024 * 1024, 'x');
    // The write buffer takes a bounded amount, then the socket must drain.
    Io io = p.server->write(big.data(), big.size());
    CHECK(io == Io::want_write);
    std::string got;
    for (int i = 0; i < 10000 && io != Io::done; ++i) {
        got += p.client_read_available();
        io = p.server->write(big.data(), big.size());
        REQUIRE((io == Io::done || io == Io::want_write));
    }
    REQUIRE(io == Io::done);
    Io flushed = p.server->flush();
    for (int i = 0; i < 10000 && (flushed != Io::done || got.size() < big.size()); ++i) {
        got += p.client_read_available();
        flushed = p.server->flush();
        REQUIRE((flushed == Io::done || flushed == Io::want_write));
    }
    CHECK(got == big);
}

TEST_CASE("tls socket: connections on one thread share its output buffer, never each other's bytes", "[server]") {
    Pair a;
    Pair b;
    a.handshake();
    b.handshake();
    (void)a.client_read_available(); // the session tickets
    (void)b.client_read_available();
    const std::string for_a = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
    const std::string for_b = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb";
    // a writes and does not flush; b writes in between: a's records are set
    // aside as a's own, b's go out with b's flush only.
    REQUIRE(a.server->write(for_a.data(), for_a.size()) == Io::done);
    REQUIRE(b.server->write(for_b.data(), for_b.size()) == Io::done);
    CHECK(a.server->has_pending());
    CHECK(b.server->has_pending());
    CHECK(b.server->flush() == Io::done);
    CHECK(b.client_read_available() == for_b);
    CHECK(a.client_read_available().empty());
    CHECK(a.server->flush() == Io::done);
    CHECK(a.client_read_available() == for_a);
    CHECK_FALSE(a.server->has_pending());
    CHECK_FALSE(b.server->has_pending());
    // a connection dropped with unsent output takes it along.
    REQUIRE(a.server->write(for_a.data(), for_a.size()) == Io::done);
    a.server.reset();
    REQUIRE(b.server->write(for_b.data(), for_b.size()) == Io::done);
    CHECK(b.server->flush() == Io::done);
    CHECK(b.client_read_available() == for_b);
}

TEST_CASE("tls socket: the client's close_notify and a bare EOF both end the stream", "[server]") {
    std::array<char, 64> buf{};
    std::size_t n = 0;
    SECTION("close_notify, then the server's shutdown completes at once") {
        Pair p;
        p.handshake();
        (void)p.client_read_available(); // the session ticket
        ERR_clear_error();
        CHECK(SSL_shutdown(p.client.get()) == 0);
        CHECK(p.server->read(buf.data(), buf.size(), n) == Io::closed);
        CHECK(p.server->shutdown(true) == Io::done);
    }
    SECTION("EOF without close_notify") {
        Pair p;
        p.handshake();
        (void)p.client_read_available(); // else closing with unread data resets the socket
        p.client_fd.close();
        CHECK(p.server->read(buf.data(), buf.size(), n) == Io::closed);
    }
    SECTION("the server's shutdown waits for the client's close_notify") {
        Pair p;
        p.handshake();
        CHECK(p.server->shutdown(false) == Io::done); // close_notify written, not waiting
        CHECK(p.server->flush() == Io::done);
        CHECK(p.server->shutdown(true) == Io::want_read);
        (void)p.client_read_available(); // sees the close_notify
        ERR_clear_error();
        CHECK(SSL_shutdown(p.client.get()) == 1);
        CHECK(p.server->shutdown(true) == Io::done);
    }
    SECTION("EOF in the middle of the handshake fails it") {
        Pair p;
        ERR_clear_error();
        CHECK(SSL_do_handshake(p.client.get()) == -1); // ClientHello sent
        p.client_fd.close();
        const Io io = p.server->handshake();
        CHECK((io == Io::failed || io == Io::closed));
    }
}

TEST_CASE("tls socket: garbage instead of a ClientHello fails the handshake", "[server]") {
    Pair p;
    // A handshake record holding a one-byte ClientHello.
    const std::string junk("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 10);
    REQUIRE(::write(p.client_fd.fd, junk.data(), junk.size()) == static_cast<ssize_t>(junk.size()));
    CHECK(p.server->handshake() == Io::failed);
    CHECK(ERR_peek_error() == 0); // the thread's error queue is left empty
}

TEST_CASE("tls socket: plain helpers - peek leaves the byte, reads, writes, EOF", "[server]") {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    Fd a(fds[0]);
    Fd b(fds[1]);
    non_blocking(a.fd);
    unsigned char first = 0;
    CHECK(peek_first_byte(a.fd, first) == Io::want_read);
    REQUIRE(::write(b.fd, "GET /", 5) == 5);
    REQUIRE(peek_first_byte(a.fd, first) == Io::done);
    CHECK(first == 'G');
    std::array<char, 16> buf{};
    std::size_t n = 0;
    REQUIRE(plain_read(a.fd, buf.data(), buf.size(), n) == Io::done);
    CHECK(std::string(buf.data(), n) == "GET /"); // the peeked byte too
    CHECK(plain_read(a.fd, buf.data(), buf.size(), n) == Io::want_read);
    std::size_t done = 0;
    CHECK(plain_write(a.fd, "answer", 6, done) == Io::done);
    CHECK(done == 6);
    REQUIRE(::read(b.fd, buf.data(), buf.size()) == 6);
    b.close();
    CHECK(peek_first_byte(a.fd, first) == Io::closed);
    CHECK(plain_read(a.fd, buf.data(), buf.size(), n) == Io::closed);
}

namespace {

struct Node final : Expirable {
    int expired = 0;
    DeadlineSweeper* owner = nullptr; // when set, expire() removes the node
    void expire() noexcept override {
        ++expired;
        if (owner) owner->remove(*this);
    }
};

} // namespace

TEST_CASE("deadline sweeper: expires what is due, once, and survives removal while sweeping", "[server]") {
    using namespace std::chrono_literals;
    DeadlineSweeper sweeper;
    Node a, b, c, d;
    const auto t0 = SteadyClock::now();
    a.set_deadline(t0 + 1s);
    b.set_deadline(t0 + 3s);
    c.set_deadline(t0 + 1s);
    c.owner = &sweeper;
    // d: no deadline
    for (Node* n : {&a, &b, &c, &d})
        sweeper.add(*n);
    CHECK(sweeper.size() == 4);
    CHECK(sweeper.sweep(t0) == 0);
    CHECK(sweeper.sweep(t0 + 1s) == 2);
    CHECK(a.expired == 1);
    CHECK(c.expired == 1);
    CHECK(b.expired == 0);
    CHECK(sweeper.size() == 3); // c removed itself
    CHECK(a.deadline() == Expirable::k_never);
    CHECK(sweeper.sweep(t0 + 2s) == 0); // a's deadline was cleared: not again
    CHECK(sweeper.sweep(t0 + 10s) == 1);
    CHECK(b.expired == 1);
    CHECK(d.expired == 0);
    int seen = 0;
    sweeper.for_each([&](Expirable& node) {
        ++seen;
        sweeper.remove(node);
    });
    CHECK(seen == 3);
    CHECK(sweeper.empty());
    sweeper.remove(a); // not in the list: no effect
    CHECK(sweeper.empty());
}
