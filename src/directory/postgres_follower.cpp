#include "follower.hpp"

#include <certauth/directory/directory.hpp>

#include "postgres_connection.hpp"
#include "schema.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include <poll.h>

namespace certauth::directory {
namespace {

using Steady = std::chrono::steady_clock;

// How long a load waits for a lock, in milliseconds: half of the time
// certauth waits for an answer, and at least 1 (0 is "no limit" to
// PostgreSQL).
long long lock_timeout(std::chrono::milliseconds answer_timeout) {
    return std::max<long long>(1, answer_timeout.count() / 2);
}

class PostgresFollower final : public Follower {
  public:
    PostgresFollower(Location location, const WatchOptions& options)
        : m_location(std::move(location)), m_ping_interval(options.ping_interval),
          m_connect_timeout(options.connect_timeout), m_answer_timeout(options.answer_timeout) {}

    std::string name() const override { return m_location.name(); }

    Result<void> connect(const WakeSignal& wake) override {
        Result<std::unique_ptr<PostgresConnection>> opened =
            PostgresConnection::connect(m_location.target, name(), m_connect_timeout, wake.fd());
        if (!opened) return opened.error();
        PostgresConnection* connection = opened->get();
        connection->bound_waits(m_answer_timeout, wake.fd());
        // A load waiting for a lock (ALTER TABLE, VACUUM FULL) is ended by
        // the server itself before certauth would give it up: a backend
        // abandoned while it waits would wait on after certauth reconnects.
        if (Result<void> limited =
                connection->execute("SET lock_timeout = " + std::to_string(lock_timeout(m_answer_timeout)));
            !limited)
            return limited.error();
        if (Result<void> listening = connection->execute("LISTEN " + std::string(k_change_channel)); !listening)
            return listening.error();
        m_directory.emplace(std::move(*opened));
        m_connection = connection;
        m_last_heard = Steady::now();
        return {};
    }

    void disconnect() noexcept override {
        m_connection = nullptr;
        m_directory.reset();
    }

    bool connected() const noexcept override { return m_connection != nullptr && m_connection->connected(); }

    Result<policy::UserList> load() override {
        // What was notified so far is in this load; what comes during it
        // makes the next one.
        m_connection->take_notifications();
        return m_directory->load();
    }

    Result<Change> wait(std::chrono::milliseconds timeout, const WakeSignal& wake) override {
        if (m_connection->take_notifications() > 0) return Change::changed; // arrived during a statement
        std::array<pollfd, 2> fds{};
        fds[0] = pollfd{m_connection->socket(), POLLIN, 0};
        fds[1] = pollfd{wake.fd(), POLLIN, 0};
        const long long ms = std::max<long long>(0, timeout.count());
        const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(ms > INT_MAX ? INT_MAX : ms));
        if (ready < 0 && errno != EINTR) return Error{name() + ": poll: " + std::strerror(errno)};
        if ((fds[1].revents & POLLIN) != 0) return Change::none;
        if (fds[0].revents != 0) {
            if (Result<void> read = m_connection->consume_input(); !read) return read.error();
            m_last_heard = Steady::now();
        } else if (Steady::now() - m_last_heard >= m_ping_interval) {
            // A connection that died silently (no FIN, a partition) shows here.
            if (Result<void> ping = m_connection->execute("SELECT 1"); !ping) return ping.error();
            m_last_heard = Steady::now();
        }
        return m_connection->take_notifications() > 0 ? Change::changed : Change::none;
    }

  private:
    Location m_location;
    std::chrono::milliseconds m_ping_interval;
    std::chrono::milliseconds m_connect_timeout;
    std::chrono::milliseconds m_answer_timeout;
    std::optional<Directory> m_directory;
    PostgresConnection* m_connection = nullptr; // owned by m_directory
    Steady::time_point m_last_heard;
};

} // namespace

std::unique_ptr<Follower> make_postgres_follower(const Location& location, const WatchOptions& options) {
    return std::make_unique<PostgresFollower>(location, options);
}

} // namespace certauth::directory
