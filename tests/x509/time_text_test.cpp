#include <certauth/x509/time_text.hpp>

#include "support/catch.hpp"

#include <chrono>

using namespace std::chrono;
using certauth::x509::date_text;
using certauth::x509::days_text;
using certauth::x509::whole_days;

TEST_CASE("time_text: dates in UTC and whole days - also between the clock's extremes", "[x509]") {
    const system_clock::time_point day = sys_days{year{2049} / 12 / 31};
    CHECK(date_text(day + hours{23}) == "2049-12-31");
    CHECK(whole_days(day, day + hours{47}) == 1);
    CHECK(whole_days(day + hours{47}, day) == -1);
    CHECK(days_text(day, day + hours{23}) == "less than a day");
    CHECK(days_text(day, day + days{1}) == "1 day");
    CHECK(days_text(day, day + days{12} + hours{5}) == "12 days");
    // A notAfter of 9999 saturates to the clock's maximum; its distance from
    // the minimum (an unreadable time) is counted without overflow.
    CHECK(whole_days(system_clock::time_point::min(), system_clock::time_point::max()) == 213503);
    CHECK(date_text(system_clock::time_point::max()) == "2262-04-11");
}
