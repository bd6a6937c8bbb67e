#pragma once
// The root `certauth` app as run() builds it: options, subcommands and the
// configuration file, ready to parse; the runners are called after parsing.
// Separate from run() so that the command line and the configuration file can
// be parsed without running anything (the fuzz target does).

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>

namespace certauth::cli {

struct RootApp {
    std::unique_ptr<CLI::App> app;
    std::map<const CLI::App*, std::function<int()>> runners; // by subcommand
};

RootApp make_root_app();

} // namespace certauth::cli
