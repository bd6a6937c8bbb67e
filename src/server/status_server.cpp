#include "status_server.hpp"

#include "diagnostic.hpp"

#include <certauth/ascii.hpp>
#include <certauth/json_text.hpp>

#include <certauth/server/metrics_writer.hpp>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace certauth::server::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using error_code = boost::system::error_code;
using Protocol = asio::generic::stream_protocol;
using Executor = asio::io_context::executor_type;
using Acceptor = asio::basic_socket_acceptor<Protocol, Executor>;
using Socket = asio::basic_stream_socket<Protocol, Executor>;
using Stream = beast::basic_stream<Protocol, Executor>;

// A scrape or a look at /status takes one request; a client that sends
// nothing for this long is closed.
constexpr std::chrono::seconds k_timeout{10};
// Status connections open at once at most (Prometheus keeps one alive).
constexpr std::size_t k_max_connections = 32;
constexpr std::uint32_t k_header_limit = 8 * 1024;

// A unix socket file: one left by a process that is gone (nothing accepts
// on it) is removed; one in use, or another kind of file, is an error.
Result<void> clear_stale_socket(const std::string& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) return {};
    if (!S_ISSOCK(info.st_mode)) return Error{"unix:" + path + ": the file exists and is not a socket", "status"};
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{"unix:" + path + ": " + std::strerror(errno), "status"};
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    const bool in_use = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (in_use) return Error{"unix:" + path + ": another process is listening on this socket", "status"};
    if (::unlink(path.c_str()) != 0)
        return Error{"unix:" + path + ": cannot remove the old socket: " + std::strerror(errno), "status"};
    return {};
}

// Whether a Host header names this machine: an IP address or localhost,
// with or without a port. A page that a browser loaded from another site and
// whose name that site then points at 127.0.0.1 (DNS rebinding) can reach a
// loopback listener, but its requests carry the site's name in Host. No Host
// at all (HTTP/1.0) is no browser's request.
bool names_this_machine(std::string_view host) {
    if (host.empty()) return true;
    std::string name;
    int family = AF_INET;
    if (host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos) return false;
        const std::string_view after = host.substr(close + 1);
        if (!after.empty() && after.front() != ':') return false;
        name = host.substr(1, close - 1);
        family = AF_INET6;
    } else {
        name = host.substr(0, host.rfind(':'));
        if (!name.empty() && name.back() == '.') name.pop_back();
        if (ascii::iequals(name, "localhost")) return true;
    }
    in6_addr address{};
    return ::inet_pton(family, name.c_str(), &address) == 1;
}

} // namespace

struct StatusServer::Impl : std::enable_shared_from_this<StatusServer::Impl> {
    Impl(asio::io_context& context, StatusPages& status_pages) : io(context), acceptor(context), pages(status_pages) {}

    void accept();
    void serve(Socket socket);

    asio::io_context& io;
    Acceptor acceptor;
    StatusPages& pages;
    std::string url;
    std::string unix_path; // removed when the listener stops
    std::set<Stream*> open;
    bool stopped = false;
};

namespace {

// One status client: requests read and answered in turn (keep-alive) until
// it closes, errs, times out or the listener stops.
class StatusConnection : public std::enable_shared_from_this<StatusConnection> {
  public:
    StatusConnection(std::shared_ptr<StatusServer::Impl> owner, Socket socket)
        : m_owner(std::move(owner)), m_stream(std::move(socket)) {
        m_owner->open.insert(&m_stream);
    }
    ~StatusConnection() { m_owner->open.erase(&m_stream); }
    StatusConnection(const StatusConnection&) = delete;
    StatusConnection& operator=(const StatusConnection&) = delete;

    void read() {
        m_parser.emplace();
        m_parser->header_limit(k_header_limit);
        m_parser->body_limit(0);
        m_stream.expires_after(k_timeout);
        http::async_read(m_stream, m_buffer, *m_parser,
                         [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
    }

  private:
    void on_read(error_code ec) {
        if (ec || m_owner->stopped) return close();
        const auto& request = m_parser->get();
        m_response = answer(request);
        m_response.version(request.version());
        m_response.keep_alive(request.keep_alive());
        m_stream.expires_after(k_timeout);
        http::async_write(m_stream, m_response,
                          [self = shared_from_this()](error_code e, std::size_t) { self->on_write(e); });
    }

    void on_write(error_code ec) {
        if (ec || !m_response.keep_alive() || m_owner->stopped) return close();
        read();
    }

    void close() {
        error_code ignored;
        m_stream.socket().shutdown(Socket::shutdown_both, ignored);
        m_stream.close();
    }

    http::response<http::string_body> answer(const http::request<http::empty_body>& request) {
        http::response<http::string_body> response;
        response.set(http::field::cache_control, "no-store");
        const bool head = request.method() == http::verb::head;
        std::string body;
        std::string_view type = "application/json";
        const std::string_view target(request.target().data(), request.target().size());
        const std::string_view path = target.substr(0, target.find('?'));
        const auto host = request.find(http::field::host);
        const std::string_view host_text =
            host == request.end() ? std::string_view() : std::string_view(host->value().data(), host->value().size());
        if (m_owner->unix_path.empty() &&
            (request.count(http::field::host) > 1 || !names_this_machine(ascii::trim(host_text)))) {
            response.result(http::status::misdirected_request);
            body = json_text(nlohmann::ordered_json{
                       {"error", "misdirected_request"},
                       {"detail", "the status listener answers requests for localhost or an IP address, not for " +
                                      std::string(host_text)}}) +
                   "\n";
        } else if (request.method() != http::verb::get && !head) {
            response.result(http::status::method_not_allowed);
            response.set(http::field::allow, "GET, HEAD");
            body = R"({"error":"method_not_allowed","detail":"only GET and HEAD are served"})"
                   "\n";
        } else if (path == "/metrics") {
            response.result(http::status::ok);
            type = k_metrics_content_type;
            body = m_owner->pages.metrics();
        } else if (path == "/status") {
            response.result(http::status::ok);
            body = m_owner->pages.status();
        } else if (path == "/healthz") {
            const bool serving = m_owner->pages.serving();
            response.result(serving ? http::status::ok : http::status::service_unavailable);
            body = serving ? "{\"status\":\"ok\"}\n" : "{\"status\":\"stopping\"}\n";
        } else {
            response.result(http::status::not_found);
            body = R"({"error":"not_found","detail":"the status listener serves /metrics, /status and /healthz"})"
                   "\n";
        }
        response.set(http::field::content_type, type);
        if (head) {
            response.content_length(body.size());
        } else {
            response.body() = std::move(body);
            response.prepare_payload();
        }
        return response;
    }

    std::shared_ptr<StatusServer::Impl> m_owner;
    Stream m_stream;
    beast::flat_buffer m_buffer;
    std::optional<http::request_parser<http::empty_body>> m_parser;
    http::response<http::string_body> m_response;
};

} // namespace

void StatusServer::Impl::accept() {
    if (stopped || !acceptor.is_open()) return;
    acceptor.async_accept(io, [self = shared_from_this()](error_code ec, Socket socket) {
        if (self->stopped || ec == asio::error::operation_aborted) return;
        if (!ec) self->serve(std::move(socket));
        self->accept();
    });
}

void StatusServer::Impl::serve(Socket socket) {
    if (open.size() >= k_max_connections) return; // closed as `socket` goes
    try {
        std::make_shared<StatusConnection>(shared_from_this(), std::move(socket))->read();
    } catch (const std::exception& e) {
        diagnostic(std::string("status listener: a connection was dropped: ") + e.what());
    }
}

StatusServer::StatusServer(std::shared_ptr<Impl> impl) : m(std::move(impl)) {}

StatusServer::~StatusServer() { stop(); }

Result<std::unique_ptr<StatusServer>> StatusServer::bind(asio::io_context& io, const StatusAddress& address,
                                                         StatusPages& pages) {
    auto impl = std::make_shared<Impl>(io, pages);
    error_code ec;
    Protocol::endpoint endpoint;
    if (!address.unix_path.empty()) {
        if (address.unix_path.size() >= sizeof(sockaddr_un::sun_path))
            return Error{"unix:" + address.unix_path + ": the path is too long for a unix socket", "status"};
        if (auto cleared = clear_stale_socket(address.unix_path); !cleared) return cleared.error();
        endpoint = Protocol::endpoint(asio::local::stream_protocol::endpoint(address.unix_path));
    } else {
        const auto ip = asio::ip::make_address(address.tcp.host, ec);
        if (ec) return Error{address.text + ": " + ec.message(), "status"};
        endpoint = Protocol::endpoint(asio::ip::tcp::endpoint(ip, address.tcp.port));
    }
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec && address.unix_path.empty()) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(endpoint, ec);
    if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error{address.text + ": cannot listen: " + ec.message(), "status"};
    if (!address.unix_path.empty()) {
        impl->unix_path = address.unix_path;
        impl->url = "unix:" + address.unix_path;
    } else {
        // The port the kernel chose for port 0 (sin_port and sin6_port lie
        // at the same offset).
        const auto bound = impl->acceptor.local_endpoint(ec);
        if (ec) return Error{address.text + ": cannot listen: " + ec.message(), "status"};
        const unsigned port = ntohs(reinterpret_cast<const sockaddr_in*>(bound.data())->sin_port);
        const std::string host = address.tcp.host;
        const bool v6 = host.find(':') != std::string::npos;
        impl->url = "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }
    return std::unique_ptr<StatusServer>(new StatusServer(std::move(impl)));
}

void StatusServer::start() { m->accept(); }

void StatusServer::stop() {
    if (m->stopped) return;
    m->stopped = true;
    error_code ignored;
    m->acceptor.close(ignored);
    for (Stream* stream : std::set<Stream*>(m->open)) {
        stream->socket().shutdown(Socket::shutdown_both, ignored);
        stream->socket().close(ignored);
    }
    if (!m->unix_path.empty()) ::unlink(m->unix_path.c_str());
}

const std::string& StatusServer::url() const noexcept { return m->url; }

} // namespace certauth::server::detail
