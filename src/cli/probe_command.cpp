// Placeholder until the probe subcommand lands; replaced by its implementation.
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace certauth::cli {

Command add_probe_command(CLI::App& root) {
    CLI::App* cmd = root.add_subcommand("probe", "(not yet implemented)");
    return {cmd, [] {
                print_error("probe: not implemented yet");
                return 2;
            }};
}

} // namespace certauth::cli
