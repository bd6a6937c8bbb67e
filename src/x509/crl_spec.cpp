#include <certauth/x509/crl_spec.hpp>

#include "detail.hpp"

#include <string>

namespace certauth::x509 {
namespace {

Error failed(const std::string& what) { return Error{"CRL: " + what + ": " + drain_errors(ErrorQueue::first_reason)}; }

} // namespace

Result<Ptr<X509_CRL>> make_crl(const CrlSpec& spec, const Issuer& issuer) {
    if (issuer.cert == nullptr || issuer.key == nullptr) return Error{"CRL: no issuer"};
    Ptr<X509_CRL> crl(X509_CRL_new());
    if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1) return failed("new CRL");
    if (X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.cert)) != 1) return failed("issuer");
    if (X509_CRL_set1_lastUpdate(crl.get(), detail::to_asn1_time(spec.this_update).get()) != 1 ||
        X509_CRL_set1_nextUpdate(crl.get(), detail::to_asn1_time(spec.next_update).get()) != 1)
        return failed("dates");
    for (const Revocation& entry : spec.revoked) {
        Result<Ptr<ASN1_STRING>> serial = detail::to_asn1_serial(entry.serial);
        if (!serial) return Error{"CRL: revoked " + serial.error().message};
        Ptr<X509_REVOKED> revoked(X509_REVOKED_new());
        if (!revoked || X509_REVOKED_set_serialNumber(revoked.get(), serial->get()) != 1 ||
            X509_REVOKED_set_revocationDate(revoked.get(), detail::to_asn1_time(entry.revoked_at).get()) != 1)
            return failed("revoked entry");
        if (X509_CRL_add0_revoked(crl.get(), revoked.get()) != 1) return failed("revoked entry");
        (void)revoked.release(); // owned by the CRL now
    }
    if (X509_CRL_sort(crl.get()) != 1) return failed("sorting");

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, const_cast<X509*>(issuer.cert), nullptr, nullptr, crl.get(), 0);
    const Ptr<X509_EXTENSION> key_id(X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
    if (!key_id || X509_CRL_add_ext(crl.get(), key_id.get(), -1) != 1) return failed("authorityKeyIdentifier");
    const Ptr<ASN1_STRING> number(ASN1_INTEGER_new());
    if (!number || ASN1_INTEGER_set(number.get(), spec.number) != 1 ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT) != 1)
        return failed("cRLNumber");
    if (X509_CRL_sign(crl.get(), issuer.key, detail::signing_digest(issuer.key)) <= 0) return failed("signing");
    return crl;
}

} // namespace certauth::x509
