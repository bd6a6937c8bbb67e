#pragma once
// Private to src/net: what the listeners and sessions of one server share.
// Plain types and one Asio type (the accepted socket); Beast stays in
// session.cpp.

#include <certauth/net/access_log.hpp>
#include <certauth/net/server_state.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace certauth::net::detail {

struct Limits {
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds request_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::size_t max_connections = 10'000;
    std::size_t max_header_size = 16 * 1024;
    std::size_t max_body_size = 64 * 1024;
};

// A connection the server can ask to finish: stop_gracefully() is callable
// from any thread (it posts to the session's own executor).
class SessionBase : public std::enable_shared_from_this<SessionBase> {
  public:
    virtual ~SessionBase() = default;
    virtual void stop_gracefully() = 0;
};

// The live sessions, for a graceful stop. Touched once when a connection
// opens and once when it closes, never per request.
class SessionRegistry {
  public:
    void add(SessionBase* session, std::weak_ptr<SessionBase> weak) {
        std::lock_guard lock(m_mutex);
        m_sessions.emplace(session, std::move(weak));
    }
    void remove(SessionBase* session) {
        std::lock_guard lock(m_mutex);
        m_sessions.erase(session);
    }
    std::vector<std::shared_ptr<SessionBase>> live() {
        std::vector<std::shared_ptr<SessionBase>> out;
        std::lock_guard lock(m_mutex);
        out.reserve(m_sessions.size());
        for (auto& [raw, weak] : m_sessions)
            if (auto session = weak.lock()) out.push_back(std::move(session));
        return out;
    }

  private:
    std::mutex m_mutex;
    std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> m_sessions;
};

struct ServerContext {
    ServerContext(StateHolder& holder, const Limits& limit, const AccessLog& log)
        : states(holder), limits(limit), access_log(log) {}

    StateHolder& states;
    const Limits limits;
    const AccessLog& access_log;
    SessionRegistry sessions;
    std::atomic<std::size_t> connections{0};
    std::atomic<bool> stopping{false};

    // Signalled when the last connection closes (graceful stop waits on it).
    std::mutex drain_mutex;
    std::condition_variable drained;

    void connection_closed() {
        if (connections.fetch_sub(1, std::memory_order_acq_rel) == 1 && stopping.load(std::memory_order_acquire)) {
            { std::lock_guard lock(drain_mutex); }
            drained.notify_all();
        }
    }
};

// Starts serving an accepted connection (counted in `context.connections`
// by the caller) under the current state.
void start_session(boost::asio::ip::tcp::socket&& socket, ServerContext& context);

} // namespace certauth::net::detail
