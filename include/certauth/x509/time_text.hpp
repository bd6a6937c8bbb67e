#pragma once
// Dates and spans of days as messages about certificates say them.

#include <chrono>
#include <string>

namespace certauth::x509 {

// "2049-12-31" (UTC).
std::string date_text(std::chrono::system_clock::time_point t);
// "2049-12-31T23:59:59Z" (whole seconds, UTC).
std::string timestamp_text(std::chrono::system_clock::time_point t);

// Whole days from `earlier` to `later`, rounded toward zero (negative when
// `later` is earlier). Counted in seconds: the nanosecond difference of two
// far-apart times (a notAfter in 9999 saturates to the clock's maximum)
// would overflow.
long long whole_days(std::chrono::system_clock::time_point earlier,
                     std::chrono::system_clock::time_point later) noexcept;

// whole_days() for people: "less than a day", "1 day", "12 days".
std::string days_text(std::chrono::system_clock::time_point earlier, std::chrono::system_clock::time_point later);

} // namespace certauth::x509
