#include "client/client_servers.hpp"

#include "support/catch.hpp"

#include <chrono>
#include <regex>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace certauth::test {
namespace {

using namespace std::chrono_literals;

int bind_loopback(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error("bind");
    }
    socklen_t length = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
    port = ntohs(addr.sin_port);
    return fd;
}

constexpr const char* k_python_server = R"PY(
import http.server, json, ssl, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def answer(self, with_body):
        cert = self.connection.getpeercert()
        if cert:
            cn = [v for rdn in cert["subject"] for (k, v) in rdn if k == "commonName"][0]
            status, body = 200, {"cn": cn}
        else:
            status, body = 401, {"error": "unauthorized", "reason": "no_certificate", "detail": "no client certificate"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if self.path != "/eof": self.send_header("Content-Length", str(len(data)))
        if self.path in ("/close", "/eof"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if with_body: self.wfile.write(data)
        if self.path == "/eof":  # the body ends with the connection: close_notify, then EOF
            self.wfile.flush()
            self.connection.unwrap()
    def do_GET(self): self.answer(True)
    def do_HEAD(self): self.answer(False)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("fixtures/server.crt", "fixtures/server.key")
ctx.load_verify_locations("fixtures/ca.crt")
ctx.verify_mode = ssl.CERT_OPTIONAL
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("listening on", server.server_address[1], flush=True)
server.serve_forever()
)PY";

} // namespace

std::uint16_t free_port() {
    std::uint16_t port = 0;
    ::close(bind_loopback(port));
    return port;
}

SilentListener::SilentListener() {
    m_fd = bind_loopback(m_port);
    if (::listen(m_fd, 16) != 0) throw std::runtime_error("listen");
}

SilentListener::~SilentListener() {
    if (m_fd >= 0) ::close(m_fd);
}

bool SilentListener::has_pending_connection() const {
    pollfd p{m_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

TestServer start_s_server(const std::vector<std::string>& extra, const std::string& cert, const std::string& key) {
    TestServer server;
    // s_server cannot listen on port 0 and tell us; take a free port, retry if someone took it meanwhile.
    for (int attempt = 0; attempt < 5; ++attempt) {
        server.port = free_port();
        std::vector<std::string> argv{
            "openssl", "s_server",        "-accept", "127.0.0.1:" + std::to_string(server.port),
            "-cert",   source_path(cert), "-key",    source_path(key),
            "-www"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        RunOptions options;
        options.cwd = source_dir();
        server.process = std::make_unique<ChildProcess>(argv, options);
        if (server.process->wait_for_line(std::regex("ACCEPT"), 10s)) return server;
        server.process.reset();
    }
    FAIL("openssl s_server did not start");
    return server;
}

TestServer start_python_server() {
    TestServer server;
    RunOptions options;
    options.cwd = source_dir();
    server.process =
        std::make_unique<ChildProcess>(std::vector<std::string>{"python3", "-c", k_python_server}, options);
    auto m = server.process->wait_for_line(std::regex(R"(listening on (\d+))"), 20s);
    if (!m) FAIL("the Python HTTPS server did not start: " << server.process->output());
    server.port = static_cast<std::uint16_t>(std::stoi((*m)[1].str()));
    return server;
}

} // namespace certauth::test
