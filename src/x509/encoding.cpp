#include <certauth/x509/encoding.hpp>

#include <stdexcept>

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
