#pragma once
// Small output helpers shared by the subcommands: stdout carries results,
// stderr diagnostics.

#include <certauth/result.hpp>

#include <string_view>

namespace certauth::cli {

// "certauth: error: <message>" on stderr.
void print_error(std::string_view message);
// The same for a library's error, after the flag of the setting it names
// (src/cli/setting_flag.hpp): "certauth: error: --cacert: ca.pem: ...".
void print_error(const Error& error);
// "certauth: warning: <message>" on stderr.
void print_warning(std::string_view message);
// True when `fd` is a terminal and NO_COLOR is unset: colour and progress
// lines only then.
bool use_colour(int fd);

} // namespace certauth::cli
