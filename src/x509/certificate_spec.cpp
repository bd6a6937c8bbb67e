#include <certauth/x509/certificate_spec.hpp>

#include "detail.hpp"

#include <certauth/ascii.hpp>

#include <certauth/x509/time_text.hpp>

#include <array>
#include <string>

#include <openssl/rand.h>

namespace certauth::x509 {
namespace {

constexpr std::array<std::string_view, 6> k_usages{"clientAuth",  "serverAuth",   "emailProtection",
                                                   "codeSigning", "timeStamping", "OCSPSigning"};

Error failed(std::string_view what) { return Error{std::string(what) + ": " + drain_errors(ErrorQueue::first_reason)}; }

Result<Ptr<ASN1_STRING>> random_serial() {
    const Ptr<BIGNUM> bn(BN_new());
    // 127 random bits with the top one set: 16 bytes, positive, no leading zero byte.
    if (!bn || BN_rand(bn.get(), 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1) return failed("random serial");
    Ptr<ASN1_STRING> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!serial) return failed("random serial");
    return serial;
}

Result<void> set_name(X509_NAME* name, const Name& spec) {
    for (const NameEntry& entry : spec.entries) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(entry.value.data());
        if (X509_NAME_add_entry_by_txt(name, entry.key.c_str(), MBSTRING_UTF8, bytes,
                                       static_cast<int>(entry.value.size()), -1, 0) != 1)
            return Error{"subject " + entry.key + "=" + entry.value + ": " + drain_errors(ErrorQueue::first_reason)};
    }
    return {};
}

// An extension written in OpenSSL's configuration syntax ("critical,CA:TRUE"):
// only for values made here, never for text from outside.
Result<void> add_conf_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
    const Ptr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return failed(std::string(OBJ_nid2ln(nid)) + " " + value);
    return {};
}

std::string key_usage_text(const KeyUsage& usage) {
    std::string text = "critical";
    if (usage.digital_signature) text += ",digitalSignature";
    if (usage.key_encipherment) text += ",keyEncipherment";
    if (usage.key_cert_sign) text += ",keyCertSign";
    if (usage.crl_sign) text += ",cRLSign";
    return text;
}

Result<void> add_extended_key_usage(X509* cert, const std::vector<std::string>& names) {
    Ptr<EXTENDED_KEY_USAGE> usages(sk_ASN1_OBJECT_new_null());
    if (!usages) return failed("extendedKeyUsage");
    for (const std::string& name : names) {
        Ptr<ASN1_OBJECT> object(OBJ_txt2obj(name.c_str(), 0));
        if (!object) {
            drain_errors(ErrorQueue::first_reason);
            std::string known;
            for (std::string_view usage : k_usages)
                known += (known.empty() ? "" : ", ") + std::string(usage);
            return Error{"extended key usage \"" + name + "\": not a known usage or OID; known: " + known};
        }
        if (sk_ASN1_OBJECT_push(usages.get(), object.get()) == 0) return failed("extendedKeyUsage");
        (void)object.release(); // owned by the stack now
    }
    if (X509_add1_ext_i2d(cert, NID_ext_key_usage, usages.get(), 0, X509V3_ADD_DEFAULT) != 1)
        return failed("extendedKeyUsage");
    return {};
}

Result<Ptr<GENERAL_NAME>> general_name(const AltName& alt) {
    if (alt.kind == AltName::Kind::ip) {
        Ptr<ASN1_STRING> address(a2i_IPADDRESS(alt.value.c_str()));
        if (!address) {
            drain_errors(ErrorQueue::first_reason);
            return Error{"subjectAltName ip:" + alt.value + ": not an IP address"};
        }
        Ptr<GENERAL_NAME> name(GENERAL_NAME_new());
        if (!name) return failed("subjectAltName");
        GENERAL_NAME_set0_value(name.get(), GEN_IPADD, address.release());
        return name;
    }
    if (alt.value.empty()) return Error{"subjectAltName: an empty name"};
    Ptr<ASN1_STRING> text(ASN1_IA5STRING_new());
    if (!text || ASN1_STRING_set(text.get(), alt.value.data(), static_cast<int>(alt.value.size())) != 1)
        return failed("subjectAltName");
    const int type = alt.kind == AltName::Kind::dns ? GEN_DNS : alt.kind == AltName::Kind::uri ? GEN_URI : GEN_EMAIL;
    Ptr<GENERAL_NAME> name(GENERAL_NAME_new());
    if (!name) return failed("subjectAltName");
    GENERAL_NAME_set0_value(name.get(), type, text.release());
    return name;
}

Result<void> add_alt_names(X509* cert, const std::vector<AltName>& alts) {
    Ptr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
    if (!names) return failed("subjectAltName");
    for (const AltName& alt : alts) {
        Result<Ptr<GENERAL_NAME>> name = general_name(alt);
        if (!name) return Error{name.error().message};
        if (sk_GENERAL_NAME_push(names.get(), name->get()) == 0) return failed("subjectAltName");
        (void)name->release(); // owned by the stack now
    }
    if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
        return failed("subjectAltName");
    return {};
}

Result<void> add_extensions(X509* cert, const CertificateSpec& spec, const X509* issuer_cert) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, const_cast<X509*>(issuer_cert), cert, nullptr, nullptr, 0);
    std::string basic = spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
    if (spec.ca && spec.path_length) basic += ",pathlen:" + std::to_string(*spec.path_length);
    if (Result<void> r = add_conf_extension(cert, &ctx, NID_basic_constraints, basic); !r) return r;
    if (spec.key_usage)
        if (Result<void> r = add_conf_extension(cert, &ctx, NID_key_usage, key_usage_text(*spec.key_usage)); !r)
            return r;
    if (!spec.extended_key_usage.empty())
        if (Result<void> r = add_extended_key_usage(cert, spec.extended_key_usage); !r) return r;
    if (!spec.alt_names.empty())
        if (Result<void> r = add_alt_names(cert, spec.alt_names); !r) return r;
    std::string access;
    for (const std::string& url : spec.ocsp_urls)
        access += (access.empty() ? "" : ",") + std::string("OCSP;URI:") + url;
    for (const std::string& url : spec.ca_issuer_urls)
        access += (access.empty() ? "" : ",") + std::string("caIssuers;URI:") + url;
    if (!access.empty())
        if (Result<void> r = add_conf_extension(cert, &ctx, NID_info_access, access); !r) return r;
    if (Result<void> r = add_conf_extension(cert, &ctx, NID_subject_key_identifier, "hash"); !r) return r;
    if (issuer_cert != cert)
        if (Result<void> r = add_conf_extension(cert, &ctx, NID_authority_key_identifier, "keyid:always"); !r) return r;
    return {};
}

// `issuer_cert` null: self-signed.
Result<Ptr<X509>> build(const CertificateSpec& spec, EVP_PKEY* subject_key, const X509* issuer_cert,
                        EVP_PKEY* issuer_key) {
    if (spec.subject.entries.empty()) return Error{"the subject is empty"};
    if (spec.not_after < spec.not_before)
        return Error{"notAfter " + timestamp_text(spec.not_after) + " is before notBefore " +
                     timestamp_text(spec.not_before)};
    if (subject_key == nullptr || issuer_key == nullptr) return Error{"no key"};
    Ptr<X509> cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return failed("new certificate");
    Result<Ptr<ASN1_STRING>> serial = spec.serial.empty() ? random_serial() : detail::to_asn1_serial(spec.serial);
    if (!serial) return Error{serial.error().message};
    if (X509_set_serialNumber(cert.get(), serial->get()) != 1) return failed("serial");
    if (Result<void> r = set_name(X509_get_subject_name(cert.get()), spec.subject); !r) return r.error();
    const X509_NAME* issuer_name = issuer_cert ? X509_get_subject_name(issuer_cert) : X509_get_subject_name(cert.get());
    if (X509_set_issuer_name(cert.get(), issuer_name) != 1) return failed("issuer");
    if (X509_set1_notBefore(cert.get(), detail::to_asn1_time(spec.not_before).get()) != 1 ||
        X509_set1_notAfter(cert.get(), detail::to_asn1_time(spec.not_after).get()) != 1)
        return failed("validity");
    if (X509_set_pubkey(cert.get(), subject_key) != 1) return failed("public key");
    if (Result<void> r = add_extensions(cert.get(), spec, issuer_cert ? issuer_cert : cert.get()); !r) return r.error();
    if (X509_sign(cert.get(), issuer_key, detail::signing_digest(issuer_key)) <= 0) return failed("signing");
    return cert;
}

} // namespace

Result<AltName> parse_alt_name(std::string_view text) {
    const auto colon = text.find(':');
    const std::string kind = ascii::lowered(text.substr(0, colon == std::string_view::npos ? 0 : colon));
    const std::string value(colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1));
    AltName alt;
    alt.value = value;
    if (kind == "dns")
        alt.kind = AltName::Kind::dns;
    else if (kind == "ip")
        alt.kind = AltName::Kind::ip;
    else if (kind == "uri")
        alt.kind = AltName::Kind::uri;
    else if (kind == "email")
        alt.kind = AltName::Kind::email;
    else
        return Error{"subject alternative name \"" + std::string(text) +
                     "\": expected KIND:VALUE with KIND dns, ip, uri or email (dns:example.org, ip:127.0.0.1)"};
    if (value.empty()) return Error{"subject alternative name \"" + std::string(text) + "\": the value is empty"};
    if (alt.kind == AltName::Kind::ip) {
        const Ptr<ASN1_STRING> address(a2i_IPADDRESS(value.c_str()));
        if (!address) {
            drain_errors(ErrorQueue::first_reason);
            return Error{"subject alternative name \"" + std::string(text) + "\": not an IP address"};
        }
    }
    return alt;
}

AltName alt_name_for_host(std::string_view host) {
    const std::string text(host);
    const Ptr<ASN1_STRING> address(a2i_IPADDRESS(text.c_str()));
    drain_errors(ErrorQueue::first_reason);
    return AltName{address ? AltName::Kind::ip : AltName::Kind::dns, text};
}

std::vector<std::string> known_extended_key_usages() { return {k_usages.begin(), k_usages.end()}; }

Result<Ptr<X509>> make_certificate(const CertificateSpec& spec, EVP_PKEY* subject_key, const Issuer& issuer) {
    if (issuer.cert == nullptr) return Error{"no issuer certificate"};
    return build(spec, subject_key, issuer.cert, issuer.key);
}

Result<Ptr<X509>> make_self_signed(const CertificateSpec& spec, EVP_PKEY* key) {
    return build(spec, key, nullptr, key);
}

} // namespace certauth::x509
