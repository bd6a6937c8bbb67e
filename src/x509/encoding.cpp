#include <certauth/x509/encoding.hpp>

#include "detail.hpp"

#include <cstdio>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>

namespace certauth::x509 {
namespace {

// What `write` wrote into a memory BIO. Writing to memory fails only when
// memory runs out: that throws, as std::string does.
template <class Write>
std::string written(Write write) {
    const Ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) throw std::runtime_error("cannot encode: " + drain_errors());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string{};
}

} // namespace

std::string to_base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

Result<std::string> from_base64(std::string_view text, Base64Padding padding) {
    if (text.empty()) return Error{"is empty"};
    const std::size_t pad = text.size() - (text.find_last_not_of('=') + 1);
    const std::string_view body = text.substr(0, text.size() - pad);
    for (std::size_t i = 0; i < body.size(); ++i)
        if (detail::base64_value(static_cast<unsigned char>(body[i])) < 0)
            return Error{body[i] == '=' ? std::string("has misplaced '=' padding")
                                        : "has the character " + detail::printable(body[i]) + " at position " +
                                              std::to_string(i + 1) + ", which is not base64"};
    if (padding == Base64Padding::required && text.size() % 4 != 0)
        return Error{"is truncated (" + std::to_string(text.size()) + " characters, not a multiple of 4)"};
    // Padding completes the last group of four, and nothing else.
    if (pad > 2 || (pad > 0 && text.size() % 4 != 0) || body.size() % 4 == 1)
        return Error{body.size() % 4 == 1 ? "is truncated (" + std::to_string(body.size()) +
                                                " base64 characters: one too many for whole bytes)"
                                          : std::string("has misplaced '=' padding")};
    std::string out;
    out.reserve(body.size() / 4 * 3 + 2);
    unsigned int group = 0;
    int bits = 0;
    for (const char c : body) {
        group = (group << 6) | static_cast<unsigned int>(detail::base64_value(static_cast<unsigned char>(c)));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((group >> bits) & 0xff);
        }
    }
    return out;
}

std::string to_pem(const X509* cert) {
    return written([&](BIO* out) { return PEM_write_bio_X509(out, cert); });
}

std::string to_der(const X509* cert) {
    return written([&](BIO* out) { return i2d_X509_bio(out, cert); });
}

std::string to_pem(const X509_CRL* crl) {
    return written([&](BIO* out) { return PEM_write_bio_X509_CRL(out, crl); });
}

std::string to_der(const X509_CRL* crl) {
    return written([&](BIO* out) { return i2d_X509_CRL_bio(out, crl); });
}

std::string private_key_pem(const EVP_PKEY* key) {
    return written([&](BIO* out) { return PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr); });
}

} // namespace certauth::x509
