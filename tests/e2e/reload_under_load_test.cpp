// Reload under load: `certauth probe --load --concurrency 16`
// keeps 16 kept-alive connections busy with joe while the test reloads the
// server 100 times by SIGHUP, alternating a users file with and without joe
// (written atomically: temporary file + rename). Every response is 200 or
// 401 unknown_user, no connection is dropped or re-opened, joe's status
// follows the list on the request right after each "reloaded" line, and the
// server's memory does not grow with the reloads.
#include "support/hostile_support.hpp"

#include "support/catch.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr int k_reloads = 100;
constexpr int k_round = 10; // reloads per round; memory is compared after the first round
constexpr int k_concurrency = 16;
constexpr double k_probe_seconds = 4; // one probe run; runs follow each other until the reloads are done
constexpr auto k_pace = 30ms;         // at least this between reloads: thousands of requests in between

// The load: one `certauth probe --load` run, then its --json summary.
class LoadRun {
  public:
    explicit LoadRun(unsigned short port) {
        RunOptions options;
        options.cwd = source_path("fixtures");
        options.timeout = 120s;
        m_process = std::make_unique<ChildProcess>(
            std::vector<std::string>{certauth_binary(), "probe", "https://localhost:" + std::to_string(port) + "/",
                                     "--cacert", "ca.crt", "--cert", "joe.pem", "--load", "--concurrency",
                                     std::to_string(k_concurrency), "--duration", std::to_string(k_probe_seconds),
                                     "--json"},
            options);
    }
    bool running() { return m_process->running(); }
    // Waits for the end of the run; the summary (null on failure).
    nlohmann::json result() {
        const auto code = m_process->wait(60s);
        const std::string out = m_process->output();
        INFO("probe output:\n" << out);
        REQUIRE(code);
        const auto begin = out.find('{');
        const auto end = out.rfind('}');
        REQUIRE(begin != std::string::npos);
        REQUIRE(end != std::string::npos);
        return nlohmann::json::parse(out.substr(begin, end - begin + 1), nullptr, false);
    }

  private:
    std::unique_ptr<ChildProcess> m_process;
};

} // namespace

TEST_CASE("reload under load: 100 SIGHUPs while 16 connections are busy, 200/401 only, none dropped, joe follows "
          "the list, memory flat",
          "[e2e][reload]") {
    TempDir dir;
    const fs::path users = dir.path / "users.json";
    const fs::path toml = dir.path / "certauth.toml";
    const std::string with_joe = read_text(fixture("users.json"));
    const std::string without_joe = users_without_joe();
    write_atomically(users, with_joe);
    write_atomically(toml, "ca = \"" + fixture("ca.crt") + "\"\ncrl = \"" + fixture("ca.crl") +
                               "\"\nusers = \"users.json\"\n\n[serve]\ncert = \"" + fixture("server.crt") +
                               "\"\nkey = \"" + fixture("server.key") + "\"\n");
    ServeProcess server({"--config", toml.string(), "--no-access-log"});
    REQUIRE(server.started());
    const pid_t pid = server.process().pid();

    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    REQUIRE(got(joe->request("GET", "/")) == "200 ");

    std::vector<nlohmann::json> runs;
    auto load = std::make_unique<LoadRun>(server.port());
    std::optional<Memory> after_first_round;
    int followed = 0;
    std::vector<std::string> mismatches;
    // The probe gives no signal once its connections are up: give it a
    // moment (the test does not depend on it: it checks below that the load
    // saw both lists).
    std::this_thread::sleep_for(300ms);
    const auto start = Steady::now();

    for (int i = 1; i <= k_reloads; ++i) {
        std::this_thread::sleep_until(start + (i - 1) * k_pace);
        // Keep the load going: a run that has ended is followed by the next.
        if (!load->running()) {
            runs.push_back(load->result());
            load = std::make_unique<LoadRun>(server.port());
        }
        const bool joe_listed = i % 2 == 0;
        write_atomically(users, joe_listed ? with_joe : without_joe);
        const std::string line = server.reload();
        INFO("reload " << i << ": " << line);
        REQUIRE(line.find("reloaded (generation " + std::to_string(i + 1) + ")") != std::string::npos);
        // The very next request on the kept-alive connection sees the new list.
        auto response = joe->request("GET", "/");
        const std::string expected = joe_listed ? "200 " : "401 unknown_user";
        if (got(response) == expected) {
            ++followed;
        } else {
            mismatches.push_back("reload " + std::to_string(i) + ": " + got(response) + " (" + joe->last_error() +
                                 "), expected " + expected);
            if (!response) joe = HttpClient::connect(server.port(), as("joe"));
            REQUIRE(joe);
        }
        if (i == k_round) after_first_round = memory_of(pid);
    }
    const double reload_seconds = seconds_since(start);
    runs.push_back(load->result());
    const auto at_end = memory_of(pid);

    CHECK(mismatches.empty());
    for (const std::string& m : mismatches)
        UNSCOPED_INFO(m);
    CHECK(followed == k_reloads);

    std::map<std::string, std::uint64_t> statuses;
    std::uint64_t requests = 0;
    for (const nlohmann::json& run : runs) {
        INFO("probe run: " << run.dump());
        REQUIRE(run.is_object());
        // Never an error of any kind (a dropped connection, a timeout, a bad answer).
        CHECK(run["error_count"] == 0);
        CHECK(run["errors"].empty());
        // No connection was closed and re-opened: one handshake per connection.
        CHECK(run["handshakes"] == k_concurrency);
        for (const auto& [status, count] : run["status"].items()) {
            CHECK((status == "200" || status == "401"));
            statuses[status] += count.get<std::uint64_t>();
        }
        for (const auto& [reason, count] : run["reasons"].items())
            CHECK(reason == "unknown_user");
        requests += run["requests"].get<std::uint64_t>();
    }
    INFO(runs.size() << " probe runs, " << requests << " requests, 100 reloads in " << reload_seconds << " s");
    // The load saw both lists.
    CHECK(statuses["200"] > 0);
    CHECK(statuses["401"] > 0);

    REQUIRE(after_first_round);
    REQUIRE(at_end);
    INFO("server RSS after reload " << k_round << ": " << after_first_round->rss_kib << " KiB; after reload "
                                    << k_reloads << ": " << at_end->rss_kib << " KiB");
    if (sanitized_process(pid)) {
        // ASan's quarantine keeps freed memory resident, TSan's shadow grows
        // with it: their RSS says nothing about certauth's.
        WARN("sanitizer build: the RSS bound is checked in the normal build only");
    } else {
        CHECK(at_end->rss_kib * 10 <= after_first_round->rss_kib * 11);
    }
    CHECK(got(joe->request("GET", "/")) == "200 ");
}
