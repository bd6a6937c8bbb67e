#include <certauth/client/upstream.hpp>

#include <certauth/client/url.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

namespace certauth::client {
namespace {

Error bad(std::string_view text, std::string_view what) {
    return Error{"upstream '" + std::string(text) + "': " + std::string(what)};
}

std::string errno_text(int error) { return std::strerror(error); }

} // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
        reset();
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

UniqueFd::~UniqueFd() { reset(); }

void UniqueFd::reset() noexcept {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
}

std::string UpstreamTarget::authority() const {
    if (is_unix()) return "localhost";
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != 80) out += ":" + std::to_string(port);
    return out;
}

Result<UpstreamTarget> parse_upstream(std::string_view text) {
    UpstreamTarget target;
    target.text = std::string(text);
    if (text.substr(0, 5) == "unix:") {
        target.socket_path = std::string(text.substr(5));
        if (target.socket_path.empty() || target.socket_path.front() != '/')
            return bad(text, "expected unix:/absolute/path/to/socket");
        if (target.socket_path.size() >= sizeof(sockaddr_un::sun_path))
            return bad(text, "the socket path is longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                 " bytes");
        return target;
    }
    constexpr std::string_view scheme = "http://";
    if (text.substr(0, scheme.size()) != scheme) {
        if (text.substr(0, 8) == "https://")
            return bad(text, "https to the application is not supported: certauth speaks plain HTTP to it (put it "
                             "on loopback or a unix socket)");
        return bad(text, "expected http://HOST:PORT[/PREFIX] or unix:/path");
    }
    std::string_view rest = text.substr(scheme.size());
    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        std::string_view prefix = rest.substr(slash);
        if (prefix.find_first_of("?#") != std::string_view::npos)
            return bad(text, "a prefix is a path: no query or fragment");
        while (!prefix.empty() && prefix.back() == '/')
            prefix.remove_suffix(1);
        target.prefix = std::string(prefix);
    }
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return bad(text, "an IPv6 address needs its closing ']'");
        target.host = std::string(authority.substr(1, close - 1));
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return bad(text, "expected ':' and a port after ']'");
            port_text = authority.substr(close + 2);
        }
    } else {
        const std::size_t colon = authority.rfind(':');
        target.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
        if (target.host.find(':') != std::string::npos) return bad(text, "IPv6 addresses go in brackets");
    }
    if (target.host.empty()) return bad(text, "no host");
    if (!port_text.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535)
            return bad(text, "invalid port '" + std::string(port_text) + "' (expected 1-65535)");
        target.port = static_cast<std::uint16_t>(value);
    }
    return target;
}

Result<std::vector<UpstreamAddress>> resolve_upstream(const UpstreamTarget& target) {
    std::vector<UpstreamAddress> out;
    if (target.is_unix()) {
        UpstreamAddress address;
        auto* un = reinterpret_cast<sockaddr_un*>(&address.address);
        un->sun_family = AF_UNIX;
        std::memcpy(un->sun_path, target.socket_path.c_str(), target.socket_path.size() + 1);
        address.size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + target.socket_path.size() + 1);
        address.text = "unix:" + target.socket_path;
        out.push_back(address);
        return out;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(target.port);
    const int rc = ::getaddrinfo(target.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0)
        return Error{"upstream '" + target.text + "': cannot resolve " + target.host + ": " + ::gai_strerror(rc)};
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        UpstreamAddress address;
        std::memcpy(&address.address, ai->ai_addr, ai->ai_addrlen);
        address.size = static_cast<socklen_t>(ai->ai_addrlen);
        char host[NI_MAXHOST];
        if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
            host[0] = '\0';
        const bool v6 = ai->ai_family == AF_INET6;
        address.text = (v6 ? "[" : "") + std::string(host) + (v6 ? "]:" : ":") + port;
        out.push_back(address);
    }
    ::freeaddrinfo(found);
    if (out.empty()) return Error{"upstream '" + target.text + "': " + target.host + " has no address"};
    return out;
}

Result<Connecting> start_connect(const UpstreamAddress& address) {
    const int family = address.address.ss_family;
    Connecting out;
    out.fd = UniqueFd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!out.fd) return Error{errno_text(errno)};
    if (family != AF_UNIX) {
        const int on = 1;
        (void)::setsockopt(out.fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    for (;;) {
        if (::connect(out.fd.get(), reinterpret_cast<const sockaddr*>(&address.address), address.size) == 0) return out;
        if (errno == EINTR) continue;
        if (errno == EINPROGRESS || errno == EAGAIN) {
            out.in_progress = true;
            return out;
        }
        return Error{errno_text(errno)};
    }
}

std::string finish_connect(int fd) {
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno_text(errno);
    return error == 0 ? std::string() : errno_text(error);
}

bool still_connecting(int fd) {
    sockaddr_storage peer{};
    socklen_t size = sizeof peer;
    return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0 && errno == ENOTCONN;
}

bool still_open(int fd) {
    char byte = 0;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

} // namespace certauth::client
