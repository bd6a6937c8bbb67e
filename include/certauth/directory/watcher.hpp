#pragma once
// Following a user directory (docs/directory.md "Following changes"): a
// thread of its own notices changes (PostgreSQL: LISTEN on the channel the
// schema's trigger notifies; SQLite: PRAGMA data_version, polled), builds
// the new UserList snapshot and hands it to a callback, so that whoever
// serves only swaps a pointer. When the database goes away the last
// snapshot stays in force, the state turns stale (reported once), and the
// watcher reconnects with backoff and then reloads in full (notifications
// sent meanwhile are lost). A change with a bad row keeps the previous
// snapshot in force and reports the row.

#include <certauth/directory/location.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace certauth::directory {

using Snapshot = std::shared_ptr<const policy::UserList>;
using Clock = std::chrono::system_clock;

// What /status and the metrics show of the directory.
struct WatchStatus {
    // fresh: the snapshot in force is the directory's content as last seen;
    // stale: the database cannot be reached, or its last change did not load.
    bool fresh = true;
    Clock::time_point stale_since{};   // when it turned stale (stale only)
    std::string last_error;            // the last problem; empty until there is one
    Clock::time_point last_error_at{}; // when it last occurred (with last_error)
    std::uint64_t generation = 0;      // snapshots built so far; the first is 1
    Clock::time_point loaded_at{};     // when the snapshot in force was built
    std::size_t users = 0;             // entries of the snapshot in force
    std::size_t routes = 0;            // routes of the snapshot in force
    bool connected = false;            // the watcher holds a working connection
    // Reads of the whole directory: those that became the snapshot in force
    // (= generation), and those that did not (a bad row, the connection lost
    // while reading). Failed connection attempts are not reads.
    std::uint64_t loads_succeeded = 0;
    std::uint64_t loads_failed = 0;
};

struct WatchOptions {
    std::chrono::milliseconds poll_interval{1000};     // SQLite: how often data_version is read
    std::chrono::milliseconds reconnect_initial{100};  // backoff after a lost connection: the first wait,
    std::chrono::milliseconds reconnect_max{1000};     // doubling up to this
    std::chrono::milliseconds ping_interval{5000};     // PostgreSQL: a silent connection is checked this often
    std::chrono::milliseconds retry_interval{30'000};  // a change that did not load is tried again this often
    std::chrono::milliseconds connect_timeout{10'000}; // PostgreSQL: one connection attempt
    std::chrono::milliseconds answer_timeout{10'000};  // PostgreSQL: a server silent this long while a
                                                       // statement (a ping, a load) awaits it is lost
    std::function<Clock::time_point()> now = [] { return Clock::now(); };

    // Each snapshot after the first, on the watcher's thread (publish it:
    // swap a pointer; do not block).
    std::function<void(const Snapshot&, std::uint64_t generation)> on_snapshot;
    // A line for the log at each state change (stale, reconnected, a bad
    // row) and each snapshot, on the watcher's thread.
    std::function<void(const std::string&)> on_event;
};

class Watcher {
  public:
    // Connects, subscribes to changes and loads the first snapshot on the
    // caller's thread (an error here is a start-up error naming the
    // directory), then follows changes on its own thread.
    static Result<std::unique_ptr<Watcher>> start(const Location& location, WatchOptions options);
    ~Watcher(); // stops: wakes the thread and joins it
    Watcher(const Watcher&) = delete;
    Watcher& operator=(const Watcher&) = delete;

    Snapshot snapshot() const;
    WatchStatus status() const;
    // The directory, as messages name it ("sqlite:/var/lib/certauth/users.db",
    // a postgresql:// URI without its password).
    std::string name() const;

  private:
    struct Impl;
    explicit Watcher(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace certauth::directory
