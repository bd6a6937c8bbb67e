#pragma once
// How the watcher (include/certauth/directory/watcher.hpp) notices changes,
// one implementation per database: SQLite polls PRAGMA data_version on a
// connection kept open (it changes only for commits by other connections)
// and notices the file being replaced; PostgreSQL LISTENs on the channel the
// schema's trigger notifies and pings a silent connection.

#include <certauth/directory/location.hpp>
#include <certauth/directory/watcher.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/result.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace certauth::directory {

// A file descriptor that becomes readable, once, to wake a waiting thread.
class WakeSignal {
  public:
    WakeSignal();
    ~WakeSignal();
    WakeSignal(const WakeSignal&) = delete;
    WakeSignal& operator=(const WakeSignal&) = delete;

    int fd() const noexcept { return m_fd; }
    void raise() noexcept;
    // Waits up to `timeout` for the signal; whether it was raised.
    bool wait(std::chrono::milliseconds timeout) const noexcept;

  private:
    int m_fd = -1;
};

enum class Change {
    none,    // nothing new (or woken)
    changed, // the directory changed: load it again
    reopen,  // the database is another one now (SQLite: the file was replaced): connect again
};

class Follower {
  public:
    virtual ~Follower() = default;
    Follower() = default;
    Follower(const Follower&) = delete;
    Follower& operator=(const Follower&) = delete;

    virtual std::string name() const = 0;
    // Connects and subscribes to changes; `wake` cuts a long attempt short.
    virtual Result<void> connect(const WakeSignal& wake) = 0;
    virtual void disconnect() noexcept = 0;
    virtual bool connected() const noexcept = 0;
    // A snapshot, read on the connection.
    virtual Result<policy::UserList> load() = 0;
    // Waits up to `timeout` for a change, returning early when `wake` is
    // raised; an error when the connection is lost.
    virtual Result<Change> wait(std::chrono::milliseconds timeout, const WakeSignal& wake) = 0;
};

std::unique_ptr<Follower> make_sqlite_follower(const Location& location, const WatchOptions& options);
std::unique_ptr<Follower> make_postgres_follower(const Location& location, const WatchOptions& options);

} // namespace certauth::directory
