// `certauth users ...`, `check --users sqlite:...` and serve's start-up and
// SIGHUP reload from a directory: the real binary on a real SQLite file.
#include "support/files.hpp"
#include "support/process.hpp"

#include "support/catch.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <regex>

using certauth::test::certauth_binary;
using certauth::test::ChildProcess;
using certauth::test::fixture;
using certauth::test::ProcessResult;
using certauth::test::RunOptions;
using certauth::test::TempDir;
using nlohmann::json;

namespace {

ProcessResult run_certauth(const std::vector<std::string>& args, const std::string& cwd = "") {
    std::vector<std::string> argv{certauth_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.cwd = cwd;
    options.timeout = std::chrono::seconds(30);
    return certauth::test::run(argv, options);
}

// sqlite:DIR/users.db, initialised and holding fixtures/users.json.
std::string imported_directory(const TempDir& dir) {
    const std::string directory = "sqlite:" + (dir.path / "users.db").string();
    REQUIRE(run_certauth({"users", "init", directory}).exit_code == 0);
    const ProcessResult imported = run_certauth({"users", "import", fixture("users.json"), directory});
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
    return directory;
}

} // namespace

TEST_CASE("users: init, import, list, add, remove, export", "[e2e][cli]") {
    TempDir dir;
    const std::string directory = "sqlite:" + (dir.path / "users.db").string();
    const ProcessResult init = run_certauth({"users", "init", directory});
    CHECK(init.exit_code == 0);
    CHECK(init.out == directory + ": created a user directory (schema version 1)\n");
    CHECK(run_certauth({"users", "init", directory}).out ==
          directory + ": already a user directory (schema version 1); nothing changed\n");

    const ProcessResult imported = run_certauth({"users", "import", fixture("users.json"), directory});
    CHECK(imported.out == directory + ": imported 7 users and 2 routes from " + fixture("users.json") +
                              " (replacing 0 users and 0 routes)\n");

    const ProcessResult added =
        run_certauth({"users", "add", directory, "--cn", "ann", "--issuer-cn", "certauth test CA", "--role", "reader",
                      "--role", "ops", "--set", "name=Ann Example"});
    INFO(added.err);
    CHECK(added.exit_code == 0);
    CHECK(added.out == directory + ": added users[id=8] {\"cn\":\"ann\",\"issuer_cn\":\"certauth test CA\","
                                   "\"name\":\"Ann Example\",\"roles\":[\"reader\",\"ops\"]}\n");

    const ProcessResult listed = run_certauth({"users", "list", directory});
    CHECK(listed.out.find("users[id=2]  \"expired\"\n") != std::string::npos);
    CHECK(listed.out.find("users[id=8]  {\"cn\":\"ann\",\"issuer_cn\":\"certauth test CA\",\"name\":\"Ann "
                          "Example\",\"roles\":[\"reader\",\"ops\"]}\n") != std::string::npos);
    CHECK(listed.out.find("routes[id=2]  {\"path\":\"/public\",\"public\":true}\n") != std::string::npos);
    const ProcessResult as_json = run_certauth({"users", "list", "--json", directory});
    CHECK(as_json.out.rfind("{\"table\":\"users\",\"id\":1,\"entry\":{\"cn\":\"joe\",", 0) == 0);

    // remove: exactly these match keys (ann has an issuer_cn too)
    CHECK(run_certauth({"users", "remove", directory, "--cn", "ann"}).out ==
          directory + ": removed 0 entries with exactly {\"cn\":\"ann\"}\n");
    CHECK(run_certauth({"users", "remove", directory, "--cn", "ann", "--issuer_cn", "certauth test CA"}).out ==
          directory + ": removed 1 entry with exactly {\"cn\":\"ann\",\"issuer_cn\":\"certauth test CA\"}\n");

    // export round-trips to an equal users.json, on stdout or into a file
    const ProcessResult exported = run_certauth({"users", "export", directory});
    CHECK(json::parse(exported.out) == json::parse(certauth::test::read_text(fixture("users.json"))));
    const std::string file = (dir.path / "out.json").string();
    CHECK(run_certauth({"users", "export", directory, file}).out ==
          directory + ": exported 7 users and 2 routes to " + file + "\n");
    CHECK(json::parse(certauth::test::read_text(file)) == json::parse(exported.out));
}

TEST_CASE("users: bad options and values are errors, exit 2", "[e2e][cli]") {
    TempDir dir;
    const std::string directory = imported_directory(dir);
    auto error_of = [](const ProcessResult& result) {
        CHECK(result.exit_code == 2);
        return result.err;
    };
    CHECK(error_of(run_certauth({"users", "add", directory, "--role", "x"})) ==
          "certauth: error: users add needs at least one match key (cn, o, ou, email, dns, uri, ip, fingerprint256, "
          "serial, issuer_cn) as an option: --cn joe, --fingerprint256 ...\n");
    CHECK(error_of(run_certauth({"users", "add", directory, "--fingerprint256", "AB"})) ==
          "certauth: error: " + directory +
              ": new entry.fingerprint256: expected a SHA-256 fingerprint (64 hex digits, colons optional), got "
              "\"AB\"\n");
    CHECK(error_of(run_certauth({"users", "add", directory, "--cn", "x", "--set", "cn=y"})) ==
          "certauth: error: --set cn=y: cn is a match key; give it as --cn\n");
    CHECK(error_of(run_certauth({"users", "add", directory, "--cn", "x", "--set", "novalue"}))
              .find("expected NAME=VALUE") != std::string::npos);
    CHECK(error_of(run_certauth({"users", "remove", directory})).find("needs the match keys") != std::string::npos);
    CHECK(error_of(run_certauth({"users", "import", (dir.path / "nope.json").string(), directory})) ==
          "certauth: error: " + (dir.path / "nope.json").string() + ": no such file\n");
    // A bad file is refused whole: nothing was replaced.
    const std::string bad = dir.write("bad.json", R"({"users": ["a", {"ip": "x"}]})");
    CHECK(error_of(run_certauth({"users", "import", bad, directory})) ==
          "certauth: error: " + bad + ": users[1].ip: not an IP address: \"x\"\n");
    CHECK(run_certauth({"users", "lint", directory}).out == directory + ": 7 users and 2 routes, no problems\n");
    CHECK(error_of(run_certauth({"users", "list", "sqlite:" + (dir.path / "none.db").string()})) ==
          "certauth: error: sqlite:" + (dir.path / "none.db").string() + ": no such file\n");
}

TEST_CASE("users: a JSON file is read by list, export and lint, the other commands need a database", "[e2e][cli]") {
    TempDir dir;
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"users", "add", fixture("users.json"), "--cn", "x"},
          std::vector<std::string>{"users", "remove", fixture("users.json"), "--cn", "x"},
          std::vector<std::string>{"users", "init", fixture("users.json")},
          std::vector<std::string>{"users", "import", fixture("users.json"), fixture("users.json")}}) {
        const ProcessResult refused = run_certauth(args);
        CHECK(refused.exit_code == 2);
        CHECK(refused.err.find(fixture("users.json") + " is a JSON file; 'certauth users " + args[1] +
                               "' needs a database: sqlite:PATH or postgresql://...") != std::string::npos);
    }
    // An empty location: the commands that need a database offer no JSON file.
    const ProcessResult empty = run_certauth({"users", "add", "", "--cn", "x"});
    CHECK(empty.exit_code == 2);
    CHECK(empty.err == "certauth: error: the location of the users is empty; 'certauth users add' needs a database: "
                       "sqlite:PATH, postgresql://... or \"host=... dbname=...\"\n");
    const ProcessResult empty_list = run_certauth({"users", "list", ""});
    CHECK(empty_list.exit_code == 2);
    CHECK_THAT(empty_list.err, Catch::Matchers::ContainsSubstring("expected FILE.json, sqlite:PATH"));
    CHECK(run_certauth({"users", "list", fixture("users.json")}).out.find("users[6]  {\"fingerprint256\":") !=
          std::string::npos);
    CHECK(json::parse(run_certauth({"users", "export", fixture("users.json")}).out) ==
          json::parse(certauth::test::read_text(fixture("users.json"))));
    const std::string bad = dir.write("bad.json", R"({"users": ["a", {"ip": "x"}, {"cn": 1}], "routes": [{}]})");
    const ProcessResult lint = run_certauth({"users", "lint", bad});
    CHECK(lint.exit_code == 1);
    CHECK(lint.out == bad + ": users[1].ip: not an IP address: \"x\"\n" + bad +
                          ": users[2].cn: expected a string, got number\n" + bad + ": routes[0]: missing \"path\"\n" +
                          bad + ": 3 problems in 3 users and 1 route\n");
    CHECK(run_certauth({"users", "lint", fixture("users.json")}).exit_code == 0);
}

TEST_CASE("users: two processes adding at once lose no entry (sqlite)", "[e2e][cli]") {
    TempDir dir;
    const std::string directory = imported_directory(dir);
    auto writer = [&](const std::string& prefix) {
        return std::make_unique<ChildProcess>(std::vector<std::string>{
            "sh", "-c", "for i in $(seq 1 20); do \"$0\" users add \"$1\" --cn " + prefix + "$i || exit 1; done",
            certauth_binary(), directory});
    };
    auto first = writer("a");
    auto second = writer("b");
    CHECK(first->wait(std::chrono::seconds(60)) == 0);
    CHECK(second->wait(std::chrono::seconds(60)) == 0);
    INFO(first->output() << second->output());
    const json exported = json::parse(run_certauth({"users", "export", directory}).out);
    CHECK(exported["users"].size() == 47);
    for (int i = 1; i <= 20; ++i) {
        CHECK(std::count(exported["users"].begin(), exported["users"].end(), json("a" + std::to_string(i))) == 1);
        CHECK(std::count(exported["users"].begin(), exported["users"].end(), json("b" + std::to_string(i))) == 1);
    }
}

TEST_CASE("check and serve read --users sqlite:PATH (also from certauth.toml, relative to it)", "[e2e][cli]") {
    TempDir dir;
    const std::string directory = imported_directory(dir);
    const ProcessResult checked = run_certauth(
        {"check", "--ca", fixture("ca.crt"), "--users", directory, "--json", fixture("joe.crt"), fixture("bob.crt")});
    CHECK(checked.exit_code == 1);
    CHECK(checked.out.find(R"("outcome":"authorised","reason":null,"user":{"cn":"joe","name":"Joe Example")") !=
          std::string::npos);
    CHECK(checked.out.find(R"("reason":"unknown_user")") != std::string::npos);

    dir.write("certauth.toml", "ca = \"" + fixture("ca.crt") + "\"\nusers = \"sqlite:users.db\"\n");
    const ProcessResult from_config = run_certauth({"check", "-q", fixture("joe.crt")}, dir.path.string());
    INFO(from_config.err);
    CHECK(from_config.exit_code == 0);

    // serve: loaded from the directory at start-up, following its changes
    // (tests/e2e/serve_directory_test.cpp), and at SIGHUP.
    ChildProcess serve({certauth_binary(), "serve", "--listen", "127.0.0.1:0", "--cert", fixture("server.crt"), "--key",
                        fixture("server.key"), "--ca", fixture("ca.crt"), "--users", directory, "--no-access-log"});
    REQUIRE(
        serve.wait_for_line(std::regex("loaded \\(generation 1\\): .* 7 users, 2 routes"), std::chrono::seconds(30)));
    REQUIRE(run_certauth({"users", "remove", directory, "--cn", "joe"}).exit_code == 0);
    REQUIRE(
        serve.wait_for_line(std::regex("reloaded \\(generation 2\\): .* 6 users, 2 routes"), std::chrono::seconds(30)));
    const std::size_t offset = serve.output_size();
    serve.signal(SIGHUP);
    CHECK(serve.wait_for_line(std::regex("reloaded \\(generation 3\\): .* 6 users, 2 routes"), std::chrono::seconds(30),
                              offset));
    // A directory that cannot be read at start-up: exit 2, naming it.
    const std::string missing = "sqlite:" + (dir.path / "missing.db").string();
    const ProcessResult failed =
        run_certauth({"serve", "--listen", "127.0.0.1:0", "--cert", fixture("server.crt"), "--key",
                      fixture("server.key"), "--ca", fixture("ca.crt"), "--users", missing});
    CHECK(failed.exit_code == 2);
    CHECK(failed.err.find(missing + ": no such file") != std::string::npos);
}

// Also run by scripts/tsan.sh against a ThreadSanitizer build ([watch]):
// the watcher's thread, its callbacks and the stop.
TEST_CASE("users watch: a line per change, and a bad row reported with the row until fixed", "[e2e][cli][watch]") {
    TempDir dir;
    const std::string directory = imported_directory(dir);
    ChildProcess watch({certauth_binary(), "users", "watch", directory, "--interval", "0.05"});
    REQUIRE(watch.wait_for_line(std::regex("directory " + directory +
                                           ": following changes: 7 users, 2 routes "
                                           "\\(generation 1\\)"),
                                std::chrono::seconds(30)));
    REQUIRE(run_certauth({"users", "add", directory, "--cn", "ann"}).exit_code == 0);
    CHECK(watch.wait_for_line(std::regex("changed: 8 users, 2 routes \\(generation 2\\)"), std::chrono::seconds(30)));
    const std::string bad = dir.write("bad.json", R"({"users": ["a"]})");
    REQUIRE(run_certauth({"users", "import", bad, directory}).exit_code == 0);
    CHECK(watch.wait_for_line(std::regex("changed: 1 user, 0 routes \\(generation 3\\)"), std::chrono::seconds(30)));
    watch.signal(SIGTERM);
    CHECK(watch.wait(std::chrono::seconds(30)) == 0);
    INFO(watch.output());
    CHECK(watch.output().find("stale") == std::string::npos);
}
