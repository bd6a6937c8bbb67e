#include "directory/directory_support.hpp"

#include "directory/postgres_connection.hpp"
#include "directory/sqlite_connection.hpp"
#include "policy/fake_facts.hpp"
#include "support/files.hpp"

#include "support/catch.hpp"

namespace certauth::test {

nlohmann::json fixture_users() { return nlohmann::json::parse(read_text(fixture("users.json"))); }

directory::Directory open_directory(const directory::Location& location, directory::OpenMode mode) {
    auto directory = directory::Directory::open(location, mode);
    INFO((directory ? std::string() : directory.error().message));
    REQUIRE(directory);
    return std::move(*directory);
}

bool knows(const policy::UserList& list, const std::string& cn) {
    auto facts = fake_facts(cn);
    facts.fingerprint256.clear();
    return list.find(facts) != nullptr;
}

void run_sql(const directory::Location& location, const std::string& sql) {
    std::unique_ptr<directory::Connection> connection;
    if (location.kind == directory::Kind::sqlite) {
        auto opened =
            directory::SqliteConnection::open(location.target, directory::OpenMode::existing, std::chrono::seconds(10));
        INFO((opened ? std::string() : opened.error().message));
        REQUIRE(opened);
        connection = std::move(*opened);
    } else {
        auto opened =
            directory::PostgresConnection::connect(location.target, location.name(), std::chrono::seconds(10));
        INFO((opened ? std::string() : opened.error().message));
        REQUIRE(opened);
        connection = std::move(*opened);
    }
    const Result<void> done = connection->execute(sql);
    INFO(sql << "\n" << (done ? std::string() : done.error().message));
    REQUIRE(done);
}

directory::WatchOptions WatchRecorder::options() {
    directory::WatchOptions options;
    options.poll_interval = std::chrono::milliseconds(50);
    options.reconnect_initial = std::chrono::milliseconds(50);
    options.reconnect_max = std::chrono::milliseconds(200);
    options.ping_interval = std::chrono::milliseconds(500);
    options.retry_interval = std::chrono::seconds(30);
    options.connect_timeout = std::chrono::seconds(5);
    options.on_snapshot = [this](const directory::Snapshot& snapshot, std::uint64_t) {
        const std::lock_guard<std::mutex> lock(m_mutex);
        m_snapshots.push_back(snapshot);
        m_changed.notify_all();
    };
    options.on_event = [this](const std::string& line) {
        const std::lock_guard<std::mutex> lock(m_mutex);
        m_events.push_back(line);
        m_changed.notify_all();
    };
    return options;
}

bool WatchRecorder::wait_for_snapshot(const std::function<bool(const policy::UserList&)>& wanted,
                                      std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(m_mutex);
    return m_changed.wait_for(lock, timeout, [&] {
        for (auto it = m_snapshots.rbegin(); it != m_snapshots.rend(); ++it)
            if (wanted(**it)) return true;
        return false;
    });
}

bool WatchRecorder::wait_for_event(const std::string& text, std::chrono::milliseconds timeout, std::size_t from) {
    std::unique_lock<std::mutex> lock(m_mutex);
    return m_changed.wait_for(lock, timeout, [&] {
        for (std::size_t i = from; i < m_events.size(); ++i)
            if (m_events[i].find(text) != std::string::npos) return true;
        return false;
    });
}

std::vector<std::string> WatchRecorder::events() const {
    const std::lock_guard<std::mutex> lock(m_mutex);
    return m_events;
}

std::size_t WatchRecorder::snapshot_count() const {
    const std::lock_guard<std::mutex> lock(m_mutex);
    return m_snapshots.size();
}

std::string WatchRecorder::events_text() const {
    std::string text;
    for (const std::string& line : events())
        text += line + "\n";
    return text;
}

} // namespace certauth::test
