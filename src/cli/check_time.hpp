#pragma once
// Times on the command line (check --at): ISO 8601 in, ISO 8601 out.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace certauth::cli {

// Reads "2025-01-01" (midnight UTC), "2025-01-01T12:00:00Z",
// "2025-01-01T12:00:00+02:00" (also "+0200", "+02", a space for the "T",
// minutes without seconds, fractions of a second; no zone means UTC),
// "@1735689600" (seconds since the epoch) or "now" (returns `now`).
// nullopt when `text` is none of these or names no real date or time, or one
// outside 1677-09-21 .. 2262-04-11 (what system_clock holds).
std::optional<std::chrono::system_clock::time_point> parse_time(std::string_view text,
                                                                std::chrono::system_clock::time_point now);

} // namespace certauth::cli
