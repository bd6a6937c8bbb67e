#pragma once
// The match keys of a user entry (README "The user list") and how their
// values compare: the comparable form of a value, from the list or from a
// certificate, is what normalise_match_value gives.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace certauth::policy {

// In the order the README lists them; messages list them in this order.
enum class MatchKey : std::uint8_t { cn, o, ou, email, dns, uri, ip, fingerprint256, serial, issuer_cn };

inline constexpr std::size_t k_match_key_count = 10;

inline constexpr std::array<MatchKey, k_match_key_count> k_match_keys{
    MatchKey::cn,     MatchKey::o,        MatchKey::ou, MatchKey::email,
    MatchKey::dns,    MatchKey::uri,      MatchKey::ip, MatchKey::fingerprint256,
    MatchKey::serial, MatchKey::issuer_cn};

constexpr std::size_t index_of(MatchKey key) noexcept { return static_cast<std::size_t>(key); }

// "cn", "fingerprint256", "issuer_cn".
std::string_view name_of(MatchKey key) noexcept;
std::optional<MatchKey> match_key_named(std::string_view name) noexcept;
// "cn, o, ou, email, dns, uri, ip, fingerprint256, serial, issuer_cn".
std::string match_key_names();

// The comparable form of one value of `key`: dns and email lowercased, ip the
// canonical text of inet_ntop, fingerprint256 uppercase colon-separated hex,
// serial uppercase hex without colons or leading zeros, the others as they
// are. nullopt when the value cannot be one of that kind.
std::optional<std::string> normalise_match_value(MatchKey key, std::string_view value);

} // namespace certauth::policy
