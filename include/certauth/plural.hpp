#pragma once
// "1 user", "7 users": a count and its noun, for messages and summaries.

#include <cstddef>
#include <string>
#include <string_view>

namespace certauth {

inline std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

} // namespace certauth
