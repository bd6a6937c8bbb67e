#pragma once
// Private to src/server: the connections of one worker thread, which owns
// them. A connection is created by the listener and handed to the set
// (adopt); it ends itself by asking the set to destroy it, as the last thing
// it does once no wait of its own is pending; the set destroys what is left
// when the worker goes. Deadlines are swept with the intrusive list of
// deadline_sweeper.hpp (no allocation per connection besides itself).

#include "deadline_sweeper.hpp"

#include <cstdint>
#include <memory>

namespace certauth::server::detail {

// A connection as its worker sees it.
class Connection : public Expirable {
  public:
    Connection() = default;
    virtual ~Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // SIGTERM: close now when idle, else after the request in flight.
    virtual void stop_gracefully() noexcept = 0;
    // Each sweep: the configuration generation now. A connection that holds
    // on to a decision without requests (a WebSocket tunnel) decides again
    // when it changed. A session also looks here for a FIN its wait would
    // not announce (session.cpp).
    virtual void check(std::uint64_t generation) noexcept { (void)generation; }
};

class ConnectionSet {
  public:
    ConnectionSet() = default;
    ConnectionSet(const ConnectionSet&) = delete;
    ConnectionSet& operator=(const ConnectionSet&) = delete;
    // After the worker thread stopped for good: the connections left go
    // (their pending waits are never run).
    ~ConnectionSet() {
        m_list.for_each([](Expirable& node) { delete static_cast<Connection*>(&node); });
    }

    Connection& adopt(std::unique_ptr<Connection> connection) noexcept {
        Connection& c = *connection.release();
        m_list.add(c);
        return c;
    }
    // Unlinks and deletes `connection`: the caller must not touch it after.
    void destroy(Connection& connection) noexcept {
        m_list.remove(connection);
        delete &connection;
    }

    void sweep(SteadyClock::time_point now, std::uint64_t generation) noexcept {
        m_list.sweep(now);
        m_list.for_each([generation](Expirable& node) { static_cast<Connection&>(node).check(generation); });
    }
    void stop_gracefully() noexcept {
        m_list.for_each([](Expirable& node) { static_cast<Connection&>(node).stop_gracefully(); });
    }
    std::size_t size() const noexcept { return m_list.size(); }

  private:
    DeadlineSweeper m_list;
};

} // namespace certauth::server::detail
