// The watcher on a real SQLite file, changed by other connections as other
// processes would change it.
#include <certauth/directory/watcher.hpp>

#include <certauth/directory/directory.hpp>

#include "directory/directory_support.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

#include "support/catch.hpp"

#include <filesystem>
#include <thread>

namespace fs = std::filesystem;
using certauth::directory::Directory;
using certauth::directory::Kind;
using certauth::directory::Location;
using certauth::directory::OpenMode;
using certauth::directory::Watcher;
using certauth::policy::UserList;
using certauth::test::knows;
using certauth::test::open_directory;
using certauth::test::run_sql;
using certauth::test::TempDir;
using certauth::test::WatchRecorder;
using nlohmann::json;

namespace {

// An initialised SQLite directory at `path` holding fixtures/users.json.
void make_directory(const fs::path& path) {
    Directory directory = open_directory(Location{Kind::sqlite, path.string()}, OpenMode::create);
    REQUIRE(directory.init());
    REQUIRE(directory.replace(certauth::test::fixture_users()));
}

std::unique_ptr<Watcher> start(const Location& location, WatchRecorder& recorder) {
    auto watcher = Watcher::start(location, recorder.options());
    INFO((watcher ? std::string() : watcher.error().message));
    REQUIRE(watcher);
    return std::move(*watcher);
}

} // namespace

TEST_CASE("sqlite watcher: a commit by another connection becomes a new snapshot", "[directory]") {
    TempDir dir;
    const Location location{Kind::sqlite, (dir.path / "users.db").string()};
    make_directory(dir.path / "users.db");
    WatchRecorder recorder;
    const auto watcher = start(location, recorder);
    CHECK(watcher->status().generation == 1);
    CHECK(watcher->status().fresh);
    CHECK(watcher->snapshot()->users().size() == 7);
    CHECK_FALSE(knows(*watcher->snapshot(), "ann"));

    Directory writer = open_directory(location);
    REQUIRE(writer.add(json{{"cn", "ann"}}));
    INFO(recorder.events_text());
    REQUIRE(recorder.wait_for_snapshot([](const UserList& list) { return knows(list, "ann"); }));
    CHECK(knows(*watcher->snapshot(), "ann"));
    CHECK(watcher->status().generation == 2);
    CHECK(recorder.wait_for_event("changed: 8 users, 2 routes (generation 2)"));

    REQUIRE(writer.remove([] {
        certauth::policy::MatchTexts texts;
        texts[0] = "joe";
        return texts;
    }()));
    REQUIRE(recorder.wait_for_snapshot([](const UserList& list) { return !knows(list, "joe"); }));
    CHECK(watcher->status().generation == 3);
}

TEST_CASE("sqlite watcher: a bad row keeps the snapshot in force, reported with the row", "[directory]") {
    TempDir dir;
    const Location location{Kind::sqlite, (dir.path / "users.db").string()};
    make_directory(dir.path / "users.db");
    WatchRecorder recorder;
    const auto watcher = start(location, recorder);

    run_sql(location, "INSERT INTO users (id, cn) VALUES (50, 'ann'); INSERT INTO users (id, ip) VALUES (51, 'x')");
    INFO(recorder.events_text());
    REQUIRE(
        recorder.wait_for_event("users[id=51].ip: not an IP address: \"x\"; generation 1 (7 users) stays in force"));
    const auto status = watcher->status();
    CHECK_FALSE(status.fresh);
    CHECK(status.generation == 1);
    CHECK(status.connected);
    CHECK(status.last_error == location.name() + ": users[id=51].ip: not an IP address: \"x\"");
    CHECK(status.last_error_at >= status.stale_since);
    CHECK(status.loads_succeeded == 1);
    CHECK(status.loads_failed == 1);
    CHECK(status.users == 7);
    CHECK(watcher->name() == location.name());
    CHECK_FALSE(knows(*watcher->snapshot(), "ann")); // the whole change waits for the fix
    CHECK(recorder.snapshot_count() == 0);

    run_sql(location, "UPDATE users SET ip = '10.0.0.1' WHERE id = 51");
    REQUIRE(recorder.wait_for_snapshot([](const UserList& list) { return knows(list, "ann"); }));
    CHECK(watcher->status().fresh);
    CHECK(watcher->status().generation == 2);
    CHECK(watcher->status().loads_succeeded == 2);
    CHECK(watcher->status().loads_failed == 1);
    CHECK(watcher->status().users == 9);
    CHECK(recorder.wait_for_event("loads again after"));
}

TEST_CASE("sqlite watcher: a file that goes away leaves the snapshot stale until it is back", "[directory]") {
    TempDir dir;
    const fs::path path = dir.path / "users.db";
    const Location location{Kind::sqlite, path.string()};
    make_directory(path);
    WatchRecorder recorder;
    const auto watcher = start(location, recorder);

    fs::rename(path, dir.path / "away.db");
    INFO(recorder.events_text());
    REQUIRE(recorder.wait_for_event(": no such file; generation 1 (7 users) stays in force; reconnecting"));
    CHECK_FALSE(watcher->status().fresh);
    CHECK_FALSE(watcher->status().connected);
    CHECK(watcher->snapshot()->users().size() == 7);
    // Reported once, however many attempts fail meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::size_t reports = 0;
    for (const std::string& line : recorder.events())
        reports += line.find("stale since") != std::string::npos ? 1 : 0;
    CHECK(reports == 1);

    // Back, as another file (an admin's `mv new.db users.db`): read in full.
    make_directory(dir.path / "new.db");
    run_sql(Location{Kind::sqlite, (dir.path / "new.db").string()}, "DELETE FROM users WHERE cn = 'joe'");
    fs::rename(dir.path / "new.db", path);
    REQUIRE(recorder.wait_for_snapshot([](const UserList& list) { return !knows(list, "joe"); }));
    CHECK(recorder.wait_for_event("reconnected after"));
    CHECK(watcher->status().fresh);
    CHECK(watcher->status().connected);

    // Replaced while connected: followed to the new file without a stale spell.
    make_directory(dir.path / "next.db");
    fs::rename(dir.path / "next.db", path);
    REQUIRE(recorder.wait_for_snapshot([](const UserList& list) { return knows(list, "joe"); }));
    CHECK(watcher->status().fresh);
}

TEST_CASE("sqlite watcher: a directory that cannot be read at start is an error naming it", "[directory]") {
    TempDir dir;
    WatchRecorder recorder;
    const Location missing{Kind::sqlite, (dir.path / "missing.db").string()};
    CHECK(Watcher::start(missing, recorder.options()).error().message == missing.name() + ": no such file");
    CHECK(Watcher::start(Location{Kind::json_file, "users.json"}, recorder.options())
              .error()
              .message.find("users.json: a JSON file is not followed") == 0);
}
