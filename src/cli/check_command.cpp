// Placeholder until the check subcommand lands; replaced by its implementation.
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace certauth::cli {

Command add_check_command(CLI::App& root) {
    CLI::App* cmd = root.add_subcommand("check", "(not yet implemented)");
    return {cmd, [] {
                print_error("check: not implemented yet");
                return 2;
            }};
}

} // namespace certauth::cli
