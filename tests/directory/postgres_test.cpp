// A user directory in a real PostgreSQL cluster (support/postgres.hpp),
// started for the test and removed after it, even when it fails.
#include <certauth/directory/directory.hpp>
#include <certauth/directory/watcher.hpp>

#include "directory/directory_support.hpp"
#include "directory/postgres_connection.hpp"
#include "policy/fake_facts.hpp"
#include "support/files.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"

#include "support/catch.hpp"

#include <thread>

using certauth::directory::Directory;
using certauth::directory::Kind;
using certauth::directory::Location;
using certauth::directory::Watcher;
using certauth::policy::UserList;
using certauth::test::fake_facts;
using certauth::test::fixture_users;
using certauth::test::knows;
using certauth::test::open_directory;
using certauth::test::PostgresCluster;
using certauth::test::run_sql;
using certauth::test::WatchRecorder;
using nlohmann::json;

namespace {

certauth::test::ProcessResult run_users_command(const std::vector<std::string>& args) {
    std::vector<std::string> argv{certauth::test::certauth_binary(), "users"};
    argv.insert(argv.end(), args.begin(), args.end());
    return certauth::test::run(argv);
}

// The cluster's directory, made and filled with the fixture users.
Location seeded(const PostgresCluster& cluster) {
    const Location location{Kind::postgresql, cluster.uri()};
    Directory directory = open_directory(location);
    REQUIRE(directory.init());
    REQUIRE(directory.replace(fixture_users()));
    return location;
}

} // namespace

TEST_CASE("postgresql: init, import, export, add, remove, bad rows, concurrent writers", "[directory]") {
    PostgresCluster cluster;
    const Location location{Kind::postgresql, cluster.uri()};
    Directory directory = open_directory(location);
    CHECK(*directory.init() == Directory::InitOutcome::created);
    CHECK(*directory.init() == Directory::InitOutcome::already_current);
    REQUIRE(directory.replace(fixture_users()));

    const auto list = directory.load();
    REQUIRE(list);
    CHECK(list->users().size() == 7);
    CHECK(*list->find(fake_facts("joe")) == json{{"cn", "joe"}, {"name", "Joe Example"}, {"roles", {"admin"}}});
    CHECK(list->routes().size() == 2);
    CHECK(list->routes()[1].is_public);

    // export round-trips, through the command as a user runs it
    const auto exported = run_users_command({"export", cluster.uri()});
    INFO(exported.err);
    REQUIRE(exported.exit_code == 0);
    CHECK(json::parse(exported.out) == fixture_users());

    // two writers at once: every entry of both is there afterwards
    auto writer = [&](const std::string& prefix) {
        return std::make_unique<certauth::test::ChildProcess>(std::vector<std::string>{
            "sh", "-c",
            "for i in $(seq 1 15); do \"$0\" users add \"$1\" --cn " + prefix + "$i --role r || exit 1; done",
            certauth::test::certauth_binary(), cluster.uri()});
    };
    {
        auto first = writer("a");
        auto second = writer("b");
        CHECK(first->wait(std::chrono::seconds(60)) == 0);
        CHECK(second->wait(std::chrono::seconds(60)) == 0);
    }
    const auto after = directory.load();
    REQUIRE(after);
    CHECK(after->users().size() == 37);
    for (int i = 1; i <= 15; ++i) {
        CHECK(knows(*after, "a" + std::to_string(i)));
        CHECK(knows(*after, "b" + std::to_string(i)));
    }

    const auto removed = run_users_command({"remove", cluster.uri(), "--cn", "joe"});
    CHECK(removed.out.find(": removed 1 entry with exactly {\"cn\":\"joe\"}") != std::string::npos);

    // add appends after an id given by hand, and SQL without one goes on after it.
    run_sql(location, "INSERT INTO users (id, cn) VALUES (500, 'by-hand')");
    const auto appended = directory.add(json{{"cn", "after-hand"}});
    INFO((appended ? std::string() : appended.error().message));
    REQUIRE(appended);
    CHECK(*appended == "501");
    run_sql(location, "INSERT INTO users (cn) VALUES ('plain-sql'); DELETE FROM users WHERE id >= 500");

    run_sql(location, "INSERT INTO users (id, cn, attributes) VALUES (1000, 'x', '{\"n\": 1, \"n\": 2}');"
                      "INSERT INTO routes (path, roles, is_public) VALUES ('/a', NULL, false)");
    CHECK(directory.load().error().message ==
          location.name() + ": users[id=1000].attributes: (top level): duplicate key \"n\"");
    const auto lint = run_users_command({"lint", cluster.uri()});
    CHECK(lint.exit_code == 1);
    CHECK(lint.out.find("users[id=1000].attributes: (top level): duplicate key \"n\"\n") != std::string::npos);
    CHECK(lint.out.find("routes[id=3]: needs \"roles\" or \"public\": true\n") != std::string::npos);
    CHECK(lint.out.find(": 2 problems in 37 users and 3 routes\n") != std::string::npos);

    run_sql(location, "UPDATE certauth_schema SET version = 7");
    CHECK(certauth::directory::load_user_list(cluster.uri()).error().message ==
          location.name() + ": schema version 7 is newer than this certauth knows (1); use a newer certauth");
}

TEST_CASE("postgresql: roles with the privileges docs/directory.md lists read and write, given as keyword/value",
          "[directory]") {
    PostgresCluster cluster;
    const Location owner = seeded(cluster);
    run_sql(owner, "CREATE ROLE certauth_reader LOGIN; CREATE ROLE certauth_writer LOGIN;"
                   "GRANT SELECT ON certauth_schema, users, routes TO certauth_reader;"
                   "GRANT SELECT ON certauth_schema TO certauth_writer;"
                   "GRANT SELECT, INSERT, DELETE ON users, routes TO certauth_writer;"
                   "GRANT UPDATE ON SEQUENCE users_id_seq TO certauth_writer");
    const std::string reader = cluster.keywords_for("certauth_reader");
    const std::string writer = cluster.keywords_for("certauth_writer");

    // The writer: add, remove, import.
    const auto added = run_users_command({"add", writer, "--cn", "erin", "--role", "ops"});
    INFO(added.out << added.err);
    REQUIRE(added.exit_code == 0);
    const auto removed = run_users_command({"remove", writer, "--cn", "erin"});
    INFO(removed.out << removed.err);
    CHECK(removed.exit_code == 0);
    CHECK(removed.out.find(": removed 1 entry with exactly {\"cn\":\"erin\"}") != std::string::npos);
    certauth::test::TempDir dir;
    const std::string file = (dir.path / "users.json").string();
    certauth::test::write_atomically(file, fixture_users().dump());
    const auto imported = run_users_command({"import", file, writer});
    INFO(imported.out << imported.err);
    CHECK(imported.exit_code == 0);

    // The reader: export, lint, check, and following changes (LISTEN).
    const auto exported = run_users_command({"export", reader});
    INFO(exported.err);
    REQUIRE(exported.exit_code == 0);
    CHECK(json::parse(exported.out) == fixture_users());
    CHECK(run_users_command({"lint", reader}).exit_code == 0);
    const auto checked = certauth::test::run({certauth::test::certauth_binary(), "check", "--users", reader, "--ca",
                                              certauth::test::fixture("ca.crt"), certauth::test::fixture("joe.crt")});
    INFO(checked.out << checked.err);
    CHECK(checked.exit_code == 0);
    {
        WatchRecorder recorder;
        auto started = Watcher::start(Location{Kind::postgresql, reader}, recorder.options());
        INFO((started ? std::string() : started.error().message));
        REQUIRE(started);
        INFO(recorder.events_text());
        CHECK(run_users_command({"add", writer, "--cn", "dave"}).exit_code == 0);
        CHECK(recorder.wait_for_snapshot([](const UserList& list) { return knows(list, "dave"); }));
    }

    // The reader cannot write; the error says why, naming the directory.
    const auto refused = run_users_command({"add", reader, "--cn", "mallory"});
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("certauth: error: postgresql://certauth_reader@/postgres?host=") == 0);
    CHECK(refused.err.find("permission denied") != std::string::npos);
}

TEST_CASE("postgresql watcher: LISTEN, a bad row, and the server stopped and started again", "[directory]") {
    PostgresCluster cluster;
    const Location location = seeded(cluster);
    WatchRecorder recorder;
    auto started = Watcher::start(location, recorder.options());
    INFO((started ? std::string() : started.error().message));
    REQUIRE(started);
    const std::unique_ptr<Watcher> watcher = std::move(*started);
    CHECK(watcher->status().generation == 1);
    INFO(recorder.events_text());

    // A change arrives by notification, well within a second.
    run_sql(location, "INSERT INTO users (cn) VALUES ('ann')");
    const auto committed = std::chrono::steady_clock::now();
    REQUIRE(recorder.wait_for_snapshot([](const UserList& list) { return knows(list, "ann"); }));
    CHECK(std::chrono::steady_clock::now() - committed < std::chrono::seconds(1));
    CHECK(watcher->status().generation == 2);

    // A bad row keeps the snapshot; the fix brings the change in.
    run_sql(location, "INSERT INTO users (cn, serial) VALUES ('bob', 'zz')");
    REQUIRE(recorder.wait_for_event("users[id=9].serial: expected a serial number in hex, got \"zz\""));
    CHECK_FALSE(watcher->status().fresh);
    CHECK_FALSE(knows(*watcher->snapshot(), "bob"));
    run_sql(location, "UPDATE users SET serial = NULL WHERE id = 9");
    REQUIRE(recorder.wait_for_snapshot([](const UserList& list) { return knows(list, "bob"); }));
    CHECK(watcher->status().fresh);

    // The server goes away: the snapshot stays, stale; it comes back: reconnected, reloaded.
    const std::size_t before_stop = recorder.events().size();
    cluster.stop();
    REQUIRE(recorder.wait_for_event("; reconnecting", std::chrono::seconds(10), before_stop));
    CHECK_FALSE(watcher->status().fresh);
    CHECK_FALSE(watcher->status().connected);
    CHECK(knows(*watcher->snapshot(), "bob"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cluster.start();
    REQUIRE(recorder.wait_for_event("reconnected after", std::chrono::seconds(10), before_stop));
    CHECK(watcher->status().fresh);
    CHECK(watcher->status().connected);
    std::size_t stale_reports = 0;
    for (std::size_t i = before_stop; i < recorder.events().size(); ++i)
        stale_reports += recorder.events()[i].find("stale since") != std::string::npos ? 1 : 0;
    CHECK(stale_reports == 1);

    // A later change arrives again.
    run_sql(location, "DELETE FROM users WHERE cn = 'joe'");
    REQUIRE(recorder.wait_for_snapshot([](const UserList& list) { return !knows(list, "joe"); }));
    CHECK_FALSE(knows(*watcher->snapshot(), "joe"));
}

TEST_CASE("postgresql watcher: a server that stops answering is noticed, and the watcher stops at once meanwhile",
          "[directory]") {
    PostgresCluster cluster;
    const Location location = seeded(cluster);
    WatchRecorder recorder;
    certauth::directory::WatchOptions options = recorder.options(); // a ping after 500 ms of silence
    options.answer_timeout = std::chrono::milliseconds(1000);
    auto started = Watcher::start(location, options);
    INFO((started ? std::string() : started.error().message));
    REQUIRE(started);
    std::unique_ptr<Watcher> watcher = std::move(*started);
    INFO(recorder.events_text());
    struct ThawFirst { // on a failure, before the watcher goes
        PostgresCluster& cluster;
        ~ThawFirst() { cluster.thaw(); }
    } thaw_first{cluster};

    // Frozen with its connections open: the ping goes unanswered.
    std::size_t before = recorder.events().size();
    cluster.freeze();
    REQUIRE(recorder.wait_for_event("no answer from the server within 1000 ms", std::chrono::seconds(5), before));
    CHECK_FALSE(watcher->status().connected);
    CHECK_FALSE(watcher->status().fresh);
    CHECK(knows(*watcher->snapshot(), "joe"));
    cluster.thaw();
    REQUIRE(recorder.wait_for_event("reconnected after", std::chrono::seconds(10), before));
    CHECK(watcher->status().connected);

    // Stopped while a ping waits for the frozen server: at once, not after the answer timeout (30 s here).
    options.answer_timeout = std::chrono::seconds(30);
    auto patient = Watcher::start(location, options);
    REQUIRE(patient);
    watcher = std::move(*patient);
    cluster.freeze();
    std::this_thread::sleep_for(std::chrono::milliseconds(2500)); // the ping goes after 500 ms of silence
    const auto stopping = std::chrono::steady_clock::now();
    watcher.reset();
    CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds(2));
    cluster.thaw();
}

TEST_CASE("postgresql watcher: a load that waits for a lock is ended by the server, the snapshot kept", "[directory]") {
    PostgresCluster cluster;
    const Location location = seeded(cluster);
    WatchRecorder recorder;
    certauth::directory::WatchOptions options = recorder.options();
    options.answer_timeout = std::chrono::milliseconds(2000); // lock_timeout: 1 s
    auto started = Watcher::start(location, options);
    REQUIRE(started);
    const std::unique_ptr<Watcher> watcher = std::move(*started);
    INFO(recorder.events_text());

    // A writer holds the table as ALTER TABLE or VACUUM FULL would; a notification asks for a load.
    auto holder =
        certauth::directory::PostgresConnection::connect(location.target, location.name(), std::chrono::seconds(10));
    REQUIRE(holder);
    REQUIRE((*holder)->execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE"));
    const std::size_t before = recorder.events().size();
    run_sql(location, "NOTIFY certauth_directory");
    REQUIRE(recorder.wait_for_event("lock timeout", std::chrono::seconds(5), before));
    CHECK(watcher->status().connected);
    CHECK(knows(*watcher->snapshot(), "joe"));
    REQUIRE((*holder)->execute("ROLLBACK"));
    run_sql(location, "INSERT INTO users (cn) VALUES ('ann')");
    REQUIRE(recorder.wait_for_snapshot([](const UserList& list) { return knows(list, "ann"); }));
    CHECK(watcher->status().fresh);
}