#include "support/server_support.hpp"

#include <certauth/x509/ossl.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>
#include <regex>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace certauth::test {
namespace {

using namespace std::chrono_literals;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

std::string openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

} // namespace

ServeProcess::ServeProcess(std::vector<std::string> args, const std::string& cwd) {
    std::vector<std::string> argv{certauth_binary(), "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--listen");
    argv.push_back("127.0.0.1:0");
    RunOptions options;
    options.cwd = cwd;
    options.timeout = std::chrono::milliseconds(240000);
    m_process = std::make_unique<ChildProcess>(argv, options);
    if (auto m = m_process->wait_for_line(std::regex(R"(listening on https://127\.0\.0\.1:(\d+))"), 20s))
        m_port = static_cast<unsigned short>(std::stoi((*m)[1].str()));
}

std::string ServeProcess::reload() {
    const std::size_t offset = m_process->output_size();
    m_process->signal(SIGHUP);
    if (auto m = m_process->wait_for_line(std::regex(R"(reloaded \(generation \d+\)|reload failed)"), 20s, offset))
        return (*m)[0].str() + (*m).suffix().str();
    return {};
}

std::optional<int> ServeProcess::terminate(std::chrono::milliseconds timeout) {
    m_process->signal(SIGTERM);
    return m_process->wait(timeout);
}

std::string HttpResponse::reason() const {
    const nlohmann::json j = json();
    if (j.is_object() && j.contains("reason") && j["reason"].is_string()) return j["reason"].get<std::string>();
    return {};
}

std::string HttpResponse::header(const std::string& name) const {
    const auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
}

std::unique_ptr<HttpClient> HttpClient::connect(unsigned short port, const ClientOptions& options, std::string* error) {
    std::signal(SIGPIPE, SIG_IGN); // a write to a connection the server closed is an error, not a signal
    std::unique_ptr<HttpClient> client(new HttpClient());
    auto fail = [&](std::string message) -> std::unique_ptr<HttpClient> {
        if (error) *error = message;
        return nullptr;
    };
    client->m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client->m_fd < 0) return fail("socket");
    timeval tv{10, 0};
    ::setsockopt(client->m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(client->m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    if (!options.nagle) ::setsockopt(client->m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(client->m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        return fail(std::string("connect: ") + std::strerror(errno));
    if (!options.tls) return client;

    ERR_clear_error();
    client->m_ctx.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX* ctx = client->m_ctx.get();
    if (options.security_level >= 0) SSL_CTX_set_security_level(ctx, options.security_level);
    if (SSL_CTX_load_verify_locations(ctx, source_path("fixtures/ca.crt").c_str(), nullptr) != 1)
        return fail("ca.crt: " + openssl_errors());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (options.max_version != 0) SSL_CTX_set_max_proto_version(ctx, options.max_version);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    if (!options.cert.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx, options.cert.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, options.key.c_str(), SSL_FILETYPE_PEM) != 1)
            return fail("client certificate: " + openssl_errors());
    }
    if (options.configure) options.configure(ctx);
    client->m_ssl.reset(SSL_new(ctx));
    SSL* ssl = client->m_ssl.get();
    SSL_set_fd(ssl, client->m_fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
    if (options.resume) SSL_set_session(ssl, options.resume);
    if (SSL_connect(ssl) != 1) return fail("handshake: " + openssl_errors());
    return client;
}

HttpClient::~HttpClient() {
    if (m_ssl) SSL_shutdown(m_ssl.get());
    m_ssl.reset();
    m_ctx.reset();
    if (m_fd >= 0) ::close(m_fd);
}

bool HttpClient::send(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        long n = 0;
        if (m_ssl) {
            ERR_clear_error();
            n = SSL_write(m_ssl.get(), bytes.data() + done, static_cast<int>(bytes.size() - done));
            if (n <= 0) {
                m_error = "write: " + openssl_errors();
                return false;
            }
        } else {
            n = ::send(m_fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) {
                m_error = std::string("write: ") + std::strerror(errno);
                return false;
            }
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

long HttpClient::read_some(char* buffer, int size) {
    if (m_ssl) {
        ERR_clear_error();
        const int n = SSL_read(m_ssl.get(), buffer, size);
        if (n <= 0) {
            const int e = SSL_get_error(m_ssl.get(), n);
            m_ended = e == SSL_ERROR_ZERO_RETURN ||
                      (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
            m_error = e == SSL_ERROR_ZERO_RETURN ? "close_notify" : "read: " + openssl_errors();
        }
        return n;
    }
    const ssize_t n = ::recv(m_fd, buffer, static_cast<std::size_t>(size), 0);
    m_ended = n == 0;
    if (n <= 0) m_error = n == 0 ? "eof" : std::string("read: ") + std::strerror(errno);
    return n;
}

std::optional<HttpResponse> HttpClient::read(bool head) {
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.header_limit(1024 * 1024); // beyond what certauth relays (64 KiB): its limit is the one tested
    parser.body_limit(boost::none);
    if (head) parser.skip(true);
    char buffer[16384];
    for (;;) {
        if (!m_pending.empty()) {
            boost::system::error_code ec;
            const std::size_t used = parser.put(boost::asio::buffer(m_pending), ec);
            m_pending.erase(0, used);
            if (ec && ec != http::error::need_more) {
                m_error = "bad response: " + ec.message();
                return std::nullopt;
            }
            if (parser.is_done()) break;
            if (!ec && used > 0) continue;
        }
        const long n = read_some(buffer, sizeof buffer);
        if (n <= 0) {
            // The end of the stream ends a body that has no length, and
            // nothing else: not a timeout, a reset or a TLS error (m_error
            // keeps what the read said).
            if (!m_ended || !parser.got_some()) return std::nullopt;
            boost::system::error_code ec;
            parser.put_eof(ec);
            if (!ec && parser.is_done()) break;
            return std::nullopt;
        }
        m_pending.append(buffer, static_cast<std::size_t>(n));
    }
    const auto& message = parser.get();
    HttpResponse response;
    response.version = "HTTP/" + std::to_string(message.version() / 10) + "." + std::to_string(message.version() % 10);
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message)
        response.headers[lower(std::string(field.name_string()))] = std::string(field.value());
    response.body = message.body();
    return response;
}

std::optional<std::string> HttpClient::read_exactly(std::size_t size) {
    char buffer[16384];
    while (m_pending.size() < size) {
        const long n = read_some(buffer, sizeof buffer);
        if (n <= 0) return std::nullopt;
        m_pending.append(buffer, static_cast<std::size_t>(n));
    }
    std::string bytes = m_pending.substr(0, size);
    m_pending.erase(0, size);
    return bytes;
}

std::optional<HttpResponse> HttpClient::request(const std::string& method, const std::string& path,
                                                const std::string& extra_headers) {
    if (!send(method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + "\r\n")) return std::nullopt;
    return read(method == "HEAD");
}

bool HttpClient::closed_by_server(std::chrono::milliseconds timeout) {
    if (!m_pending.empty()) return false; // bytes beyond the last response: data, not a close
    // Non-blocking while it waits: a readable socket may hold only TLS
    // records that are not data (a TLS 1.3 session ticket), after which a
    // blocking SSL_read would wait for the socket's own 10 s timeout.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const int flags = ::fcntl(m_fd, F_GETFL);
    ::fcntl(m_fd, F_SETFL, flags | O_NONBLOCK);
    bool closed = false;
    for (;;) {
        if (!m_ssl || SSL_pending(m_ssl.get()) == 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0))) <= 0) break;
        }
        char buffer[256];
        const long n = read_some(buffer, sizeof buffer);
        if (n > 0) break; // data, not a close
        const bool again = m_ssl ? SSL_get_error(m_ssl.get(), static_cast<int>(n)) == SSL_ERROR_WANT_READ
                                 : n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (!again) {
            closed = true;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
    }
    ::fcntl(m_fd, F_SETFL, flags);
    return closed;
}

std::string HttpClient::tls_version() const { return m_ssl ? SSL_get_version(m_ssl.get()) : ""; }
bool HttpClient::session_reused() const { return m_ssl && SSL_session_reused(m_ssl.get()) == 1; }
SSL_SESSION* HttpClient::session() const { return m_ssl ? SSL_get_session(m_ssl.get()) : nullptr; }

std::optional<HttpResponse> fetch(unsigned short port, const std::string& path, const std::string& cert,
                                  const std::string& key, const std::string& method) {
    ClientOptions options;
    options.cert = cert;
    options.key = key;
    auto client = HttpClient::connect(port, options);
    if (!client) return std::nullopt;
    return client->request(method, path, "Connection: close\r\n");
}

bool upgrade_to_websocket(HttpClient& client, const std::string& path, const std::string& extra_headers) {
    if (!client.send("GET " + path +
                     " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                     extra_headers + "\r\n"))
        return false;
    const auto switched = client.read();
    return switched && switched->status == 101;
}

bool websocket_echoes(HttpClient& client, const std::string& text) {
    if (text.size() > 125) return false; // one frame with a 7-bit length
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    std::string frame = {static_cast<char>(0x81), static_cast<char>(0x80 | text.size())};
    frame.append(reinterpret_cast<const char*>(mask), sizeof mask);
    for (std::size_t i = 0; i < text.size(); ++i)
        frame += static_cast<char>(text[i] ^ mask[i % sizeof mask]);
    if (!client.send(frame)) return false;
    const auto echo = client.read_exactly(2 + text.size());
    return echo && *echo == std::string({static_cast<char>(0x81), static_cast<char>(text.size())}) + text;
}

} // namespace certauth::test
