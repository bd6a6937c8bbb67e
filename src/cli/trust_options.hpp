#pragma once
// The options serve and check share (docs/configuration.md): --ca, --crl,
// --crl-required, --security-level, --users, --intermediate; top-level keys of the configuration file.

#include <certauth/policy/user_list.hpp>
#include <certauth/result.hpp>
#include <certauth/x509/trust_store.hpp>

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace certauth::cli {

struct TrustOptions {
    std::vector<std::string> ca;
    std::vector<std::string> crl;
    std::vector<std::string> intermediate;
    bool crl_required = false;
    int security_level = 2;
    std::string users;
};

// Adds --ca (repeatable), --crl (repeatable), --intermediate (repeatable), --crl-required,
// --security-level and --users to
// `command`, bound to `options` (which must outlive parsing).
void add_trust_options(CLI::App& command, TrustOptions& options);

// The trust store of --ca/--crl, or nullopt when no --ca was given (an --crl
// without --ca is an error). Errors name the file.
Result<std::optional<x509::TrustStore>> load_trust_store(const TrustOptions& options);

// The user list of --users (a JSON file, sqlite:PATH or postgresql://...),
// or nullopt when none was given.
Result<std::optional<policy::UserList>> load_user_list(const TrustOptions& options);

// How messages name --users: a PostgreSQL URI without its password.
std::string users_name(const TrustOptions& options);

} // namespace certauth::cli
