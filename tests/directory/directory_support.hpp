#pragma once
// Test support for the directory tests: SQL run on a directory as an
// administrator would (sqlite3, psql), and a recorder of what a Watcher
// reports, with bounded waits.

#include <certauth/directory/directory.hpp>
#include <certauth/directory/location.hpp>
#include <certauth/directory/watcher.hpp>
#include <certauth/policy/user_list.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace certauth::test {

// fixtures/users.json as JSON.
nlohmann::json fixture_users();

// The directory `location` names, opened; REQUIREs success.
directory::Directory open_directory(const directory::Location& location,
                                    directory::OpenMode mode = directory::OpenMode::existing);

// Whether `list` has an entry for a certificate CN=cn (fake_facts without
// a fingerprint, so that only the CN can match).
bool knows(const policy::UserList& list, const std::string& cn);

// Runs `sql` (one or more statements) on the database; REQUIREs success.
void run_sql(const directory::Location& location, const std::string& sql);

// Collects the snapshots and event lines a Watcher hands to its callbacks.
class WatchRecorder {
  public:
    // `options` with on_snapshot and on_event recording here, and short
    // intervals for tests.
    directory::WatchOptions options();

    // Waits until a snapshot satisfies `wanted` (newest first); false on timeout.
    bool wait_for_snapshot(const std::function<bool(const policy::UserList&)>& wanted,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Waits until an event line holds `text` (from the `from`th event on);
    // false on timeout.
    bool wait_for_event(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                        std::size_t from = 0);
    std::vector<std::string> events() const;
    std::size_t snapshot_count() const;
    std::string events_text() const; // for INFO

  private:
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<directory::Snapshot> m_snapshots;
    std::vector<std::string> m_events;
};

} // namespace certauth::test
