#pragma once
// The command-line flag of each library setting that an Error can name
// (include/certauth/result.hpp). The library says what is wrong; the CLI
// says where it was given. A configuration file's key has the flag's name
// without the dashes (src/cli/config_file.hpp), so the flag names both.

#include <certauth/result.hpp>

#include <string>
#include <string_view>

namespace certauth::cli {

// "--cacert" for the client's "cacert", "--cert" for the server's
// "cert_file"; "" for a setting no flag gives.
std::string_view flag_of_setting(std::string_view setting) noexcept;

// The error's message after the flag of its setting:
// "--cacert: ca.pem: no PEM certificate found". The message alone when the
// error names no setting, or one that no flag gives.
std::string with_flag(const Error& error);

} // namespace certauth::cli
