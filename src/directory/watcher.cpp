#include <certauth/directory/watcher.hpp>

#include <certauth/plural.hpp>
#include <certauth/x509/time_text.hpp>

#include "follower.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <utility>

namespace certauth::directory {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Why the snapshot in force is not the directory's content.
enum class Staleness { none, unreachable, bad_content };

std::string seconds_text(Clock::duration elapsed) {
    const auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() / 100;
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

std::string describe(const policy::UserList& list, std::uint64_t generation) {
    return plural(list.users().size(), "user", "users") + ", " + plural(list.routes().size(), "route", "routes") +
           " (generation " + std::to_string(generation) + ")";
}

} // namespace

struct Watcher::Impl {
    WatchOptions options;
    std::unique_ptr<Follower> follower;
    WakeSignal wake;
    std::atomic<bool> stopping{false};

    mutable std::mutex mutex; // guards snapshot, status and staleness
    Snapshot snapshot;
    WatchStatus status;
    Staleness staleness = Staleness::none;

    std::thread thread; // last: started once the rest is in place

    void event(const std::string& line) const {
        if (options.on_event) options.on_event("directory " + follower->name() + ": " + line);
    }

    // A new snapshot is in force.
    void publish(policy::UserList list) {
        auto next = std::make_shared<const policy::UserList>(std::move(list));
        const Clock::time_point now = options.now();
        std::uint64_t generation = 0;
        Staleness was = Staleness::none;
        Clock::time_point since;
        {
            const std::lock_guard<std::mutex> lock(mutex);
            snapshot = next;
            generation = ++status.generation;
            status.loaded_at = now;
            status.users = next->users().size();
            status.routes = next->routes().size();
            status.connected = true;
            ++status.loads_succeeded;
            was = std::exchange(staleness, Staleness::none);
            since = status.stale_since;
            status.fresh = true;
        }
        if (generation == 1) return; // the first: start() reports it
        if (was == Staleness::none)
            event("changed: " + describe(*next, generation));
        else
            event(std::string(was == Staleness::unreachable ? "reconnected" : "loads again") + " after " +
                  seconds_text(now - since) + " stale: " + describe(*next, generation));
        if (options.on_snapshot) options.on_snapshot(next, generation);
    }

    // A read of the directory that did not become a snapshot.
    void load_failed(const Error& error, Staleness why) {
        {
            const std::lock_guard<std::mutex> lock(mutex);
            ++status.loads_failed;
        }
        stale(error, why);
    }

    // The snapshot in force stays, and is stale: reported when the state
    // changes (fresh -> stale, or the reason changes), and for every
    // different bad row.
    void stale(const Error& error, Staleness why) {
        const Clock::time_point now = options.now();
        bool report = false;
        std::uint64_t generation = 0;
        std::size_t users = 0;
        Clock::time_point since;
        {
            const std::lock_guard<std::mutex> lock(mutex);
            if (status.fresh) {
                status.fresh = false;
                status.stale_since = now;
                report = true;
            }
            report =
                report || staleness != why || (why == Staleness::bad_content && status.last_error != error.message);
            staleness = why;
            status.last_error = error.message;
            status.last_error_at = now;
            status.connected = why != Staleness::unreachable;
            generation = status.generation;
            users = status.users;
            since = status.stale_since;
        }
        if (!report) return;
        event("stale since " + x509::timestamp_text(since) + ": " + error.message + "; generation " +
              std::to_string(generation) + " (" + plural(users, "user", "users") + ") stays in force" +
              (why == Staleness::unreachable ? "; reconnecting" : ""));
    }

    void run() {
        milliseconds backoff = options.reconnect_initial;
        bool load_due = false;
        std::optional<Steady::time_point> retry_at; // a change that did not load, tried again then
        while (!stopping.load()) {
            if (!follower->connected()) {
                follower->disconnect();
                if (Result<void> connected = follower->connect(wake); !connected) {
                    if (stopping.load()) break;
                    stale(connected.error(), Staleness::unreachable);
                    wake.wait(backoff);
                    backoff = std::min(backoff * 2, options.reconnect_max);
                    continue;
                }
                backoff = options.reconnect_initial;
                load_due = true; // changes sent while away are lost: read everything
            }
            if (retry_at && Steady::now() >= *retry_at) load_due = true;
            if (load_due) {
                load_due = false;
                retry_at.reset();
                Result<policy::UserList> list = follower->load();
                if (list) {
                    publish(std::move(*list));
                } else if (!follower->connected()) {
                    load_failed(list.error(), Staleness::unreachable);
                    continue;
                } else {
                    load_failed(list.error(), Staleness::bad_content);
                    retry_at = Steady::now() + options.retry_interval;
                }
            }
            Result<Change> change = follower->wait(milliseconds(1000), wake);
            if (!change) {
                follower->disconnect();
                stale(change.error(), Staleness::unreachable);
            } else if (*change == Change::reopen) {
                follower->disconnect();
            } else if (*change == Change::changed) {
                load_due = true;
            }
        }
    }
};

Watcher::Watcher(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Watcher::~Watcher() {
    m_impl->stopping.store(true);
    m_impl->wake.raise();
    if (m_impl->thread.joinable()) m_impl->thread.join();
}

Result<std::unique_ptr<Watcher>> Watcher::start(const Location& location, WatchOptions options) {
    auto impl = std::make_unique<Impl>();
    switch (location.kind) {
    case Kind::sqlite: impl->follower = make_sqlite_follower(location, options); break;
    case Kind::postgresql: impl->follower = make_postgres_follower(location, options); break;
    case Kind::json_file:
        return Error{location.name() + ": a JSON file is not followed; SIGHUP reloads it (sqlite:PATH and "
                                       "postgresql://... are followed)"};
    }
    impl->options = std::move(options);
    if (Result<void> connected = impl->follower->connect(impl->wake); !connected) return connected.error();
    Result<policy::UserList> first = impl->follower->load();
    if (!first) return first.error();
    const std::string loaded = describe(*first, 1);
    impl->publish(std::move(*first));
    impl->event("following changes: " + loaded);
    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->run(); });
    return std::unique_ptr<Watcher>(new Watcher(std::move(impl)));
}

Snapshot Watcher::snapshot() const {
    const std::lock_guard<std::mutex> lock(m_impl->mutex);
    return m_impl->snapshot;
}

std::string Watcher::name() const { return m_impl->follower->name(); }

WatchStatus Watcher::status() const {
    const std::lock_guard<std::mutex> lock(m_impl->mutex);
    return m_impl->status;
}

} // namespace certauth::directory
