#include "cli/check_time.hpp"

#include <certauth/x509/time_text.hpp>

#include "support/catch.hpp"

using namespace std::chrono;
using certauth::cli::parse_time;
using certauth::x509::timestamp_text;

namespace {

const system_clock::time_point k_now = sys_days{2026y / 3 / 4} + hours{5};

std::string parsed(const char* text) {
    const auto t = parse_time(text, k_now);
    return t ? timestamp_text(*t) : std::string("invalid");
}

} // namespace

TEST_CASE("check --at reads ISO 8601 dates and times", "[cli]") {
    CHECK(parsed("2025-01-01") == "2025-01-01T00:00:00Z");
    CHECK(parsed("2025-01-01T12:00:00Z") == "2025-01-01T12:00:00Z");
    CHECK(parsed("2025-01-01t12:00:00z") == "2025-01-01T12:00:00Z");
    CHECK(parsed("2025-01-01 12:00:00") == "2025-01-01T12:00:00Z"); // no zone: UTC
    CHECK(parsed("2025-01-01T12:00Z") == "2025-01-01T12:00:00Z");
    CHECK(parsed("2025-01-01T12:00:00+02:00") == "2025-01-01T10:00:00Z");
    CHECK(parsed("2025-01-01T12:00:00+0200") == "2025-01-01T10:00:00Z");
    CHECK(parsed("2025-01-01T12:00:00+02") == "2025-01-01T10:00:00Z");
    CHECK(parsed("2025-01-01T01:30:00+02:00") == "2024-12-31T23:30:00Z");
    CHECK(parsed("2025-01-01T22:00:00-05:30") == "2025-01-02T03:30:00Z");
    CHECK(parsed("2025-01-01T12:00:00.999Z") == "2025-01-01T12:00:00Z");
    CHECK(parsed("2016-12-31T23:59:60Z") == "2016-12-31T23:59:59Z");
    CHECK(parsed("2024-02-29") == "2024-02-29T00:00:00Z");
    CHECK(parsed("@0") == "1970-01-01T00:00:00Z");
    CHECK(parsed("@1735689600") == "2025-01-01T00:00:00Z");
    CHECK(parsed("now") == "2026-03-04T05:00:00Z");
}

TEST_CASE("check --at refuses what is not a real date or time", "[cli]") {
    for (const char* text : {"",
                             "yesterday",
                             "2025",
                             "2025-1-1",
                             "2025-13-01",
                             "2025-02-29",
                             "2025-04-31",
                             "2025-01-00",
                             "2025-01-01T24:00:00Z",
                             "2025-01-01T12:60:00Z",
                             "2025-01-01T12:00:61Z",
                             "2025-01-01T12",
                             "2025-01-01T12:00:00+2",
                             "2025-01-01T12:00:00+02:",
                             "2025-01-01X",
                             "2025-01-01T12:00:00Zjunk",
                             "@",
                             "@-1",
                             "@12x",
                             "2025-01-01T12:00:00.Z"}) {
        INFO(text);
        CHECK(parsed(text) == "invalid");
    }
}
