#include "cli/app.hpp"

#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/output.hpp"
#include "cli/root_app.hpp"
#include "cli/version.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <map>
#include <string>

namespace certauth::cli {

RootApp make_root_app() {
    RootApp root;
    root.app =
        std::make_unique<CLI::App>("certauth - TLS client-certificate authentication and authorisation", "certauth");
    CLI::App& app = *root.app;
    app.set_version_flag("--version", version_text,
                         "Print the version, git commit, build type and OpenSSL versions and exit");
    app.require_subcommand(1);
    app.fallthrough();
    app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
        std::string text = std::string("certauth: error: ") + e.what() + "\n";
        if (failed) text += "Run with --help for more information.\n";
        return text;
    });
    app.footer(R"(Run 'certauth COMMAND --help' for a command's options and examples.

Examples:
  cd fixtures && certauth serve     # the demo server (./certauth.toml): https://localhost:3443
  certauth check --ca ca.crt --users users.json joe.crt bob.crt
  certauth probe https://localhost:3443/ --cacert ca.crt --cert joe.pem

Read next: README.md, then docs/README.md (one page per command))");

    use_config_file(app);

    for (auto add : {add_check_command, add_serve_command, add_probe_command, add_pki_command, add_users_command}) {
        Command command = add(app);
        root.runners.emplace(command.app, std::move(command.run));
    }
    return root;
}

int run(int argc, char** argv) {
    RootApp root = make_root_app();
    CLI::App& app = *root.app;

    try {
        app.parse(argc, argv);
    } catch (const CLI::FileError&) {
        // Thrown for a configuration file that is there but cannot be read
        // (a missing default is skipped): say why.
        print_error(unreadable_config_message(app));
        return 2;
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    try {
        for (const CLI::App* sub : app.get_subcommands())
            return root.runners.at(sub)();
    } catch (const std::exception& e) {
        print_error(e.what());
        return 2;
    }
    return 2;
}

} // namespace certauth::cli
