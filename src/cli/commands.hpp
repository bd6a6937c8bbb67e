#pragma once
// The subcommands. Each registers itself (its options, help and examples) on
// the root app and returns what runs it once the command line is parsed.

#include <CLI/CLI.hpp>

#include <functional>

namespace certauth::cli {

struct Command {
    CLI::App* app = nullptr;  // the subcommand, owned by the root app
    std::function<int()> run; // runs it after parsing; returns the exit code
};

Command add_check_command(CLI::App& root);
Command add_serve_command(CLI::App& root);
Command add_probe_command(CLI::App& root);
Command add_pki_command(CLI::App& root);
Command add_users_command(CLI::App& root);

// `certauth pki`'s own subcommands, registered on the `pki` app.
Command add_pki_init_command(CLI::App& pki);
Command add_pki_issue_command(CLI::App& pki);

} // namespace certauth::cli
