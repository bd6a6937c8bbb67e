#include "follower.hpp"

#include <certauth/directory/directory.hpp>

#include "sqlite_connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include <sys/stat.h>

namespace certauth::directory {
namespace {

class SqliteFollower final : public Follower {
  public:
    SqliteFollower(Location location, const WatchOptions& options)
        : m_location(std::move(location)), m_poll_interval(options.poll_interval) {}

    std::string name() const override { return m_location.name(); }

    Result<void> connect(const WakeSignal& /*wake*/) override {
        // Writers hold the lock briefly (WAL): a reader waits at most this.
        Result<std::unique_ptr<SqliteConnection>> opened =
            SqliteConnection::open(m_location.target, OpenMode::existing, std::chrono::seconds(5));
        if (!opened) return opened.error();
        SqliteConnection* connection = opened->get();
        Result<std::int64_t> version = connection->data_version();
        if (!version) return version.error();
        m_directory.emplace(std::move(*opened));
        m_connection = connection;
        m_version = *version;
        return {};
    }

    void disconnect() noexcept override {
        m_connection = nullptr;
        m_directory.reset();
    }

    bool connected() const noexcept override { return m_connection != nullptr; }

    Result<policy::UserList> load() override { return m_directory->load(); }

    Result<Change> wait(std::chrono::milliseconds timeout, const WakeSignal& wake) override {
        if (wake.wait(std::min(timeout, m_poll_interval))) return Change::none;
        struct stat now {};
        if (::stat(m_location.target.c_str(), &now) != 0)
            return Error{name() + ": " + (errno == ENOENT ? std::string("no such file") : std::strerror(errno))};
        if (now.st_dev != m_connection->device() || now.st_ino != m_connection->inode()) return Change::reopen;
        Result<std::int64_t> version = m_connection->data_version();
        if (!version) return version.error();
        if (*version == m_version) return Change::none;
        m_version = *version;
        return Change::changed;
    }

  private:
    Location m_location;
    std::chrono::milliseconds m_poll_interval;
    std::optional<Directory> m_directory;
    SqliteConnection* m_connection = nullptr; // owned by m_directory
    std::int64_t m_version = 0;
};

} // namespace

std::unique_ptr<Follower> make_sqlite_follower(const Location& location, const WatchOptions& options) {
    return std::make_unique<SqliteFollower>(location, options);
}

} // namespace certauth::directory
