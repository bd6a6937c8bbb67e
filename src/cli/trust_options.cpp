#include "cli/trust_options.hpp"

#include <certauth/directory/directory.hpp>
#include <certauth/directory/location.hpp>

namespace certauth::cli {

void add_trust_options(CLI::App& command, TrustOptions& options) {
    // No file-existence validators: our own loaders give better errors, and a
    // value from the configuration file must not fail another subcommand.
    command.add_option("--ca", options.ca, "CA certificates (PEM or DER) trusted for client certificates; repeatable")
        ->type_name("FILE")
        ->allow_extra_args(false);
    command.add_option("--crl", options.crl, "certificate revocation list (PEM or DER); repeatable")
        ->type_name("FILE")
        ->allow_extra_args(false);
    command
        .add_option("--intermediate", options.intermediate,
                    "intermediate CA certificates (PEM) a client's chain may be completed with when it is not sent "
                    "(proxies that pass on the leaf only); never trusted as anchors; repeatable")
        ->type_name("FILE")
        ->allow_extra_args(false);
    command.add_flag("--crl-required", options.crl_required,
                     "every CA of a chain must have a current CRL loaded (else: untrusted)");
    command
        .add_option("--security-level", options.security_level,
                    "OpenSSL security level for client chains and the TLS handshake, 0-5: the least bits of "
                    "security of every key and signature (1: 80, 2: 112 - RSA 2048, SHA-256 -, 3: 128, 4: 192, "
                    "5: 256; 0: no check); weaker chains are untrusted")
        ->check(CLI::Range(0, 5))
        ->capture_default_str();
    command
        .add_option("--users", options.users,
                    "the user list: who is authorised, and the routes' roles; a JSON file, sqlite:PATH, "
                    "postgresql://... or \"host=... dbname=...\" (a user directory)")
        ->type_name("USERS");
}

Result<std::optional<x509::TrustStore>> load_trust_store(const TrustOptions& options) {
    if (options.ca.empty()) {
        if (!options.crl.empty())
            return Error{"--crl " + options.crl.front() +
                         " needs --ca: revocation is checked while verifying against trusted CAs"};
        if (!options.intermediate.empty())
            return Error{"--intermediate " + options.intermediate.front() +
                         " needs --ca: an intermediate completes a chain up to a trusted CA"};
        if (options.crl_required) return Error{"--crl-required needs --ca (the CAs whose CRLs are required)"};
        // Without CAs nothing is verified, so nobody would be looked up: a
        // check that says "inspected", exit 0, for a user the list lacks.
        if (!options.users.empty())
            return Error{"--users " + users_name(options) +
                         " needs --ca: a certificate is looked up in the user list once it is verified against "
                         "trusted CAs"};
        return std::optional<x509::TrustStore>{};
    }
    x509::TrustConfig config;
    config.ca_files.assign(options.ca.begin(), options.ca.end());
    config.crl_files.assign(options.crl.begin(), options.crl.end());
    config.intermediate_files.assign(options.intermediate.begin(), options.intermediate.end());
    config.crl_mode = options.crl_required ? x509::CrlMode::required : x509::CrlMode::when_loaded;
    config.security_level = options.security_level;
    Result<x509::TrustStore> store = x509::TrustStore::load(config);
    if (!store) return store.error();
    return std::optional<x509::TrustStore>{std::move(*store)};
}

Result<std::optional<policy::UserList>> load_user_list(const TrustOptions& options) {
    if (options.users.empty()) return std::optional<policy::UserList>{};
    Result<policy::UserList> list = directory::load_user_list(options.users);
    if (!list) return list.error();
    return std::optional<policy::UserList>{std::move(*list)};
}

std::string users_name(const TrustOptions& options) {
    Result<directory::Location> location = directory::parse_location(options.users);
    // A text that is no location may be a connection string with a password.
    return location ? location->name() : "(a --users value that cannot be read)";
}

} // namespace certauth::cli
