#include <certauth/x509/key.hpp>

#include "detail.hpp"

#include <certauth/x509/certificate.hpp>

#include <array>
#include <string>
#include <utility>

#include <openssl/core_names.h>
#include <openssl/pem.h>

namespace certauth::x509 {
namespace {

constexpr std::array<std::pair<KeyType, std::string_view>, 5> k_names{{{KeyType::rsa2048, "rsa2048"},
                                                                       {KeyType::rsa3072, "rsa3072"},
                                                                       {KeyType::p256, "p256"},
                                                                       {KeyType::p384, "p384"},
                                                                       {KeyType::ed25519, "ed25519"}}};

std::string curve_of(const EVP_PKEY* key) {
    char group[80] = {};
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr) != 1) return {};
    return group;
}

} // namespace

std::string_view to_string(KeyType type) {
    for (const auto& [known, name] : k_names)
        if (known == type) return name;
    return "unknown";
}

std::optional<KeyType> parse_key_type(std::string_view name) {
    for (const auto& [type, known] : k_names)
        if (known == name) return type;
    return std::nullopt;
}

Result<Ptr<EVP_PKEY>> generate_key(KeyType type) {
    Ptr<EVP_PKEY> key;
    switch (type) {
    case KeyType::rsa2048: key.reset(EVP_RSA_gen(2048)); break;
    case KeyType::rsa3072: key.reset(EVP_RSA_gen(3072)); break;
    case KeyType::p256: key.reset(EVP_EC_gen("P-256")); break;
    case KeyType::p384: key.reset(EVP_EC_gen("P-384")); break;
    case KeyType::ed25519: key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); break;
    }
    if (!key)
        return Error{"cannot generate a " + std::string(to_string(type)) +
                     " key: " + drain_errors(ErrorQueue::first_reason)};
    return key;
}

std::optional<KeyType> key_type_of(const EVP_PKEY* key) {
    if (key == nullptr) return std::nullopt;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(key) == 2048) return KeyType::rsa2048;
        if (EVP_PKEY_get_bits(key) == 3072) return KeyType::rsa3072;
        return std::nullopt;
    case EVP_PKEY_EC: {
        const std::string curve = curve_of(key);
        if (curve == "prime256v1" || curve == "P-256") return KeyType::p256;
        if (curve == "secp384r1" || curve == "P-384") return KeyType::p384;
        return std::nullopt;
    }
    case EVP_PKEY_ED25519: return KeyType::ed25519;
    default: return std::nullopt;
    }
}

Result<Ptr<EVP_PKEY>> load_private_key(const std::filesystem::path& path) {
    Result<std::string> text = read_file(path);
    if (!text) return Error{text.error().message};
    const Ptr<BIO> bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
    if (!bio) return Error{path.string() + ": " + drain_errors(ErrorQueue::first_reason)};
    // No passphrase prompt: an encrypted key is an error, not a question on the terminal.
    auto no_passphrase = [](char*, int, int, void*) { return -1; };
    Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!key) {
        const std::string why = drain_errors(ErrorQueue::first_reason);
        if (text->find("ENCRYPTED") != std::string::npos)
            return Error{path.string() + ": the private key is encrypted; an unencrypted key is needed"};
        return Error{path.string() + ": no PEM private key found" + (why.empty() ? "" : " (" + why + ")")};
    }
    return key;
}

} // namespace certauth::x509
