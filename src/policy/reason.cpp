#include <certauth/policy/reason.hpp>

#include <array>
#include <utility>

namespace certauth::policy {
namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 11> k_names{{
    {Reason::ok, "ok"},
    {Reason::no_certificate, "no_certificate"},
    {Reason::untrusted, "untrusted"},
    {Reason::expired, "expired"},
    {Reason::not_yet_valid, "not_yet_valid"},
    {Reason::revoked, "revoked"},
    {Reason::wrong_usage, "wrong_usage"},
    {Reason::unknown_user, "unknown_user"},
    {Reason::forbidden, "forbidden"},
    {Reason::malformed, "malformed"},
    {Reason::untrusted_proxy, "untrusted_proxy"},
}};

} // namespace

std::string_view to_string(Reason reason) noexcept {
    for (const auto& [value, name] : k_names)
        if (value == reason) return name;
    return "untrusted"; // unreachable for valid enum values; fail closed
}

} // namespace certauth::policy
