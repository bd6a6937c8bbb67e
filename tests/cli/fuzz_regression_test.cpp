// Inputs fuzz/config (fuzz/config.cpp) found, replayed through the normal
// build: times and timeouts beyond what std::chrono's nanosecond clock holds
// are refused, not overflowed (undefined behaviour before); a user
// directory's sqlite:PATH from a configuration file is resolved against the
// file's folder (the target had taken the whole location for a path).
#include "cli/check_time.hpp"

#include "support/files.hpp"
#include "support/process.hpp"
#include <certauth/x509/time_text.hpp>

#include "support/catch.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using certauth::cli::parse_time;
using certauth::test::certauth_binary;
using certauth::test::ProcessResult;
using certauth::test::read_text;
using certauth::test::RunOptions;
using certauth::x509::timestamp_text;
using Clock = std::chrono::system_clock;

namespace {

const fs::path k_regressions = fs::path(certauth::test::source_dir()) / "fuzz/regressions/config";
const Clock::time_point k_regression_time = std::chrono::sys_days{std::chrono::year{2025} / 6 / 1};

ProcessResult run_regression(const std::vector<std::string>& args) {
    std::vector<std::string> argv{certauth_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.timeout = std::chrono::seconds(20);
    return certauth::test::run(argv, options);
}

} // namespace

TEST_CASE("check --at refuses times system_clock cannot hold instead of overflowing", "[cli]") {
    // The fuzzer's inputs: 1e12 seconds since the epoch, years 9999 and 1000.
    for (const char* name : {"at-epoch-999999999999", "at-year-9999", "at-year-1000"}) {
        INFO(name);
        CHECK_FALSE(parse_time(read_text(k_regressions / name), k_regression_time));
    }
    // The edges: 1677-09-21T00:12:44Z .. 2262-04-11T23:47:16Z.
    REQUIRE(parse_time("1677-09-22", k_regression_time));
    CHECK(timestamp_text(*parse_time("1677-09-22", k_regression_time)) == "1677-09-22T00:00:00Z");
    CHECK_FALSE(parse_time("1677-09-21", k_regression_time));
    REQUIRE(parse_time("2262-04-11T23:47:15Z", k_regression_time));
    CHECK_FALSE(parse_time("2262-04-11T23:47:16Z", k_regression_time));
    CHECK_FALSE(parse_time("2262-04-12", k_regression_time));
    CHECK_FALSE(parse_time("2262-04-11T23:00:00-01:00", k_regression_time)); // the offset takes it past the end
    REQUIRE(parse_time("@9223372035", k_regression_time));
    CHECK_FALSE(parse_time("@9223372036", k_regression_time));

    const ProcessResult r = run_regression({"check", "--at", "9999-01-01", CERTAUTH_SOURCE_DIR "/fixtures/joe.crt"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("--at: cannot read \"9999-01-01\" as a time"));
}

TEST_CASE("serve and probe refuse timeouts beyond a year instead of overflowing the deadlines", "[cli]") {
    // request-timeout = 1e300 made every request fail at once (undefined
    // behaviour converting to milliseconds); 1e10 overflowed in nanoseconds.
    const ProcessResult serve =
        run_regression({"serve", "--config", (k_regressions / "serve-timeout-1e300.toml").string()});
    CHECK(serve.exit_code == 2);
    CHECK_THAT(serve.err, Catch::Matchers::ContainsSubstring("--request-timeout"));
    CHECK_THAT(serve.err, Catch::Matchers::ContainsSubstring("at most a year"));
    for (const char* option : {"--handshake-timeout", "--idle-timeout", "--shutdown-timeout"}) {
        INFO(option);
        const ProcessResult r = run_regression({"serve", option, "1e10"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring(option));
    }

    const ProcessResult probe = run_regression({"probe", "https://127.0.0.1:9/", "--load", "--duration", "1e300"});
    CHECK(probe.exit_code == 2);
    CHECK_THAT(probe.err,
               Catch::Matchers::ContainsSubstring("--duration must be a number of seconds > 0, at most a year"));
}

TEST_CASE("a user directory's sqlite:PATH in a configuration file is read against the file's folder, whatever the "
          "path holds",
          "[cli]") {
    // The fuzzer's input: users = "sqlite:" and bytes that are no path anyone
    // would write (0xff, NUL). The path is resolved against the file's folder
    // like any other, and the error names it so.
    const certauth::test::TempDir dir;
    const std::string file = dir.write("certauth.toml", read_text(k_regressions / "users-sqlite-location-with-nul"));
    const ProcessResult r = run_regression({"check", "--config", file, CERTAUTH_SOURCE_DIR "/fixtures/joe.crt"});
    CHECK(r.exit_code == 2);
    // The line's string is not closed: the CLI11 of Debian 12 reads sqlite:...,
    // that of Debian 13 the opening quote too (a JSON file's name). Either
    // way the location is resolved into the file's folder.
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("certauth: error: --users "));
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring(dir.path.string() + "/"));
    CHECK_THAT(r.err, Catch::Matchers::ContainsSubstring("needs --ca"));
}
