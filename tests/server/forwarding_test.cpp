// The forwarding path in a server inside this process (in_process_server.hpp):
// requests forwarded to a real application (tests/e2e/apps/echo_app.py), the
// connection count back to zero after every kind of ending, and a fault in
// the middle of a forwarded exchange ending that connection only. The
// binary-driving tests of --upstream are tests/e2e/upstream_test.cpp.
#include "support/echo_app.hpp"
#include "support/files.hpp"
#include "support/hostile_support.hpp"
#include "support/in_process_server.hpp"
#include "support/status_pages.hpp"

#include "support/catch.hpp"

#include <certauth/x509/certificate.hpp>
#include <certauth/x509/encoding.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;

namespace {

bool drops_to_zero(server::Server& server) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (server.open_connections() == 0) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

server::UpstreamOptions upstream_to(const std::string& url) {
    auto target = client::parse_upstream(url);
    REQUIRE(target);
    server::UpstreamOptions options;
    options.target = std::move(*target);
    options.timeout = 2s;
    return options;
}

// An in-process server that forwards to `url` (and stops within a second).
void forward_to(server::ServerOptions& options, const std::string& url) {
    options.upstream = upstream_to(url);
    options.limits.shutdown_timeout = 1s;
}
// The same from a trusted listener only (plain HTTP from a proxy on
// loopback, the client's certificate in X-Client-Cert as base64 DER).
void forward_from_trusted_listener(server::ServerOptions& options, const std::string& url) {
    options.listen.clear();
    server::TrustedInput trusted;
    trusted.listen = {server::ListenAddress{"127.0.0.1", 0, "127.0.0.1:0", {}}};
    trusted.header = server::CertificateHeader{"X-Client-Cert", server::HeaderFormat::base64_der};
    options.trusted = std::move(trusted);
    forward_to(options, url);
}
auto forwarding_to(std::string url) {
    return [url = std::move(url)](server::ServerOptions& options) { forward_to(options, url); };
}

// A TCP socket listening on 127.0.0.1, on the port the kernel chose
// (`port`); throws naming `who` when it cannot listen.
int listen_on_loopback(const std::string& who, unsigned short& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd, 16) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error(who + ": cannot listen");
    }
    port = ntohs(address.sin_port);
    return fd;
}

// An application that answers one request per connection ("ok"), although
// its answer says nothing of closing, and then closes the connection, or
// ends its side only (shutdown, a FIN) and keeps reading what comes, or
// sends a whole second answer nobody asked for ("stray!") and keeps it open.
// certauth keeps the connection for the next request and must find it
// unusable. Or it answers with a chunked body, whole (chunked) or with a
// second chunk whose size is not a number (broken_chunks), and closes. Or
// (drop_second) it keeps its first connection after the answer, reads the
// next request on it and closes it unanswered; (drop_again) so, and every
// later connection closes its first request unanswered too. Counts its
// connections.
class OneShotApp {
  public:
    enum class After { close, half_close, stray_answer, chunked, broken_chunks, drop_second, drop_again };
    explicit OneShotApp(After after) : m_after(after) {
        m_listener = listen_on_loopback("one-shot app", m_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~OneShotApp() {
        m_stop = true;
        m_thread.join();
        ::close(m_listener);
        for (const int fd : m_kept)
            ::close(fd);
    }
    OneShotApp(const OneShotApp&) = delete;
    OneShotApp& operator=(const OneShotApp&) = delete;

    std::string upstream() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    int connections() const { return m_connections.load(); }

  private:
    void serve() {
        while (!m_stop) {
            pollfd waiting{m_listener, POLLIN, 0};
            if (::poll(&waiting, 1, 50) <= 0) continue;
            const int fd = ::accept(m_listener, nullptr, nullptr);
            if (fd < 0) continue;
            ++m_connections;
            if (m_after == After::drop_second || m_after == After::drop_again) {
                const bool first = m_connections == 1;
                if (first || m_after == After::drop_second)
                    answer_one(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                if (first || m_after == After::drop_again) answer_one(fd, "", 10s); // read, not answered
                ::close(fd);
                continue;
            }
            if (m_after != After::stray_answer) {
                // The answer and the FIN in one segment: certauth's event
                // loop sees them in one event, and the FIN is never announced.
                const int on = 1;
                (void)::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
            }
            answer_one(fd, m_after == After::broken_chunks
                               ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n"
                           : m_after == After::chunked
                               ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                               : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            if (m_after == After::close || m_after == After::chunked || m_after == After::broken_chunks) {
                ::close(fd);
                continue;
            }
            if (m_after == After::half_close) {
                // No reset for what certauth sends next: it is taken and
                // never answered (the connection closes with the app).
                (void)::shutdown(fd, SHUT_WR);
                m_kept.push_back(fd);
                continue;
            }
            std::this_thread::sleep_for(20ms); // after certauth read the answer
            const std::string stray = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstray!";
            (void)::send(fd, stray.data(), stray.size(), MSG_NOSIGNAL);
            m_kept.push_back(fd);
        }
    }
    // Reads a request (header, and a Content-Length body) for at most
    // `wait`, and sends `answer` in one piece.
    static void answer_one(int fd, const std::string& answer, std::chrono::milliseconds wait = 2s) {
        std::string request;
        const auto deadline = std::chrono::steady_clock::now() + wait;
        std::size_t need = std::string::npos;
        while (std::chrono::steady_clock::now() < deadline) {
            const std::size_t end = request.find("\r\n\r\n");
            if (end != std::string::npos && need == std::string::npos) {
                need = end + 4;
                const std::size_t length = request.find("Content-Length: ");
                if (length != std::string::npos && length < end) need += std::stoul(request.substr(length + 16));
            }
            if (need != std::string::npos && request.size() >= need) break;
            pollfd readable{fd, POLLIN, 0};
            if (::poll(&readable, 1, 50) <= 0) continue;
            char buffer[4096];
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) return;
            request.append(buffer, static_cast<std::size_t>(n));
        }
        (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    }

    After m_after;
    std::vector<int> m_kept; // the serving thread's, until the destructor
    int m_listener = -1;
    unsigned short m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_connections{0};
    std::thread m_thread;
};

// One plain-HTTP connection to 127.0.0.1:port, as a proxy in front of a
// trusted listener opens it; what the server sent within `wait`.
class PlainConnection {
  public:
    explicit PlainConnection(unsigned short port) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (m_fd < 0 || ::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            throw std::runtime_error("cannot connect");
    }
    ~PlainConnection() { ::close(m_fd); }
    PlainConnection(const PlainConnection&) = delete;
    PlainConnection& operator=(const PlainConnection&) = delete;

    bool send(const std::string& bytes) {
        return ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
    }
    // Reads until `marker` has arrived `count` times, or 3 s passed.
    std::string read_until(const std::string& marker, int count) {
        std::string got;
        const auto deadline = std::chrono::steady_clock::now() + 3s;
        while (std::chrono::steady_clock::now() < deadline) {
            int seen = 0;
            for (auto at = got.find(marker); at != std::string::npos; at = got.find(marker, at + 1))
                ++seen;
            if (seen >= count) break;
            pollfd readable{m_fd, POLLIN, 0};
            if (::poll(&readable, 1, 50) <= 0) continue;
            char buffer[4096];
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            got.append(buffer, static_cast<std::size_t>(n));
        }
        return got;
    }

  private:
    int m_fd = -1;
};

} // namespace

TEST_CASE("forwarding: on a kept-alive trusted connection, an answer forwarded after one certauth gave itself is "
          "whole",
          "[server]") {
    EchoApp app;
    REQUIRE(app.started());
    InProcessServer server(
        [&](server::ServerOptions& options) { forward_from_trusted_listener(options, app.upstream()); });
    auto chain = x509::parse_chain(read_text(fixture("joe.crt")), "joe.crt");
    REQUIRE(chain);
    const std::string joe = x509::to_base64(x509::to_der(chain->front().native()));
    PlainConnection proxy(server.port());
    // A request without a certificate (certauth answers 401), then joe's twice (the application answers).
    REQUIRE(proxy.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(proxy.send("GET /b HTTP/1.1\r\nHost: x\r\nX-Client-Cert: " + joe + "\r\n\r\n"));
    REQUIRE(proxy.send("GET /c HTTP/1.1\r\nHost: x\r\nX-Client-Cert: " + joe + "\r\n\r\n"));
    const std::string got = proxy.read_until("HTTP/1.1 ", 3);
    const auto first = got.find("HTTP/1.1 401 ");
    const auto second = got.find("HTTP/1.1 200 ", first);
    const auto third = got.find("HTTP/1.1 200 ", second == std::string::npos ? got.size() : second + 1);
    CHECK(first == 0);
    CHECK(second != std::string::npos);
    CHECK(third != std::string::npos);
    CHECK(got.find("\"path\": \"/b\"") != std::string::npos);
    CHECK(app.requests_seen() == 2);
}

TEST_CASE("forwarding: on a trusted listener, a reload decides an open WebSocket again by its header's certificate",
          "[server][reload]") {
    EchoApp app;
    REQUIRE(app.started());
    TempDir dir;
    const std::string users = dir.write("users.json", read_text(fixture("users.json")));
    InProcessServer server([&](server::ServerOptions& options) {
        forward_from_trusted_listener(options, app.upstream());
        options.loader = fixture_loader(users);
    });
    // The proxy in front passes each client's certificate in the header.
    auto header_of = [](const std::string& file) {
        auto chain = x509::parse_chain(read_text(fixture(file)), file);
        REQUIRE(chain);
        return "X-Client-Cert: " + x509::to_base64(x509::to_der(chain->front().native())) + "\r\n";
    };
    ClientOptions plain;
    plain.tls = false;
    auto joe = HttpClient::connect(server.port(), plain);
    auto joe_public = HttpClient::connect(server.port(), plain);
    auto dave = HttpClient::connect(server.port(), plain);
    auto nobody_public = HttpClient::connect(server.port(), plain);
    REQUIRE(joe);
    REQUIRE(joe_public);
    REQUIRE(dave);
    REQUIRE(nobody_public);
    REQUIRE(upgrade_to_websocket(*joe, "/ws", header_of("joe.crt")));
    REQUIRE(upgrade_to_websocket(*joe_public, "/public/ws", header_of("joe.crt")));
    REQUIRE(upgrade_to_websocket(*dave, "/ws", header_of("dave.crt")));
    REQUIRE(upgrade_to_websocket(*nobody_public, "/public/ws")); // no certificate: a public route only
    for (HttpClient* tunnel : {joe.get(), joe_public.get(), dave.get(), nobody_public.get()})
        CHECK(websocket_echoes(*tunnel, "before"));

    // One worker (InProcessServer): once joe's tunnels are seen closed, the
    // sweep has decided the others too.
    write_atomically(users, users_without_joe());
    server.server().reload();
    CHECK(joe->closed_by_server(3000ms));
    CHECK(joe_public->closed_by_server(3000ms)); // the application was told it is joe's
    CHECK(websocket_echoes(*dave, "after"));
    CHECK(websocket_echoes(*nobody_public, "after"));
}

namespace {

// A GET, a GET and a POST from joe, each to an application whose connection
// kept by certauth was closed (or half-closed) by it after the last answer:
// each goes on a new connection, the GET at once or at the next sweep
// (250 ms), not at the timeout (--upstream-timeout 2 s here).
void each_on_a_new_connection(OneShotApp::After after) {
    OneShotApp app(after);
    InProcessServer server(forwarding_to(app.upstream()));
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    CHECK(got(joe->request("GET", "/first")) == "200 ");
    std::this_thread::sleep_for(100ms);
    const auto started = std::chrono::steady_clock::now();
    CHECK(got(joe->request("GET", "/second")) == "200 ");
    CHECK(std::chrono::steady_clock::now() - started < 1500ms);
    std::this_thread::sleep_for(100ms);
    REQUIRE(joe->send("POST /third HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
    const auto posted = joe->read();
    REQUIRE(posted);
    CHECK(posted->status == 200);
    CHECK(app.connections() == 3);
}

} // namespace

TEST_CASE("forwarding: a GET or a POST on a kept-alive connection the application closed goes on a new one",
          "[server]") {
    each_on_a_new_connection(OneShotApp::After::close);
}

TEST_CASE("forwarding: a request sent again on a new connection is counted in /metrics", "[server][metrics]") {
    // The application closes its first connection, kept alive after the
    // first answer, when the second GET arrives on it: certauth sends that
    // GET again on a new connection, once.
    OneShotApp app(OneShotApp::After::drop_second);
    InProcessServer server([&](server::ServerOptions& options) {
        forward_to(options, app.upstream());
        options.status = server::StatusAddress{"", {"127.0.0.1", 0, "127.0.0.1:0", ""}, "127.0.0.1:0"};
    });
    const unsigned short status = port_of_url(server.server().status_url());
    CHECK(metric(status, "certauth_upstream_retries_total") == 0);
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    CHECK(got(joe->request("GET", "/first")) == "200 ");
    CHECK(got(joe->request("GET", "/second")) == "200 ");
    CHECK(app.connections() == 2);
    // Counted once the answer has gone out: within moments of it.
    CHECK(metric_within(status, "certauth_upstream_retries_total", 1, 5s) == 1);
    CHECK(metric(status, "certauth_upstream_requests_total{code=\"200\"}") == 2);
    CHECK(metric(status, "certauth_upstream_errors_total{why=\"closed\"}") == 0);
}

TEST_CASE("forwarding: a request is sent again once at most, and a POST never", "[server]") {
    // The application takes a POST on the kept connection and closes it
    // unanswered: it may have acted on it, so certauth answers 502.
    OneShotApp post_app(OneShotApp::After::drop_second);
    InProcessServer post_server(forwarding_to(post_app.upstream()));
    auto joe = HttpClient::connect(post_server.port(), as("joe"));
    REQUIRE(joe);
    CHECK(got(joe->request("GET", "/first")) == "200 ");
    REQUIRE(joe->send("POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
    const auto posted = joe->read();
    REQUIRE(posted);
    CHECK(posted->status == 502);
    CHECK(post_app.connections() == 1);
    // A GET goes again on a new connection, and when that one drops it too,
    // not a third time.
    OneShotApp get_app(OneShotApp::After::drop_again);
    InProcessServer get_server(forwarding_to(get_app.upstream()));
    auto carol = HttpClient::connect(get_server.port(), as("carol"));
    REQUIRE(carol);
    CHECK(got(carol->request("GET", "/first")) == "200 ");
    const auto again = carol->request("GET", "/second");
    REQUIRE(again);
    CHECK(again->status == 502);
    CHECK(get_app.connections() == 2);
}

TEST_CASE("forwarding: a kept-alive connection the application half-closed with its answer is not waited on",
          "[server]") {
    each_on_a_new_connection(OneShotApp::After::half_close);
}

TEST_CASE("forwarding: bytes the application sent after its answer are never read as another request's answer",
          "[server][security]") {
    OneShotApp app(OneShotApp::After::stray_answer);
    InProcessServer server(forwarding_to(app.upstream()));
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    auto first = joe->request("GET", "/first");
    REQUIRE(first);
    CHECK(first->body == "ok");
    std::this_thread::sleep_for(100ms); // the stray answer has arrived on the kept connection
    auto second = joe->request("GET", "/second");
    REQUIRE(second);
    CHECK(second->status == 200);
    CHECK(second->body == "ok");
    CHECK(app.connections() == 2);
}

TEST_CASE("forwarding: a chunked answer that comes whole with its head goes to the client whole, last chunk included",
          "[server]") {
    // The head, the chunk and the last chunk come in one read and go out
    // in one write: the client's parser must find the body's end there,
    // and the connection carries the next request.
    OneShotApp app(OneShotApp::After::chunked);
    InProcessServer server(forwarding_to(app.upstream()));
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    for (const char* path : {"/first", "/second"}) {
        CAPTURE(path);
        auto got = joe->request("GET", path);
        INFO(joe->last_error());
        REQUIRE(got);
        CHECK(got->status == 200);
        CHECK(got->header("transfer-encoding") == "chunked");
        CHECK(got->body == "hello");
    }
    CHECK(app.connections() == 2);
}

TEST_CASE("forwarding: an answer whose body breaks in the bytes that came with its head is a 502, not a cut",
          "[server]") {
    // Its head and its broken chunks come in one read: nothing has gone
    // to the client when the break is found, so certauth can still answer.
    OneShotApp app(OneShotApp::After::broken_chunks);
    InProcessServer server(forwarding_to(app.upstream()));
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    auto got = joe->request("GET", "/broken");
    REQUIRE(got);
    CHECK(got->status == 502);
    CHECK(got->json()["error"] == "bad_gateway");
    CHECK(got->json()["detail"].get<std::string>().find("malformed response body") != std::string::npos);
    CHECK(app.connections() == 1);
    CHECK(drops_to_zero(server.server()));
}

TEST_CASE("forwarding: joe's requests reach the application, bob's do not, and connections end cleanly", "[server]") {
    EchoApp app;
    REQUIRE(app.started());
    std::atomic<int> fault_after{-1}; // throws at the Nth handle phase from now
    InProcessServer server([&](server::ServerOptions& options) {
        forward_to(options, app.upstream());
        options.fault_injection = [&](server::ConnectionPhase phase) {
            if (phase == server::ConnectionPhase::handle && fault_after.fetch_sub(1) == 0)
                throw std::runtime_error("injected fault");
        };
    });
    {
        auto joe = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(joe);
        for (int i = 0; i < 20; ++i) {
            const auto response = joe->request("GET", "/item/" + std::to_string(i));
            REQUIRE(response);
            CHECK(response->status == 200);
            CHECK(response->json()["path"] == "/item/" + std::to_string(i));
            CHECK(response->json()["headers"]["x-certauth-cn"] == "joe");
        }
        const int seen = app.requests_seen();
        auto bob = HttpClient::connect(server.port(), as("bob"));
        REQUIRE(bob);
        CHECK(got(bob->request("GET", "/")) == "401 unknown_user");
        CHECK(app.requests_seen() == seen);
    }
    CHECK(drops_to_zero(server.server()));

    SECTION("a fault while a request is decided for forwarding is 400 for that connection only") {
        fault_after = 0;
        auto joe = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(joe);
        const auto response = joe->request("GET", "/x");
        REQUIRE(response);
        CHECK(response->status == 400);
        CHECK(joe->closed_by_server(3s));
        joe.reset();
        auto next = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(next);
        CHECK(got(next->request("GET", "/y")) == "200 ");
        next.reset();
        CHECK(drops_to_zero(server.server()));
    }
    SECTION("the application gone: 502, and the connection count still drops to zero") {
        InProcessServer orphan(forwarding_to("http://127.0.0.1:9"));
        {
            auto joe = HttpClient::connect(orphan.port(), as("joe"));
            REQUIRE(joe);
            REQUIRE(joe->send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
            const auto response = joe->read();
            REQUIRE(response);
            CHECK(response->status == 502);
        }
        CHECK(drops_to_zero(orphan.server()));
    }
}

namespace {

// What Chromium sends when it opens a page.
const std::string k_page_accept = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n";

// A listener whose connections are accepted by the kernel and never read:
// an application that takes a request and does not answer.
class SilentApp {
  public:
    SilentApp() { m_listener = listen_on_loopback("silent app", m_port); }
    ~SilentApp() { ::close(m_listener); }
    SilentApp(const SilentApp&) = delete;
    SilentApp& operator=(const SilentApp&) = delete;
    std::string upstream() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  private:
    int m_listener = -1;
    unsigned short m_port = 0;
};

// `path` asked by joe with `headers` (and `method`): the whole response,
// after which the server closes the connection without another byte.
HttpResponse joe_asks(unsigned short port, const std::string& method, const std::string& path,
                      const std::string& headers) {
    auto joe = HttpClient::connect(port, as("joe"));
    REQUIRE(joe);
    REQUIRE(joe->send(method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n"));
    auto response = joe->read(method == "HEAD");
    REQUIRE(response);
    CHECK(joe->closed_by_server(3s));
    return *response;
}

} // namespace

TEST_CASE("forwarding: certauth's own 502, 504, 400 and 413 are pages for a browser and JSON for curl", "[server]") {
    SECTION("the application cannot be reached: 502") {
        InProcessServer orphan(forwarding_to("http://127.0.0.1:9"));
        const HttpResponse page = joe_asks(orphan.port(), "GET", "/report?x=<b>", k_page_accept);
        CHECK(page.status == 502);
        CHECK(page.header("content-type") == "text/html; charset=utf-8");
        CHECK(page.header("content-security-policy").find("default-src 'none'") != std::string::npos);
        CHECK(page.body.find("<h1>The application is not answering</h1>") != std::string::npos);
        CHECK(page.body.find("the application at http://127.0.0.1:9 refused the connection") != std::string::npos);
        CHECK(page.body.find("GET /report?x=&lt;b&gt;") != std::string::npos);
        CHECK(page.body.find("<script") == std::string::npos);

        const HttpResponse json = joe_asks(orphan.port(), "GET", "/report", "Accept: */*\r\n");
        CHECK(json.status == 502);
        CHECK(json.header("content-type") == "application/json");
        CHECK(json.json().value("error", "") == "bad_gateway");

        // HEAD: the page's headers, no body.
        const HttpResponse head = joe_asks(orphan.port(), "HEAD", "/report", k_page_accept);
        CHECK(head.status == 502);
        CHECK(std::stoul(head.header("content-length")) > 1000);
        CHECK(head.body.empty());
        const HttpResponse head_json = joe_asks(orphan.port(), "HEAD", "/report", "");
        CHECK(head_json.status == 502);
        CHECK(std::stoul(head_json.header("content-length")) > 0);
        CHECK(head_json.body.empty());
    }
    SECTION("the application takes the request and does not answer: 504") {
        SilentApp silent;
        InProcessServer server(forwarding_to(silent.upstream()));
        const HttpResponse page = joe_asks(server.port(), "GET", "/slow", k_page_accept);
        CHECK(page.status == 504);
        CHECK(page.header("content-type") == "text/html; charset=utf-8");
        CHECK(page.body.find("<h1>The application took too long to answer</h1>") != std::string::npos);
        CHECK(page.body.find("did not answer within 2 s") != std::string::npos);
    }
    SECTION("two Host headers, or Transfer-Encoding with Content-Length: 400") {
        InProcessServer orphan(forwarding_to("http://127.0.0.1:9"));
        const HttpResponse page = joe_asks(orphan.port(), "GET", "/", "Host: y\r\n" + k_page_accept);
        CHECK(page.status == 400);
        CHECK(page.header("content-type") == "text/html; charset=utf-8");
        CHECK(page.body.find("<h1>This request cannot be passed on</h1>") != std::string::npos);
        CHECK(page.body.find("the request has more than one Host header") != std::string::npos);

        const HttpResponse framing =
            joe_asks(orphan.port(), "POST", "/", k_page_accept + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n");
        CHECK(framing.status == 400);
        CHECK(framing.body.find("<h1>This request cannot be passed on</h1>") != std::string::npos);
        CHECK(framing.body.find("<dt>Detail</dt><dd>ambiguous request body framing: both Transfer-Encoding and "
                                "Content-Length") != std::string::npos);
        // An Accept after the fault was never read: JSON.
        const HttpResponse unread =
            joe_asks(orphan.port(), "POST", "/", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n" + k_page_accept);
        CHECK(unread.status == 400);
        CHECK(unread.header("content-type") == "application/json");
    }
    SECTION("a body over --upstream-max-body-size: 413, by its Content-Length or as its chunks come") {
        EchoApp app;
        REQUIRE(app.started());
        InProcessServer server([&app](server::ServerOptions& options) {
            forward_to(options, app.upstream());
            options.upstream->max_body_size = 4;
        });
        const HttpResponse by_length =
            joe_asks(server.port(), "POST", "/upload", "Content-Length: 10\r\n" + k_page_accept);
        CHECK(by_length.status == 413);
        CHECK(by_length.header("content-type") == "text/html; charset=utf-8");
        CHECK(by_length.body.find("<h1>What you sent is too large</h1>") != std::string::npos);
        CHECK(by_length.body.find("the request body exceeds 4 bytes") != std::string::npos);

        auto joe = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(joe);
        REQUIRE(joe->send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" + k_page_accept +
                          "\r\n9\r\n123456789\r\n0\r\n\r\n"));
        const auto by_chunks = joe->read();
        REQUIRE(by_chunks);
        CHECK(by_chunks->status == 413);
        CHECK(by_chunks->body.find("<h1>What you sent is too large</h1>") != std::string::npos);

        const HttpResponse json = joe_asks(server.port(), "POST", "/upload", "Content-Length: 10\r\n");
        CHECK(json.status == 413);
        CHECK(json.json().value("error", "") == "payload_too_large");

        // HEAD: the headers, no body (joe_asks sees the connection close
        // with nothing after them).
        const HttpResponse head = joe_asks(server.port(), "HEAD", "/upload", "Content-Length: 10\r\n" + k_page_accept);
        CHECK(head.status == 413);
        CHECK(std::stoul(head.header("content-length")) > 1000);
        CHECK(head.body.empty());

        // bob's connection is not let in: no page about the application.
        auto bob = HttpClient::connect(server.port(), as("bob"));
        REQUIRE(bob);
        REQUIRE(bob->send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n" + k_page_accept + "\r\n"));
        const auto refused = bob->read();
        REQUIRE(refused);
        CHECK(refused->status == 413);
        CHECK(refused->header("content-type") == "application/json");
    }
}

TEST_CASE("a client that half-closes after its request gets the answer, then the connection ends at the next sweep",
          "[server]") {
    // The request's last bytes and the client's FIN come in one segment: the
    // read that takes those bytes leaves the FIN unread, and no later event
    // announces it (the server waits for the next request without
    // re-arming: src/server/emptied_read_wait.hpp). The server must still see
    // it once the answer is out, at the next sweep (every 250 ms), not wait
    // for the idle timeout (60 s here). The first part of the request comes
    // alone, so that the server's wait for the rest is one for a socket
    // found empty.
    EchoApp app;
    REQUIRE(app.started());
    const bool forwarding = GENERATE(false, true);
    CAPTURE(forwarding);
    InProcessServer server([&](server::ServerOptions& options) {
        if (forwarding) forward_to(options, app.upstream());
    });
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    const int fd = SSL_get_fd(joe->native());
    REQUIRE(joe->send("GET /half HTTP/1.1\r\n"));
    std::this_thread::sleep_for(100ms); // read, and the socket found empty
    // Corked, the rest and the FIN leave together.
    const int on = 1;
    REQUIRE(::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0);
    REQUIRE(joe->send("Host: x\r\n\r\n"));
    REQUIRE(::shutdown(fd, SHUT_WR) == 0);
    const auto answer = joe->read();
    REQUIRE(answer);
    CHECK(answer->status == 200);
    CHECK(joe->closed_by_server(5s));
    CHECK(drops_to_zero(server.server()));
}
