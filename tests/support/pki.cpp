#include "support/pki.hpp"

#include "support/files.hpp"

#include <certauth/x509/ossl.hpp>

#include "support/catch.hpp"

#include <ctime>

#include <openssl/evp.h>
#include <openssl/pem.h>

namespace certauth::test {
namespace {

x509::Ptr<EVP_PKEY> ca_key() {
    x509::Ptr<BIO> bio(BIO_new_file(fixture("ca.key").c_str(), "r"));
    REQUIRE(bio);
    x509::Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    REQUIRE(key);
    return key;
}

x509::Ptr<ASN1_STRING> asn1_time(SystemTime at) {
    x509::Ptr<ASN1_STRING> time(ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(at)));
    REQUIRE(time);
    return time;
}

std::string pem_of(int (*write)(BIO*, const void*), const void* object) {
    x509::Ptr<BIO> out(BIO_new(BIO_s_mem()));
    REQUIRE(out);
    REQUIRE(write(out.get(), object) == 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

} // namespace

x509::Ptr<X509> load_pem_certificate(const std::string& file) {
    x509::Ptr<BIO> bio(BIO_new_file(file.c_str(), "r"));
    REQUIRE(bio);
    x509::Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    REQUIRE(cert);
    return cert;
}

std::string ca_crl(SystemTime last_update, SystemTime next_update, const std::string& revoked_cert) {
    const auto ca = load_pem_certificate(fixture("ca.crt"));
    x509::Ptr<X509_CRL> crl(X509_CRL_new());
    REQUIRE(crl);
    REQUIRE(X509_CRL_set_version(crl.get(), 1) == 1);
    REQUIRE(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.get())) == 1);
    const auto last = asn1_time(last_update);
    REQUIRE(X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1);
    REQUIRE(X509_CRL_set1_nextUpdate(crl.get(), asn1_time(next_update).get()) == 1);
    if (!revoked_cert.empty()) {
        const auto leaf = load_pem_certificate(revoked_cert);
        X509_REVOKED* revoked = X509_REVOKED_new();
        REQUIRE(revoked);
        REQUIRE(X509_REVOKED_set_serialNumber(revoked, X509_get_serialNumber(leaf.get())) == 1);
        REQUIRE(X509_REVOKED_set_revocationDate(revoked, last.get()) == 1);
        REQUIRE(X509_CRL_add0_revoked(crl.get(), revoked) == 1);
        X509_CRL_sort(crl.get());
    }
    REQUIRE(X509_CRL_sign(crl.get(), ca_key().get(), EVP_sha256()) > 0);
    return pem_of([](BIO* out, const void* c) { return PEM_write_bio_X509_CRL(out, static_cast<const X509_CRL*>(c)); },
                  crl.get());
}

} // namespace certauth::test
