#include "cli/followed_users.hpp"

#include <certauth/directory/location.hpp>

#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>

namespace certauth::cli {
namespace {

// "certauth: LINE" on standard error in one write(2), as the server's own
// lines are, so that lines of several threads never interleave.
void log_line(std::string_view line) {
    const std::string text = "certauth: " + std::string(line) + "\n";
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(2, text.data() + done, text.size() - done);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

} // namespace

FollowedUsers::~FollowedUsers() {
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        m_reload = nullptr;
    }
    std::unique_ptr<directory::Watcher> watcher;
    {
        const std::lock_guard<std::mutex> lock(m_watcher_mutex);
        watcher = std::move(m_watcher);
    }
    watcher.reset(); // stops and joins the watcher's thread
}

Result<std::optional<policy::UserList>> FollowedUsers::current() {
    if (m_options.users.empty()) return std::optional<policy::UserList>{};
    Result<directory::Location> location = directory::parse_location(m_options.users);
    if (!location) return location.error();
    if (!location->is_database()) return load_user_list(m_options);
    if (!m_watcher) {
        directory::WatchOptions watch;
        watch.on_event = log_line;
        watch.on_snapshot = [this](const directory::Snapshot&, std::uint64_t generation) { changed(generation); };
        Result<std::unique_ptr<directory::Watcher>> started = directory::Watcher::start(*location, std::move(watch));
        if (!started) return started.error();
        const std::lock_guard<std::mutex> lock(m_watcher_mutex);
        m_watcher = std::move(*started);
    }
    // The status and the snapshot are read apart: a snapshot newer than the
    // generation noted here only causes one reload more.
    const std::uint64_t generation = m_watcher->status().generation;
    const directory::Snapshot snapshot = m_watcher->snapshot();
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        m_given = generation;
    }
    return std::optional<policy::UserList>{*snapshot}; // a copy shares the snapshot's entries
}

void FollowedUsers::on_change(std::function<void()> reload) {
    std::uint64_t given = 0;
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        m_reload = std::move(reload);
        given = m_given;
    }
    if (m_watcher && m_watcher->status().generation != given) changed(m_watcher->status().generation);
}

std::optional<FollowedUsers::Followed> FollowedUsers::followed() const {
    const std::lock_guard<std::mutex> lock(m_watcher_mutex);
    if (!m_watcher) return std::nullopt;
    return Followed{m_watcher->name(), m_watcher->status()};
}

void FollowedUsers::changed(std::uint64_t generation) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    if (m_reload && generation != m_given) m_reload();
}

} // namespace certauth::cli
