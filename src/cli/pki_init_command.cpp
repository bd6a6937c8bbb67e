// `certauth pki init DIR`: writes the test PKI (cli/test_pki.hpp) into DIR.
#include "cli/commands.hpp"
#include "cli/number_checks.hpp"
#include "cli/output.hpp"
#include "cli/pki_files.hpp"
#include "cli/test_pki.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

namespace certauth::cli {
namespace {

struct InitOptions {
    std::string dir;
    TestPkiOptions pki;
    std::string key_type = "rsa2048";
    int days = 0;
    bool force = false;
};

constexpr const char* k_footer = R"(Writes ca, sub-ca and rogue-ca; server and server-ec; the clients joe, bob,
expired, notyet, revoked, rogue, serveronly, carol (via sub-ca), dave (EC P-256)
and hostile (markup in its subject), each as .crt, .key, .pem and .p12; CRLs;
users.json, scenarios.json, certauth.toml and a README.md saying what each is.
Files holding a private key get mode 0600. Nothing is overwritten without --force.

Examples:
  certauth pki init pki && cd pki && certauth serve     # then: certauth probe --scenarios scenarios.json
  certauth pki init pki --server-names staging.example.org,10.0.0.5 --key-type p256
  certauth probe --scenarios pki/scenarios.json --url https://staging.example.org:8443/
Read next: docs/pki.md)";

int run_init(InitOptions& options) {
    const auto now = std::chrono::system_clock::now(); // the one clock read
    std::error_code ec;
    if (std::filesystem::exists(options.dir, ec) && !std::filesystem::is_directory(options.dir, ec)) {
        print_error(options.dir + ": exists and is not a directory"); // said before the keys are made
        return 2;
    }
    if (const auto type = x509::parse_key_type(options.key_type)) options.pki.key_type = *type;
    if (options.days > 0) options.pki.days = options.days;
    Result<std::vector<PkiFile>> files = make_test_pki(options.pki, now);
    if (!files) {
        print_error(files.error());
        return 2;
    }
    const Result<void> written =
        write_pki_files(options.dir, *files, options.force ? Overwrite::allow : Overwrite::refuse);
    if (!written) {
        print_error(written.error());
        return 2;
    }
    std::printf("certauth: wrote %zu files to %s (a TEST PKI: see %s/README.md)\n", files->size(), options.dir.c_str(),
                options.dir.c_str());
    return 0;
}

} // namespace

Command add_pki_init_command(CLI::App& pki) {
    CLI::App* cmd = pki.add_subcommand("init", "Write a test PKI with every client-certificate case into DIR");
    auto options = std::make_shared<InitOptions>();
    cmd->add_option("DIR", options->dir, "folder to write (created when missing)")->type_name("")->required();
    cmd->add_option("--server-names", options->pki.server_names,
                    "names of the server certificate, comma-separated: the first is its CN, each a SAN "
                    "(IP addresses as IP SANs)")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->type_name("NAME,...")
        ->capture_default_str();
    cmd->add_option("--key-type", options->key_type,
                    "key of the CAs, the server and the clients (dave and server-ec are always EC P-256)")
        ->check(CLI::IsMember({"rsa2048", "rsa3072", "p256", "p384", "ed25519"}))
        ->capture_default_str();
    cmd->add_option("--days", options->days,
                    "ordinary certificates valid from an hour ago for N days (default: 2020-01-01 .. 2049-12-31; "
                    "macOS refuses server certificates valid for more than 825 days)")
        ->check(count_in(1, 36500));
    cmd->add_option("--p12-password", options->pki.p12_password, "password of the .p12 files")->capture_default_str();
    cmd->add_flag("--edge-cases", options->pki.edge_cases,
                  "also edge/ (certificates with unusual fields) and bad/ (inputs to refuse): certauth's own test "
                  "inputs");
    cmd->add_flag("--force", options->force, "overwrite files that exist (other files in DIR are left alone)");
    cmd->footer(k_footer);
    return {cmd, [options] { return run_init(*options); }};
}

} // namespace certauth::cli
