#pragma once
// A time given by its UTC calendar date and time of day, for tests that
// decide at a fixed moment.

#include <chrono>

namespace certauth::test {

inline std::chrono::system_clock::time_point utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
    using namespace std::chrono;
    return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}

} // namespace certauth::test
