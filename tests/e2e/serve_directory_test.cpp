// serve --users sqlite:PATH / postgresql://...: the server follows the
// directory without SIGHUP (docs/directory.md "Following changes"). The real
// binary; the directory changed by `certauth users` in another process and by
// SQL as an administrator would write it; a throwaway PostgreSQL cluster.
// Also run by scripts/tsan.sh against a ThreadSanitizer build ([watch]).
#include "directory/directory_support.hpp"
#include "support/hostile_support.hpp"
#include "support/postgres.hpp"
#include "support/status_pages.hpp"

#include "support/catch.hpp"

#include <certauth/directory/location.hpp>

#include <chrono>
#include <cmath>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;

namespace {

ProcessResult certauth_users(const std::vector<std::string>& args) {
    std::vector<std::string> argv{certauth_binary(), "users"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.timeout = 30s;
    return run(argv, options);
}

// The directory initialised and holding fixtures/users.json.
void fill(const std::string& directory) {
    REQUIRE(certauth_users({"init", directory}).exit_code == 0);
    const ProcessResult imported = certauth_users({"import", fixture("users.json"), directory});
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
}

std::vector<std::string> serve_args(const std::string& directory) {
    return {"--cert",  fixture("server.crt"), "--key",    fixture("server.key"), "--ca", fixture("ca.crt"), "--users",
            directory, "--no-access-log",     "--status", "127.0.0.1:0"};
}

// The status listener's port, from serve's "status on http://127.0.0.1:PORT" line.
unsigned short status_port(ServeProcess& server) {
    const auto line = server.process().wait_for_line(std::regex("status on http://127\\.0\\.0\\.1:(\\d+) "), 10s);
    REQUIRE(line);
    return static_cast<unsigned short>(std::stoi((*line)[1].str()));
}

nlohmann::json directory_status(unsigned short port) {
    const nlohmann::json status = nlohmann::json::parse(status_page(port, "/status"));
    INFO(status.dump(2));
    REQUIRE(status.contains("directory"));
    return status["directory"];
}

// Polls until `stem` gets `wanted` on a new connection; what it got last.
std::string wait_for_status(unsigned short port, const std::string& stem, const std::string& wanted,
                            std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last = status_of(port, stem);
    while (last != wanted && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
        last = status_of(port, stem);
    }
    return last;
}

// joe is served; removed by `certauth users remove` in another process, he
// is 401 unknown_user within the bounded wait, on a new connection and on
// one kept alive from before; dave (matched by fingerprint) is served throughout.
void joe_removed(ServeProcess& server, const std::string& directory) {
    CHECK(status_of(server.port(), "joe") == "200 ");
    auto kept = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(kept);
    CHECK(got(kept->request("GET", "/")) == "200 ");
    const auto removed_at = std::chrono::steady_clock::now();
    const ProcessResult removed = certauth_users({"remove", directory, "--cn", "joe"});
    INFO(removed.err);
    REQUIRE(removed.exit_code == 0);
    CHECK(wait_for_status(server.port(), "joe", "401 unknown_user") == "401 unknown_user");
    const auto took = std::chrono::steady_clock::now() - removed_at;
    CHECK(took < 5s); // 1 s in quiet conditions (SQLite polls once a second); slack for a loaded machine
    CHECK(got(kept->request("GET", "/")) == "401 unknown_user");
    CHECK(status_of(server.port(), "dave") == "200 ");
    INFO(server.output());
    CHECK(server.process().wait_for_line(std::regex("directory .*: changed: 6 users, 2 routes"), 10s));
    CHECK(server.process().wait_for_line(std::regex("reloaded \\(generation 2\\): .* 6 users, 2 routes"), 10s));
}

// A bad row: the snapshot in force stays (joe still unknown, dave served,
// no new generation), and the log names the row.
// /status and /metrics show it: the read that failed is counted, the row
// named, the state stale; fixed, fresh again with a new generation.
void bad_row_keeps_snapshot(ServeProcess& server, const directory::Location& location) {
    const unsigned short status = status_port(server);
    const nlohmann::json before = directory_status(status);
    CHECK(before["name"] == location.name());
    CHECK(before["state"] == "fresh");
    CHECK(before["connected"] == true);
    CHECK(before["generation"] == 2);
    CHECK(before["entries"] == 6);
    CHECK(before["reloads"]["failure"] == 0);
    CHECK(before["last_error"].is_null());
    CHECK(metric(status, "certauth_directory_reloads_total{result=\"failure\"}") == 0);
    CHECK(metric(status, "certauth_directory_fresh") == 1);
    CHECK(metric(status, "certauth_directory_stale_since_timestamp_seconds") == -1);

    const std::size_t offset = server.process().output_size();
    run_sql(location, "INSERT INTO users (id, cn) VALUES (90, 'joe'); INSERT INTO users (id, ip) VALUES (91, 'x')");
    CHECK(server.process().wait_for_line(std::regex("stale since .*users\\[id=91\\].*generation \\d+ \\(6 users\\) "
                                                    "stays in force"),
                                         10s, offset));
    CHECK(status_of(server.port(), "joe") == "401 unknown_user");
    CHECK(status_of(server.port(), "dave") == "200 ");
    const nlohmann::json stale = directory_status(status);
    INFO(stale.dump(2));
    CHECK(stale["state"] == "stale");
    CHECK(stale["stale_since"].is_string());
    CHECK(stale["connected"] == true);
    CHECK(stale["generation"] == 2);
    CHECK(stale["entries"] == 6);
    CHECK(stale["reloads"]["failure"] >= 1);
    CHECK(stale["last_error"]["message"].get<std::string>().find("users[id=91].ip: not an IP address") !=
          std::string::npos);
    CHECK(metric(status, "certauth_directory_reloads_total{result=\"failure\"}") >= 1);
    CHECK(metric(status, "certauth_directory_fresh") == 0);
    CHECK(metric(status, "certauth_directory_up") == 1);
    CHECK(metric(status, "certauth_directory_entries") == 6);
    CHECK(metric(status, "certauth_directory_generation") == 2);
    CHECK(metric(status, "certauth_directory_stale_since_timestamp_seconds") > 0);

    // Fixed: the directory's content is in force again (joe is back).
    run_sql(location, "DELETE FROM users WHERE id = 91");
    CHECK(wait_for_status(server.port(), "joe", "200 ") == "200 ");
    CHECK(server.process().wait_for_line(std::regex("loads again after .* stale: 7 users"), 10s, offset));
    const nlohmann::json fixed = directory_status(status);
    INFO(fixed.dump(2));
    CHECK(fixed["state"] == "fresh");
    CHECK(fixed["generation"] == 3);
    CHECK(fixed["entries"] == 7);
    CHECK(fixed["reloads"]["success"] == 3);
    CHECK(fixed["last_error"]["message"].get<std::string>().find("users[id=91]") != std::string::npos);
    CHECK(metric(status, "certauth_directory_reloads_total{result=\"success\"}") == 3);
    CHECK(metric(status, "certauth_directory_fresh") == 1);
    CHECK(metric(status, "certauth_directory_entries") == 7);
    // Whole seconds, the process's start time to the microsecond: the same second counts.
    CHECK(metric(status, "certauth_directory_last_load_timestamp_seconds") >=
          std::floor(metric(status, "process_start_time_seconds")));
    INFO(server.output());
    CHECK(server.process().output().find("reload failed") == std::string::npos);
}

} // namespace

TEST_CASE("serve follows sqlite:PATH: a removed user is refused without SIGHUP, a bad row keeps the snapshot",
          "[e2e][directory][watch]") {
    TempDir dir;
    const std::string directory = "sqlite:" + (dir.path / "users.db").string();
    fill(directory);
    ServeProcess server(serve_args(directory));
    REQUIRE(server.started());
    joe_removed(server, directory);
    bad_row_keeps_snapshot(server, *directory::parse_location(directory));
    CHECK(server.terminate() == 0);
}

TEST_CASE("serve follows postgresql://: a removed user is refused without SIGHUP, a bad row keeps the snapshot, "
          "the database stopped and started again",
          "[e2e][directory][watch]") {
    PostgresCluster cluster;
    fill(cluster.uri());
    ServeProcess server(serve_args(cluster.uri()));
    REQUIRE(server.started());
    joe_removed(server, cluster.uri());
    const directory::Location location{directory::Kind::postgresql, cluster.uri()};
    bad_row_keeps_snapshot(server, location);

    // The database goes away: the last snapshot serves; back, a change is
    // followed again.
    const std::size_t offset = server.process().output_size();
    cluster.stop();
    CHECK(server.process().wait_for_line(std::regex("stale since .*stays in force; reconnecting"), 15s, offset));
    CHECK(status_of(server.port(), "joe") == "200 ");
    CHECK(status_of(server.port(), "dave") == "200 ");
    const unsigned short status = status_port(server);
    CHECK(metric(status, "certauth_directory_up") == 0);
    CHECK(metric(status, "certauth_directory_fresh") == 0);
    CHECK(directory_status(status)["connected"] == false);
    cluster.start();
    CHECK(server.process().wait_for_line(std::regex("reconnected after"), 15s, offset));
    CHECK(metric(status, "certauth_directory_up") == 1);
    CHECK(directory_status(status)["state"] == "fresh");
    REQUIRE(certauth_users({"remove", cluster.uri(), "--cn", "joe"}).exit_code == 0);
    CHECK(wait_for_status(server.port(), "joe", "401 unknown_user") == "401 unknown_user");
    CHECK(status_of(server.port(), "dave") == "200 ");
    INFO(server.output());
    CHECK(server.terminate() == 0);
}
