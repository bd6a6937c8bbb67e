// `certauth pki`: a test PKI for mTLS servers (init) and more certificates
// from it (issue). The group only dispatches to the subcommand given.
#include "cli/commands.hpp"

#include <map>
#include <memory>

namespace certauth::cli {

Command add_pki_command(CLI::App& root) {
    CLI::App* cmd = root.add_subcommand("pki", "Make a test PKI with every failing client-certificate case");
    cmd->require_subcommand(1);
    auto runners = std::make_shared<std::map<const CLI::App*, std::function<int()>>>();
    for (auto add : {add_pki_init_command, add_pki_issue_command}) {
        Command sub = add(*cmd);
        runners->emplace(sub.app, std::move(sub.run));
    }
    cmd->footer(R"(Examples:
  certauth pki init pki                       # ./pki: CAs, server, joe, bob, expired, ... (see pki/README.md)
  certauth pki init pki --server-names staging.example.org --days 365
  certauth pki issue pki --out pki/alice --cn alice --san email:alice@example.org
Read next: docs/pki.md)");
    const CLI::App* group = cmd;
    return {cmd, [runners, group] {
                for (const CLI::App* sub : group->get_subcommands())
                    return runners->at(sub)();
                return 2;
            }};
}

} // namespace certauth::cli
