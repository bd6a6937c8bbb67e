#include "support/pki.hpp"

#include "support/files.hpp"

#include <certauth/x509/certificate.hpp>
#include <certauth/x509/crl_spec.hpp>
#include <certauth/x509/encoding.hpp>
#include <certauth/x509/key.hpp>
#include <certauth/x509/ossl.hpp>

#include "support/catch.hpp"

#include <openssl/pem.h>

namespace certauth::test {

x509::Ptr<X509> load_pem_certificate(const std::string& file) {
    x509::Ptr<BIO> bio(BIO_new_file(file.c_str(), "r"));
    REQUIRE(bio);
    x509::Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    REQUIRE(cert);
    return cert;
}

std::string ca_crl(SystemTime last_update, SystemTime next_update, const std::string& revoked_cert) {
    const auto ca = load_pem_certificate(fixture("ca.crt"));
    auto key = x509::load_private_key(fixture("ca.key"));
    REQUIRE(key);
    x509::CrlSpec spec;
    spec.this_update = last_update;
    spec.next_update = next_update;
    if (!revoked_cert.empty()) {
        const x509::Certificate leaf(load_pem_certificate(revoked_cert));
        spec.revoked.push_back({leaf.facts().serial, last_update});
    }
    auto crl = x509::make_crl(spec, {ca.get(), key->get()});
    INFO((crl ? std::string() : crl.error().message));
    REQUIRE(crl);
    return x509::to_pem(crl->get());
}

} // namespace certauth::test
