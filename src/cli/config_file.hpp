#pragma once
// The configuration file shared by serve and check (docs/configuration.md): TOML read
// through CLI11's config support. `--config FILE`, or certauth.toml in the
// working directory when present. Top-level keys (ca, crl, crl-required,
// users) apply to whichever subcommand runs; a [serve] / [check] / [probe]
// section holds a subcommand's own keys. Keys are named as the long options;
// an unknown key is an error; relative paths are relative to the file.

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace certauth::cli {

inline constexpr const char* k_default_config = "certauth.toml";

// Installs --config on the root app (which must have fallthrough() so that
// `certauth serve --config f` works) with the resolving TOML reader.
void use_config_file(CLI::App& root);

// The configuration file that was read, if any (after parsing).
std::optional<std::string> config_file_used(const CLI::App& root);

// Why the configuration file (--config FILE, else the default certauth.toml)
// cannot be read: a directory, no such file, no permission. For CLI11's
// FileError, which says "not readable (missing?)" of all of them.
std::string unreadable_config_message(const CLI::App& root);

// Whether `cmd`'s option (a long name, "--cacert") was given on the command
// line, not taken from the configuration file (after parsing).
bool set_on_command_line(const CLI::App& root, const CLI::App& cmd, const std::string& option_name);

} // namespace certauth::cli
