#pragma once
// The application certauth forwards to (serve --upstream): where it is, and
// non-blocking connections to it, kept alive in a pool per worker thread.
// Plain HTTP over TCP or a unix socket; no Asio here (the server's session
// waits for the descriptors itself).

#include <certauth/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/socket.h>

namespace certauth::client {

// A socket descriptor, closed when the object goes.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) noexcept : m_fd(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd();

    int get() const noexcept { return m_fd; }
    explicit operator bool() const noexcept { return m_fd >= 0; }
    int release() noexcept { return std::exchange(m_fd, -1); }
    void reset() noexcept;

  private:
    int m_fd = -1;
};

// http://HOST:PORT[/prefix] or unix:/path.
struct UpstreamTarget {
    std::string text;        // as given, for messages
    std::string host;        // tcp: without brackets ("127.0.0.1", "::1", "app.internal"); unix: ""
    std::uint16_t port = 80; // tcp
    std::string socket_path; // unix
    std::string prefix;      // prepended to every request target ("/app"; "" for none)

    bool is_unix() const noexcept { return !socket_path.empty(); }
    // What the application sees as Host when the client sent none.
    std::string authority() const;
};

// Errors say what is wrong with the text (it comes from --upstream).
Result<UpstreamTarget> parse_upstream(std::string_view text);

// One address to connect to.
struct UpstreamAddress {
    sockaddr_storage address{};
    socklen_t size = 0;
    std::string text; // "127.0.0.1:8080", "[::1]:8080", "unix:/run/app.sock"
};

// The addresses of `target` (a host name is resolved now, once: at start-up
// and reload, never per request).
Result<std::vector<UpstreamAddress>> resolve_upstream(const UpstreamTarget& target);

// A connection being made: connect(2) on a non-blocking socket. When
// `in_progress`, wait until the descriptor is writable, then
// finish_connect().
struct Connecting {
    UniqueFd fd;
    bool in_progress = false;
};
// The error text (strerror) when the socket or the connect fails at once.
Result<Connecting> start_connect(const UpstreamAddress& address);
// After the wait: "" when connected, else why not ("Connection refused").
std::string finish_connect(int fd);
// When finish_connect() found no error: whether the connect is still under
// way (the wait came back for another reason; SO_ERROR is 0 then too).
bool still_connecting(int fd);

// Whether an idle kept-alive connection is still usable: not closed by the
// application, and nothing unasked waiting in it.
bool still_open(int fd);

// Kept-alive connections to the application, of one worker thread (not
// thread-safe): a request takes one (or makes a new one) and gives it back
// when its response was read whole and the application kept it open.
// `Connection` owns a descriptor: movable, get() gives the descriptor,
// false when empty, closed when destroyed (UniqueFd, or the server's
// connection registered with its event loop).
template <class Connection>
class BasicUpstreamPool {
  public:
    using Clock = std::chrono::steady_clock;

    explicit BasicUpstreamPool(std::size_t max_idle = 64) : m_max_idle(max_idle) {}

    // An idle connection, the most recently used, that is still open and
    // has nothing unasked waiting in it (one that has is closed and
    // skipped: bytes the application sent after an answer must never be
    // read as the answer to another client's request); an empty one when
    // none is left.
    Connection take() {
        return take([](const Connection&) { return false; });
    }
    // The same, without the check (a system call) for a connection of
    // which `known_quiet(connection)` says that nothing has come since its
    // answer, as far as the caller has seen, but maybe the application's
    // close: the caller must be able to send its request again on another
    // connection if this one turns out closed before anything of the
    // answer came.
    template <class KnownQuiet>
    Connection take(KnownQuiet&& known_quiet) {
        while (!m_idle.empty()) {
            Connection connection = std::move(m_idle.back().connection);
            m_idle.pop_back();
            if ((!m_check_always && known_quiet(connection)) || still_open(connection.get())) return connection;
        }
        return Connection{};
    }
    // A connection taken without the check turned out closed by the
    // application: it closes connections without saying so, and every
    // connection is checked from now on.
    void check_always() noexcept { m_check_always = true; }
    void give_back(Connection connection, Clock::time_point now) {
        if (!connection) return;
        if (m_idle.size() >= m_max_idle) m_idle.erase(m_idle.begin()); // the longest idle goes
        m_idle.push_back(Idle{std::move(connection), now});
    }
    // Closes the connections idle since before `now - idle_timeout`.
    void prune(Clock::time_point now, std::chrono::milliseconds idle_timeout) {
        std::erase_if(m_idle, [&](const Idle& idle) { return now - idle.since >= idle_timeout; });
    }
    std::size_t idle() const noexcept { return m_idle.size(); }

  private:
    struct Idle {
        Connection connection;
        Clock::time_point since;
    };
    std::vector<Idle> m_idle; // the most recently used last
    std::size_t m_max_idle;
    bool m_check_always = false;
};

} // namespace certauth::client
