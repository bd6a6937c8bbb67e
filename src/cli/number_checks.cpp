#include "cli/number_checks.hpp"

#include <string>

namespace certauth::cli {

CLI::Validator count_in(std::uint64_t min, std::uint64_t max) {
    return {[min, max](std::string& text) -> std::string {
                long long value = 0;
                const bool number = CLI::detail::lexical_cast(text, value);
                if (number && value >= 0 && static_cast<std::uint64_t>(value) >= min &&
                    static_cast<std::uint64_t>(value) <= max)
                    return {};
                return "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                       text;
            },
            "N"};
}

CLI::Validator seconds_up_to_a_year(bool zero_allowed) {
    return {[zero_allowed](std::string& text) -> std::string {
                double value = 0;
                const bool number = CLI::detail::lexical_cast(text, value);
                if (number && (zero_allowed ? value >= 0 : value > 0) && value <= k_max_timeout) return {};
                return std::string("expected a number of seconds ") + (zero_allowed ? ">= 0" : "> 0") +
                       ", at most a year (31536000), got " + text;
            },
            "SECONDS"};
}

} // namespace certauth::cli
