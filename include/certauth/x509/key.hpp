#pragma once
// Private keys: the kinds certauth makes, generating one, and reading one
// from a PEM file.

#include <certauth/result.hpp>
#include <certauth/x509/ossl.hpp>

#include <filesystem>
#include <optional>
#include <string_view>

namespace certauth::x509 {

enum class KeyType { rsa2048, rsa3072, p256, p384, ed25519 };

// "rsa2048", "rsa3072", "p256", "p384", "ed25519".
std::string_view to_string(KeyType type);
std::optional<KeyType> parse_key_type(std::string_view name);

// A new key pair of this kind (EC keys on their named curve).
Result<Ptr<EVP_PKEY>> generate_key(KeyType type);

// The kind of `key`; nullopt for a kind certauth does not make (RSA-4096, Ed448, ...).
std::optional<KeyType> key_type_of(const EVP_PKEY* key);

// An unencrypted PEM private key ("PRIVATE KEY", "RSA PRIVATE KEY", "EC
// PRIVATE KEY"); errors name the file.
Result<Ptr<EVP_PKEY>> load_private_key(const std::filesystem::path& path);

} // namespace certauth::x509
