#include "cli/output.hpp"

#include "cli/setting_flag.hpp"

#include <cstdlib>
#include <iostream>

#include <unistd.h>

namespace certauth::cli {

void print_error(std::string_view message) { std::cerr << "certauth: error: " << message << '\n'; }

void print_error(const Error& error) { print_error(with_flag(error)); }

void print_warning(std::string_view message) { std::cerr << "certauth: warning: " << message << '\n'; }

bool use_colour(int fd) {
    const char* no_colour = std::getenv("NO_COLOR");
    return ::isatty(fd) == 1 && (no_colour == nullptr || *no_colour == '\0');
}

} // namespace certauth::cli
