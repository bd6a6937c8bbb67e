#include <certauth/x509/time_text.hpp>

#include <cstdio>

namespace certauth::x509 {

using std::chrono::system_clock;

std::string date_text(system_clock::time_point t) {
    const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buffer;
}

std::string timestamp_text(system_clock::time_point t) {
    using namespace std::chrono;
    const auto secs = floor<seconds>(t);
    const auto day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss hms{secs - day};
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buffer;
}

long long whole_days(system_clock::time_point earlier, system_clock::time_point later) noexcept {
    using std::chrono::floor;
    using std::chrono::seconds;
    return (floor<seconds>(later) - floor<seconds>(earlier)).count() / 86400;
}

std::string days_text(system_clock::time_point earlier, system_clock::time_point later) {
    const long long days = whole_days(earlier, later);
    if (days <= 0) return "less than a day";
    if (days == 1) return "1 day";
    return std::to_string(days) + " days";
}

} // namespace certauth::x509
