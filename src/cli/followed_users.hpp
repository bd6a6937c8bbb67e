#pragma once
// serve's user list (docs/directory.md "Following changes"): a users.json
// file is read at start-up and at each SIGHUP; a directory (sqlite:PATH,
// postgresql://...) is followed by a directory::Watcher, and each snapshot
// it builds reloads the server as SIGHUP does, the reload taking the
// watcher's snapshot instead of reading the database again. A change that
// does not load (a bad row, the database unreachable) keeps the snapshot in
// force; the watcher says so on standard error.

#include "cli/trust_options.hpp"

#include <certauth/directory/watcher.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace certauth::cli {

class FollowedUsers {
  public:
    explicit FollowedUsers(TrustOptions options) : m_options(std::move(options)) {}
    ~FollowedUsers(); // stops following (before the server the callback reloads goes)
    FollowedUsers(const FollowedUsers&) = delete;
    FollowedUsers& operator=(const FollowedUsers&) = delete;

    // The user list in force: a JSON file read now; a directory's latest
    // snapshot (the first call connects, loads and starts following; its
    // error names the directory). nullopt without --users.
    Result<std::optional<policy::UserList>> current();

    // What a new snapshot calls (on the watcher's thread; it must not block):
    // the server's reload. Called at once when a snapshot came after the one
    // current() last gave.
    void on_change(std::function<void()> reload);

    // The directory's state for /status and /metrics (any thread); nullopt
    // until current() has started following (and for a users.json file).
    struct Followed {
        std::string name;
        directory::WatchStatus status;
    };
    std::optional<Followed> followed() const;

  private:
    void changed(std::uint64_t generation);

    TrustOptions m_options;
    std::mutex m_mutex; // guards m_reload and m_given
    std::function<void()> m_reload;
    std::uint64_t m_given = 0;          // the generation current() last gave
    mutable std::mutex m_watcher_mutex; // guards m_watcher against followed() on another thread
    std::unique_ptr<directory::Watcher> m_watcher;
};

} // namespace certauth::cli
