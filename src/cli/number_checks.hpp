#pragma once
// Checks for numeric options whose messages say what is allowed. CLI11's own
// print a 300-digit range for PositiveNumber, and its unsigned conversion
// takes "-1" as the largest value, so that "--requests -1" would mean
// 18,446,744,073,709,551,615 requests.

#include <CLI/CLI.hpp>

#include <cstdint>

namespace certauth::cli {

// A whole number from `min` to `max`: "expected a whole number from 1 to
// 100, got -1".
CLI::Validator count_in(std::uint64_t min, std::uint64_t max);

// A number of seconds, > 0 (>= 0 when `zero_allowed`), at most a year (a
// longer timeout overflows the deadlines).
CLI::Validator seconds_up_to_a_year(bool zero_allowed);

// The longest timeout accepted, in seconds.
inline constexpr double k_max_timeout = 365.0 * 24 * 3600;

} // namespace certauth::cli
