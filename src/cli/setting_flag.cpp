#include "cli/setting_flag.hpp"

#include <array>
#include <utility>

namespace certauth::cli {

std::string_view flag_of_setting(std::string_view setting) noexcept {
    // By the field of the library's options that the setting names.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> k_flags{{
        {"ca_files", "--ca"},                     // x509::TrustConfig
        {"intermediate_files", "--intermediate"}, // x509::TrustConfig
        {"crl_files", "--crl"},                   // x509::TrustConfig
        {"cacert", "--cacert"},                   // client::ClientTlsOptions
        {"cert", "--cert"},                       // client::ClientTlsOptions
        {"key", "--key"},                         // client::ClientTlsOptions
        {"concurrency", "--concurrency"},         // client::LoadOptions
        {"requests", "--requests"},               // client::LoadOptions
        {"cert_file", "--cert"},                  // server::TlsSettings
        {"key_file", "--key"},                    // server::TlsSettings
        {"status", "--status"},                   // server::ServerOptions
        {"url", "--url"},                         // client::run_scenarios' override_url
    }};
    for (const auto& [name, flag] : k_flags)
        if (name == setting) return flag;
    return {};
}

std::string with_flag(const Error& error) {
    const std::string_view flag = flag_of_setting(error.setting);
    if (flag.empty()) return error.message;
    return std::string(flag) + ": " + error.message;
}

} // namespace certauth::cli
