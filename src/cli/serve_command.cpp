// Placeholder until the serve subcommand lands; replaced by its implementation.
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace certauth::cli {

Command add_serve_command(CLI::App& root) {
    CLI::App* cmd = root.add_subcommand("serve", "(not yet implemented)");
    return {cmd, [] {
                print_error("serve: not implemented yet");
                return 2;
            }};
}

} // namespace certauth::cli
