#include <certauth/directory/directory.hpp>

#include "directory/directory_support.hpp"
#include "directory/sqlite_connection.hpp"
#include "policy/fake_facts.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

#include <certauth/json_text.hpp>

#include "support/catch.hpp"

using certauth::directory::Directory;
using certauth::directory::Kind;
using certauth::directory::Location;
using certauth::directory::OpenMode;
using certauth::policy::MatchKey;
using certauth::policy::MatchTexts;
using certauth::policy::UserList;
using certauth::test::fake_facts;
using certauth::test::fixture_users;
using certauth::test::open_directory;
using certauth::test::run_sql;
using certauth::test::TempDir;
using nlohmann::json;

namespace {

Location sqlite_at(const TempDir& dir, const std::string& name = "users.db") {
    return Location{Kind::sqlite, (dir.path / name).string()};
}

// An initialised directory holding fixtures/users.json.
Directory imported(const Location& location) {
    Directory directory = open_directory(location, OpenMode::create);
    REQUIRE(directory.init());
    REQUIRE(directory.replace(fixture_users()));
    return directory;
}

// The users.json a directory exports.
json exported(Directory& directory) {
    nlohmann::ordered_json document = {{"users", nlohmann::ordered_json::array()},
                                       {"routes", nlohmann::ordered_json::array()}};
    auto into = [&document](const char* key) {
        return [&document, key](std::string_view, const nlohmann::ordered_json& entry) -> certauth::Result<void> {
            document[key].push_back(entry);
            return {};
        };
    };
    REQUIRE(directory.read_entries(into("users"), into("routes")));
    return json::parse(document.dump());
}

MatchTexts keys(std::initializer_list<std::pair<MatchKey, std::string_view>> values) {
    MatchTexts texts;
    for (const auto& [key, value] : values)
        texts[certauth::policy::index_of(key)] = value;
    return texts;
}

} // namespace

TEST_CASE("sqlite: init creates a versioned schema once", "[directory]") {
    TempDir dir;
    Directory directory = open_directory(sqlite_at(dir), OpenMode::create);
    CHECK(*directory.init() == Directory::InitOutcome::created);
    CHECK(*directory.init() == Directory::InitOutcome::already_current);
    const auto list = directory.load();
    REQUIRE(list);
    CHECK(list->users().empty());
    CHECK(directory.name() == "sqlite:" + (dir.path / "users.db").string());
}

TEST_CASE("sqlite: a directory that is missing, not initialised or newer is an error naming it", "[directory]") {
    TempDir dir;
    const Location missing = sqlite_at(dir, "missing.db");
    CHECK(Directory::open(missing).error().message == missing.name() + ": no such file");
    CHECK(certauth::directory::load_user_list(missing.name()).error().message == missing.name() + ": no such file");

    const Location empty = sqlite_at(dir, "empty.db");
    Directory created = open_directory(empty, OpenMode::create);
    CHECK(created.load().error().message ==
          empty.name() +
              ": not a certauth user directory (no table certauth_schema); create one with: certauth "
              "users init " +
              empty.name());

    const Location newer = sqlite_at(dir, "newer.db");
    Directory directory = open_directory(newer, OpenMode::create);
    REQUIRE(directory.init());
    run_sql(newer, "UPDATE certauth_schema SET version = 2");
    const std::string message = newer.name() + ": schema version 2 is newer than this certauth knows (1); use a "
                                               "newer certauth";
    CHECK(directory.load().error().message == message);
    CHECK(directory.init().error().message == message);
    CHECK(directory.add(json{{"cn", "x"}}).error().message == message);

    const Location foreign = sqlite_at(dir, "foreign.db");
    Directory other = open_directory(foreign, OpenMode::create);
    run_sql(foreign, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    CHECK(other.init().error().message ==
          foreign.name() + ": a table \"users\" exists without certauth_schema: not a certauth directory; use a "
                           "database (or schema) of its own");
}

TEST_CASE("sqlite: an imported users.json loads to the same decisions and exports equal", "[directory]") {
    TempDir dir;
    Directory directory = imported(sqlite_at(dir));
    const auto from_database = directory.load();
    REQUIRE(from_database);
    const auto from_file = UserList::load(certauth::test::fixture("users.json"));
    REQUIRE(from_file);
    REQUIRE(from_database->users().size() == from_file->users().size());
    for (std::size_t i = 0; i < from_file->users().size(); ++i) {
        CHECK(from_database->users()[i].cn == from_file->users()[i].cn);
        CHECK(from_database->users()[i].fingerprint256 == from_file->users()[i].fingerprint256);
        CHECK(from_database->users()[i].attributes == from_file->users()[i].attributes);
    }
    CHECK(from_database->routes().size() == 2);
    CHECK(*from_database->find(fake_facts("joe")) == *from_file->find(fake_facts("joe")));
    CHECK(exported(directory) == fixture_users());
}

TEST_CASE("sqlite: add appends, remove takes exactly the given match keys", "[directory]") {
    TempDir dir;
    Directory directory = imported(sqlite_at(dir));
    REQUIRE(*directory.add(json{{"cn", "ann"}, {"roles", {"reader"}}}) == "8");
    REQUIRE(directory.add(json{{"cn", "joe"}, {"o", "Example"}}));
    std::string lower;
    for (char c : certauth::test::k_fingerprint)
        if (c != ':') lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    REQUIRE(directory.add(json{{"fingerprint256", lower}}));
    REQUIRE(directory.add(json{{"fingerprint256", certauth::test::k_fingerprint}, {"name", "upper"}}));
    CHECK(directory.load()->users().size() == 11);

    CHECK(*directory.remove(keys({{MatchKey::cn, "joe"}})) == 1); // not {cn: joe, o: Example}
    CHECK(*directory.remove(keys({{MatchKey::cn, "joe"}})) == 0);
    CHECK(*directory.remove(keys({{MatchKey::cn, "joe"}, {MatchKey::o, "Example"}})) == 1);
    // Compared as matching compares: any case, with or without colons.
    CHECK(*directory.remove(keys({{MatchKey::fingerprint256, certauth::test::k_fingerprint}})) == 2);
    const auto list = directory.load();
    REQUIRE(list);
    CHECK(list->users().size() == 7);
    CHECK(*list->find(fake_facts("ann")) == json{{"cn", "ann"}, {"roles", {"reader"}}});
}

TEST_CASE("sqlite: a bad row fails the load naming it, lint reports every bad row", "[directory]") {
    TempDir dir;
    const Location location = sqlite_at(dir);
    Directory directory = imported(location);
    run_sql(location, "INSERT INTO users (id, fingerprint256) VALUES (20, 'AB:CD');"
                      "INSERT INTO users (id, cn, attributes) VALUES (21, 'x', '{\"roles\": [1]}');"
                      "INSERT INTO routes (id, path, roles) VALUES (9, 'admin', '[\"a\"]')");
    CHECK(directory.load().error().message ==
          location.name() + ": users[id=20].fingerprint256: expected a SHA-256 fingerprint (64 hex digits, colons "
                            "optional), got \"AB:CD\"");
    const auto report = directory.lint();
    REQUIRE(report);
    CHECK(report->counts.users == 9);
    CHECK(report->counts.routes == 3);
    CHECK(report->problems ==
          std::vector<std::string>{
              location.name() + ": users[id=20].fingerprint256: expected a SHA-256 fingerprint (64 hex digits, colons "
                                "optional), got \"AB:CD\"",
              location.name() + ": users[id=21].roles[0]: expected a string, got number",
              location.name() + ": routes[id=9].path: must start with \"/\", got \"admin\""});
    CHECK(certauth::directory::load_user_list(location.name()).error().message.find("users[id=20]") !=
          std::string::npos);
}

TEST_CASE("sqlite: the order of ids is the order entries are tried in", "[directory]") {
    TempDir dir;
    const Location location = sqlite_at(dir);
    Directory directory = imported(location);
    REQUIRE(directory.add(json{{"o", "Example"}, {"n", "later"}}));
    run_sql(location, "INSERT INTO users (id, o, attributes) VALUES (0, 'Example', '{\"n\": \"first\"}')");
    CHECK((*directory.load()->find(fake_facts("joe")))["n"] == "first");
}

TEST_CASE("sqlite: a commit refused while a reader holds the file leaves no transaction open", "[directory]") {
    TempDir dir;
    const Location location = sqlite_at(dir);
    { const Directory created = imported(location); }
    // Out of WAL (another tool may set the file back to a rollback journal),
    // a writer's COMMIT waits for every reader's lock, and fails past the
    // busy timeout.
    run_sql(location, "PRAGMA journal_mode=DELETE");
    using certauth::directory::SqliteConnection;
    auto writer_connection = SqliteConnection::open(location.target, OpenMode::existing, std::chrono::milliseconds(50));
    auto reader = SqliteConnection::open(location.target, OpenMode::existing, std::chrono::milliseconds(50));
    REQUIRE(writer_connection);
    REQUIRE(reader);
    Directory writer(std::move(*writer_connection));

    REQUIRE((*reader)->execute("BEGIN"));
    REQUIRE((*reader)->query("SELECT count(*) FROM users", {},
                             [](const certauth::directory::Row&) -> certauth::Result<void> { return {}; }));
    const auto refused = writer.add(json{{"cn", "zed"}});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Matchers::ContainsSubstring("locked"));

    // The reader is done: the same connection writes again.
    REQUIRE((*reader)->execute("COMMIT"));
    const auto added = writer.add(json{{"cn", "zed"}});
    INFO((added ? std::string() : added.error().message));
    CHECK(added);
    auto users = writer.load();
    REQUIRE(users);
    CHECK(users->users().size() == fixture_users()["users"].size() + 1);
}
