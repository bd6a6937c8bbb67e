#include <certauth/x509/trust_store.hpp>

#include <certauth/x509/time_text.hpp>

#include "detail.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace certauth::x509 {
namespace {

using detail::TimePoint;

// What the verify callback needs to know; one per verification.
struct VerifyContext {
    const Chain& authorities;
    const std::vector<Ptr<X509_CRL>>& crls;
    const std::vector<std::string>& crl_origins;
    CrlMode mode;
    int max_depth;
    int security_level;
    TimePoint at;
    bool presented_intermediates;
    std::size_t known_intermediates;

    bool recorded = false;
    int error = 0;
    int depth = -1;
    std::string detail;
};

bool has_crl_named(const std::vector<Ptr<X509_CRL>>& crls, const X509_NAME* name) {
    return std::any_of(crls.begin(), crls.end(), [&](const Ptr<X509_CRL>& crl) {
        return X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), name) == 0;
    });
}

std::string time_of(const ASN1_TIME* time) {
    const auto point = detail::to_time_point(time);
    return point ? timestamp_text(*point) : std::string("(unreadable time)");
}

std::string trusted_list(const Chain& authorities) {
    constexpr std::size_t k_shown = 5;
    std::string out = "trusted: ";
    const std::size_t shown = std::min(authorities.size(), k_shown);
    for (std::size_t i = 0; i < shown; ++i) {
        if (i != 0) out += "; ";
        out += detail::subject_of(authorities[i].native());
    }
    if (authorities.size() > shown) out += "; and " + std::to_string(authorities.size() - shown) + " more";
    return out;
}

// "CN=joe" for the leaf; "CN=carol: CA certificate CN=sub (depth 1)" above it.
std::string who_plain(X509* leaf, X509* cert, int depth) {
    if (depth <= 0 || leaf == nullptr || cert == leaf) return detail::subject_of(cert);
    return detail::subject_of(leaf) + ": CA certificate " + detail::subject_of(cert) + " (depth " +
           std::to_string(depth) + ")";
}

// The same with the issuer: "CN=joe (issued by CN=certauth test CA)".
std::string who(X509* leaf, X509* cert, int depth) {
    if (depth <= 0 || leaf == nullptr || cert == leaf)
        return detail::subject_of(cert) + " (issued by " + detail::issuer_of(cert) + ")";
    return detail::subject_of(leaf) + ": CA certificate " + detail::subject_of(cert) + " (depth " +
           std::to_string(depth) + ", issued by " + detail::issuer_of(cert) + ")";
}

std::string crl_reason_name(long code) {
    switch (code) {
    case 0: return "unspecified";
    case 1: return "keyCompromise";
    case 2: return "cACompromise";
    case 3: return "affiliationChanged";
    case 4: return "superseded";
    case 5: return "cessationOfOperation";
    case 6: return "certificateHold";
    case 8: return "removeFromCRL";
    case 9: return "privilegeWithdrawn";
    case 10: return "aACompromise";
    default: return "reason " + std::to_string(code);
    }
}

std::string eku_names(X509* cert) {
    const Ptr<EXTENDED_KEY_USAGE> eku(
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
    std::string out;
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
        const ASN1_OBJECT* object = sk_ASN1_OBJECT_value(eku.get(), i);
        if (!out.empty()) out += ", ";
        const int nid = OBJ_obj2nid(object);
        if (nid != NID_undef) {
            out += OBJ_nid2sn(nid);
        } else {
            char buf[128];
            OBJ_obj2txt(buf, sizeof buf, object, 1);
            out += buf;
        }
    }
    return out.empty() ? std::string("nothing") : out;
}

// Why OpenSSL's TLS-client purpose check refused `cert`.
std::string usage_problem(X509* cert, bool as_ca) {
    const uint32_t flags = X509_get_extension_flags(cert);
    if ((flags & EXFLAG_XKUSAGE) != 0 && (X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT) == 0)
        return "its extendedKeyUsage allows " + eku_names(cert) +
               " but not clientAuth; TLS client authentication needs clientAuth (or no extendedKeyUsage)";
    if (!as_ca && (flags & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(cert) & (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT)) == 0)
        return "its keyUsage lacks digitalSignature, which TLS client authentication needs";
    if (as_ca && X509_check_ca(cert) == 0) return "it is not a CA certificate";
    return "its extensions (Netscape certificate type) do not allow TLS client use";
}

// The least security, in bits, of keys and signatures at OpenSSL's
// security levels 1-5.
int level_bits(int level) {
    constexpr int k_bits[] = {80, 112, 128, 192, 256};
    return level >= 1 && level <= 5 ? k_bits[level - 1] : 0;
}

std::string level_requirement(int level) {
    std::string text = "security level " + std::to_string(level) + " requires at least " +
                       std::to_string(level_bits(level)) + "-bit security";
    switch (level) {
    case 1: text += " (RSA 1024, no MD5 or SHA-1 signatures)"; break;
    case 2: text += " (RSA 2048, EC P-224, SHA-256 signatures or stronger)"; break;
    case 3: text += " (RSA 3072, EC P-256, SHA-256 or stronger)"; break;
    case 4: text += " (RSA 7680, EC P-384, SHA-384 or stronger)"; break;
    default: text += " (RSA 15360, EC P-521, SHA-512)"; break;
    }
    return text;
}

// "its RSA key has 1024 bits (80-bit security)"
std::string weak_key(X509* cert) {
    const EVP_PKEY* key = X509_get0_pubkey(cert);
    if (key == nullptr) return "its public key cannot be read";
    const char* type = EVP_PKEY_get0_type_name(key);
    return std::string("its ") + (type != nullptr ? type : "public") + " key has " +
           std::to_string(EVP_PKEY_get_bits(key)) + " bits (" + std::to_string(EVP_PKEY_get_security_bits(key)) +
           "-bit security)";
}

// "it is signed with md5WithRSAEncryption (39-bit security)"
std::string weak_signature(X509* cert) {
    int secbits = -1;
    if (X509_get_signature_info(cert, nullptr, nullptr, &secbits, nullptr) != 1) secbits = -1;
    const int nid = X509_get_signature_nid(cert);
    const char* name = nid != NID_undef ? OBJ_nid2ln(nid) : nullptr;
    std::string text = std::string("it is signed with ") + (name != nullptr ? name : "an unknown algorithm");
    if (secbits >= 0) text += " (" + std::to_string(secbits) + "-bit security)";
    return text;
}

bool is_crl_error(int error) {
    switch (error) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER: return true;
    default: return false;
    }
}

ChainProblem problem_of(int error) {
    switch (error) {
    case X509_V_OK: return ChainProblem::none;
    case X509_V_ERR_CERT_HAS_EXPIRED: return ChainProblem::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID: return ChainProblem::not_yet_valid;
    case X509_V_ERR_CERT_REVOKED: return ChainProblem::revoked;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE: return ChainProblem::wrong_usage;
    default: return ChainProblem::untrusted;
    }
}

// The detail of a failure, for a person: which certificate, what failed and
// what would have been accepted, then OpenSSL's own words and the depth.
std::string describe_failure(const VerifyContext& v, X509_STORE_CTX* ctx, int error, int depth) {
    X509* leaf = X509_STORE_CTX_get0_cert(ctx);
    X509* cert = X509_STORE_CTX_get_current_cert(ctx);
    if (cert == nullptr) cert = leaf;
    const std::string at = timestamp_text(v.at);
    std::string text;
    if (cert == nullptr) {
        text = "the certificate could not be verified";
    } else if (is_crl_error(error)) {
        const X509_CRL* crl = X509_STORE_CTX_get0_current_crl(ctx);
        std::string crl_name;
        if (crl != nullptr) {
            crl_name = "the CRL of " + to_name(X509_CRL_get_issuer(crl)).to_string();
            for (std::size_t i = 0; i < v.crls.size(); ++i)
                if (v.crls[i].get() == crl) crl_name += " (" + v.crl_origins[i] + ")";
        }
        text = who(leaf, cert, depth) + " cannot be checked for revocation: ";
        if (error == X509_V_ERR_UNABLE_TO_GET_CRL) {
            const std::string issuer = detail::issuer_of(cert);
            if (has_crl_named(v.crls, X509_get_issuer_name(cert)))
                text += "the loaded CRL of " + issuer +
                        " does not apply to it (signed by another key, or of another scope)";
            else
                text += "no CRL of " + issuer + " is loaded, and a current CRL is required for every CA of the chain";
        } else if (error == X509_V_ERR_CRL_HAS_EXPIRED && crl != nullptr) {
            text += crl_name + " expired " + time_of(X509_CRL_get0_nextUpdate(crl)) +
                    " (its nextUpdate), before the time of the check (" + at +
                    "); an expired CRL is refused, not ignored: renew it (openssl ca -gencrl) and reload";
        } else if (error == X509_V_ERR_CRL_NOT_YET_VALID && crl != nullptr) {
            text += crl_name + " is not valid before " + time_of(X509_CRL_get0_lastUpdate(crl)) +
                    " (its lastUpdate), after the time of the check (" + at + ")";
        } else if (error == X509_V_ERR_CRL_SIGNATURE_FAILURE && crl != nullptr) {
            text += "the signature of " + crl_name + " does not verify with the key of its issuer";
        } else {
            text += X509_verify_cert_error_string(error);
            if (!crl_name.empty()) text += " (" + crl_name + ")";
        }
    } else {
        switch (error) {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: {
            const X509_NAME* issuer = X509_get_issuer_name(cert);
            const bool same_name = std::any_of(v.authorities.begin(), v.authorities.end(), [&](const Certificate& ca) {
                return X509_NAME_cmp(X509_get_subject_name(ca.native()), issuer) == 0;
            });
            text =
                who_plain(leaf, cert, depth) + " issued by " + detail::issuer_of(cert) +
                (same_name ? ", which has the name of a trusted CA but not its key" : ", which is not a trusted CA") +
                "; " + trusted_list(v.authorities);
            if (depth == 0 && !v.presented_intermediates) {
                text += "; no intermediate CA certificate was presented with it";
                if (v.known_intermediates == 0)
                    text += " and none is known: if " + detail::issuer_of(cert) +
                            " is an intermediate CA, its certificate must be given as a known intermediate";
                else
                    text += " and none of the " + std::to_string(v.known_intermediates) + " known intermediates is " +
                            detail::issuer_of(cert);
            }
            const bool cert_is_trusted =
                std::any_of(v.authorities.begin(), v.authorities.end(),
                            [&](const Certificate& ca) { return X509_cmp(ca.native(), cert) == 0; });
            if (cert_is_trusted)
                text += "; " + detail::subject_of(cert) +
                        " is trusted, but a chain must end at a trusted self-signed root CA (partial chains are not "
                        "accepted): trust the root CA that issued it as well";
            break;
        }
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            text =
                who_plain(leaf, cert, depth) + " is self-signed and not a trusted CA; " + trusted_list(v.authorities);
            break;
        case X509_V_ERR_CERT_HAS_EXPIRED: {
            const auto not_after = detail::to_time_point(X509_get0_notAfter(cert)).value_or(v.at);
            text = who(leaf, cert, depth) + " expired " + timestamp_text(not_after) + ", " +
                   days_text(not_after, v.at) + " before the time of the check (" + at + "); it is valid from " +
                   time_of(X509_get0_notBefore(cert)) + " to " + time_of(X509_get0_notAfter(cert));
            break;
        }
        case X509_V_ERR_CERT_NOT_YET_VALID: {
            const auto not_before = detail::to_time_point(X509_get0_notBefore(cert)).value_or(v.at);
            text = who(leaf, cert, depth) + " is not valid before " + timestamp_text(not_before) + ", " +
                   days_text(v.at, not_before) + " after the time of the check (" + at + "); it is valid from " +
                   time_of(X509_get0_notBefore(cert)) + " to " + time_of(X509_get0_notAfter(cert));
            break;
        }
        case X509_V_ERR_CERT_REVOKED: {
            X509_CRL* crl = X509_STORE_CTX_get0_current_crl(ctx);
            std::string when;
            X509_REVOKED* entry = nullptr;
            if (crl != nullptr && X509_CRL_get0_by_cert(crl, &entry, cert) > 0 && entry != nullptr) {
                when = " (revoked " + time_of(X509_REVOKED_get0_revocationDate(entry));
                const Ptr<ASN1_STRING> code(
                    static_cast<ASN1_STRING*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
                if (code) when += ", reason " + crl_reason_name(ASN1_ENUMERATED_get(code.get()));
                when += ")";
            }
            const std::string crl_issuer =
                crl != nullptr ? to_name(X509_CRL_get_issuer(crl)).to_string() : detail::issuer_of(cert);
            text = who_plain(leaf, cert, depth) + " (serial " + detail::serial_hex(cert) +
                   ") is revoked by the CRL of " + crl_issuer + when;
            break;
        }
        case X509_V_ERR_INVALID_PURPOSE:
        case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
            text = who(leaf, cert, depth) +
                   (depth == 0 ? " is not valid for TLS client authentication: "
                               : " may not issue certificates for TLS client authentication: ") +
                   usage_problem(cert, depth > 0);
            break;
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
        case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
            text = who(leaf, cert, depth) + ": its signature does not verify with the key of its issuer";
            break;
        case X509_V_ERR_CERT_CHAIN_TOO_LONG:
            text = who(leaf, cert, depth) + ": the chain is longer than allowed (at most " +
                   std::to_string(v.max_depth) + " intermediate CAs between the certificate and a trusted CA)";
            break;
        case X509_V_ERR_EE_KEY_TOO_SMALL:
        case X509_V_ERR_CA_KEY_TOO_SMALL:
            text = who(leaf, cert, depth) + ": " + weak_key(cert) + "; " + level_requirement(v.security_level) +
                   " for every key of the chain";
            break;
        case X509_V_ERR_CA_MD_TOO_WEAK:
            text = who(leaf, cert, depth) + ": " + weak_signature(cert) + "; " + level_requirement(v.security_level) +
                   " for every signature of the chain but the root's own";
            break;
        case X509_V_ERR_PATH_LENGTH_EXCEEDED:
            text = who(leaf, cert, depth) + ": the chain is longer than a CA's pathLenConstraint allows";
            break;
        case X509_V_ERR_INVALID_CA: {
            // OpenSSL's check_ca(): a CA needs basicConstraints CA:TRUE and,
            // when it has a keyUsage, keyCertSign in it.
            const uint32_t flags = X509_get_extension_flags(cert);
            const bool no_cert_sign = (flags & EXFLAG_CA) != 0 && (flags & EXFLAG_KUSAGE) != 0 &&
                                      (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0;
            text =
                who(leaf, cert, depth) +
                (no_cert_sign ? " is a CA whose keyUsage lacks keyCertSign, so it may not issue certificates, but it "
                                "issued a certificate of the chain"
                              : " is not a CA (no basicConstraints CA:TRUE) but issued a certificate of the chain");
            break;
        }
        default: text = who(leaf, cert, depth) + " was not accepted: " + X509_verify_cert_error_string(error); break;
        }
    }
    return text + " (OpenSSL: " + X509_verify_cert_error_string(error) + ", at depth " + std::to_string(depth) + ")";
}

// Records the first error that counts and stops verification there
// (OpenSSL itself would keep the last one). In CrlMode::when_loaded a CA
// without any loaded CRL is not revocation-checked.
int verify_callback(int ok, X509_STORE_CTX* ctx) {
    if (ok == 1) return 1;
    auto* v = static_cast<VerifyContext*>(X509_STORE_CTX_get_app_data(ctx));
    if (v == nullptr) return 0;
    const int error = X509_STORE_CTX_get_error(ctx);
    const int depth = X509_STORE_CTX_get_error_depth(ctx);
    if (error == X509_V_ERR_UNABLE_TO_GET_CRL && v->mode == CrlMode::when_loaded) {
        X509* cert = X509_STORE_CTX_get_current_cert(ctx);
        if (cert != nullptr && !has_crl_named(v->crls, X509_get_issuer_name(cert))) return 1;
    }
    if (!v->recorded) {
        v->recorded = true;
        v->error = error;
        v->depth = depth;
        v->detail = describe_failure(*v, ctx, error, depth);
    }
    return 0;
}

Result<std::vector<Ptr<X509_CRL>>> parse_crls(std::string_view bytes, const std::string& origin) {
    std::vector<Ptr<X509_CRL>> crls;
    const auto parse_one = [&](std::string_view der, const std::string& where) -> Result<void> {
        const auto* p = reinterpret_cast<const unsigned char*>(der.data());
        Ptr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
        if (!crl) return Error{where + ": not a valid CRL (" + drain_errors(ErrorQueue::first_reason) + ")"};
        if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
            return Error{where + ": unexpected bytes after the CRL"};
        crls.push_back(std::move(crl));
        return {};
    };
    if (bytes.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos)
        return Error{origin + ": empty, no CRL found"};
    if (detail::looks_like_pem(bytes)) {
        auto scan = detail::scan_pem(bytes, {"X509 CRL"});
        if (!scan) return Error{origin + ": " + scan.error().message};
        std::vector<std::string> others;
        for (const detail::PemBlock& block : scan->blocks) {
            if (block.der.empty()) {
                others.push_back(block.label);
                continue;
            }
            auto ok = parse_one(block.der, origin + ": line " + std::to_string(block.line) + ": X509 CRL block");
            if (!ok) return ok.error();
        }
        if (crls.empty()) {
            std::string found;
            for (std::size_t i = 0; i < others.size(); ++i)
                found += (i ? ", " : "") + others[i];
            return Error{origin + ": no CRL found (PEM " + found + (others.size() == 1 ? " block" : " blocks") +
                         ", no X509 CRL block)"};
        }
        if (scan->trailing_line != 0)
            return Error{origin + ": line " + std::to_string(scan->trailing_line) +
                         ": trailing data after the last PEM block"};
        return crls;
    }
    const auto size = detail::der_sequence_size(bytes);
    if (!size) return Error{origin + ": not a CRL (neither PEM \"-----BEGIN X509 CRL-----\" nor DER)"};
    if (*size != bytes.size())
        return Error{origin + ": not a CRL: the DER structure has " + std::to_string(*size) + " bytes, the file " +
                     std::to_string(bytes.size())};
    auto ok = parse_one(bytes, origin);
    if (!ok) return ok.error();
    return crls;
}

// The certificates of a file of CAs (`what`: "CA file"), each one a CA
// certificate (`holds` says what the file is for); errors name the file and
// the certificate.
Result<Chain> read_authorities(const std::filesystem::path& path, std::string_view what, std::string_view holds) {
    const std::string origin = source_name(path);
    auto bytes = read_file(path);
    if (!bytes) return bytes.error();
    std::string no_certificate;
    auto certs = detail::parse_certificates(*bytes, origin, no_certificate);
    if (!certs) {
        if (!no_certificate.empty())
            return Error{origin + ": no certificate in " + std::string(what) + " (" + no_certificate + ")"};
        return certs.error();
    }
    for (std::size_t i = 0; i < certs->size(); ++i)
        if (X509_check_ca((*certs)[i].native()) == 0)
            return Error{origin + ": certificate " + std::to_string(i + 1) + " (" +
                         detail::subject_of((*certs)[i].native()) + ") is not a CA certificate; " + std::string(holds)};
    return certs;
}

} // namespace

Result<TrustStore> TrustStore::load(const TrustConfig& config) {
    TrustStore store;
    store.m_config = config;
    store.m_store.reset(X509_STORE_new());
    if (!store.m_store) return Error{"cannot create an X509_STORE: " + drain_errors(ErrorQueue::first_reason)};
    if (config.ca_files.empty())
        return Error{"no CA file given: client certificates cannot be verified without one", "ca_files"};
    if (config.max_depth < 0) return Error{"the maximum chain depth must not be negative"};
    if (config.security_level < 0 || config.security_level > 5)
        return Error{"security level " + std::to_string(config.security_level) + ": expected 0 to 5"};

    const auto add_authorities = [&]() -> Result<void> {
        for (const auto& path : config.ca_files) {
            auto certs = read_authorities(path, "CA file", "a CA file holds the CAs that issue client certificates");
            if (!certs) return certs.error();
            for (std::size_t i = 0; i < certs->size(); ++i) {
                Certificate& ca = (*certs)[i];
                if (X509_STORE_add_cert(store.m_store.get(), ca.native()) != 1)
                    return Error{source_name(path) + ": cannot add certificate " + std::to_string(i + 1) + ": " +
                                 drain_errors(ErrorQueue::first_reason)};
                store.m_authorities.push_back(std::move(ca));
            }
        }
        return {};
    };

    const auto add_intermediates = [&]() -> Result<void> {
        for (const auto& path : config.intermediate_files) {
            auto certs = read_authorities(path, "intermediate CA file",
                                          "an intermediate file holds the CAs between client certificates and a "
                                          "trusted root");
            if (!certs) return certs.error();
            for (std::size_t i = 0; i < certs->size(); ++i) {
                Certificate& ca = (*certs)[i];
                if ((X509_get_extension_flags(ca.native()) & EXFLAG_SS) != 0)
                    return Error{source_name(path) + ": certificate " + std::to_string(i + 1) + " (" +
                                 detail::subject_of(ca.native()) +
                                 ") is self-signed, a root CA: a root belongs among the trusted CAs, not the "
                                 "intermediates"};
                store.m_intermediates.push_back(std::move(ca));
            }
        }
        return {};
    };

    const auto add_crls = [&]() -> Result<void> {
        for (const auto& path : config.crl_files) {
            const std::string origin = source_name(path);
            auto bytes = read_file(path);
            if (!bytes) return bytes.error();
            auto crls = parse_crls(*bytes, origin);
            if (!crls) return crls.error();
            for (auto& crl : *crls) {
                if (X509_STORE_add_crl(store.m_store.get(), crl.get()) != 1)
                    return Error{origin + ": cannot add the CRL: " + drain_errors(ErrorQueue::first_reason)};
                store.m_crls.push_back(std::move(crl));
                store.m_crl_origins.push_back(origin);
            }
        }
        return {};
    };
    // An error about one of the files names the setting that gave it.
    if (auto added = add_authorities(); !added) return Error{added.error().message, "ca_files"};
    if (auto added = add_intermediates(); !added) return Error{added.error().message, "intermediate_files"};
    if (auto added = add_crls(); !added) return Error{added.error().message, "crl_files"};
    store.m_crl_count = store.m_crls.size();

    // The store carries the same parameters as each verification, so that a
    // plain use of native() is never laxer.
    X509_STORE_set_purpose(store.m_store.get(), X509_PURPOSE_SSL_CLIENT);
    X509_STORE_set_trust(store.m_store.get(), X509_TRUST_SSL_CLIENT);
    X509_STORE_set_depth(store.m_store.get(), config.max_depth);
    X509_VERIFY_PARAM_set_auth_level(X509_STORE_get0_param(store.m_store.get()), config.security_level);
    if (store.m_crl_count > 0 || config.crl_mode == CrlMode::required)
        X509_STORE_set_flags(store.m_store.get(), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    drain_errors(ErrorQueue::first_reason);
    return store;
}

ChainStatus TrustStore::verify(const Chain& chain, std::chrono::system_clock::time_point at) const {
    if (chain.empty()) return verify(nullptr, nullptr, at);
    const X509StackView untrusted(sk_X509_new_null());
    if (!untrusted) return ChainStatus{ChainProblem::untrusted, X509_V_ERR_OUT_OF_MEM, 0, "out of memory"};
    for (std::size_t i = 1; i < chain.size(); ++i)
        sk_X509_push(untrusted.get(), chain[i].native());
    return verify(chain.front().native(), untrusted.get(), at);
}

ChainStatus TrustStore::verify(X509* leaf, STACK_OF(X509) * presented, std::chrono::system_clock::time_point at) const {
    if (leaf == nullptr) return ChainStatus{ChainProblem::no_certificate, 0, -1, "no client certificate was presented"};
    // The intermediates: the presented chain without the leaf (a TLS server
    // gets the chain without it, a client with it).
    const X509StackView untrusted(sk_X509_new_null());
    const Ptr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
    if (!untrusted || !ctx) return ChainStatus{ChainProblem::untrusted, X509_V_ERR_OUT_OF_MEM, 0, "out of memory"};
    for (int i = 0; presented != nullptr && i < sk_X509_num(presented); ++i) {
        X509* cert = sk_X509_value(presented, i);
        if (cert != leaf && X509_cmp(cert, leaf) != 0) sk_X509_push(untrusted.get(), cert);
    }
    const bool presented_intermediates = sk_X509_num(untrusted.get()) > 0;
    // The known intermediates after what was presented, as if sent with it.
    for (const Certificate& known : m_intermediates)
        sk_X509_push(untrusted.get(), known.native());
    VerifyContext v{m_authorities,
                    m_crls,
                    m_crl_origins,
                    m_config.crl_mode,
                    m_config.max_depth,
                    m_config.security_level,
                    at,
                    presented_intermediates,
                    m_intermediates.size(),
                    false,
                    0,
                    -1,
                    {}};

    if (X509_STORE_CTX_init(ctx.get(), m_store.get(), leaf, untrusted.get()) != 1)
        return ChainStatus{ChainProblem::untrusted, X509_V_ERR_UNSPECIFIED, 0,
                           "cannot set up verification: " + drain_errors(ErrorQueue::first_reason)};
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
    X509_STORE_CTX_set_depth(ctx.get(), m_config.max_depth);
    X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(ctx.get()), m_config.security_level);
    if (m_crl_count > 0 || m_config.crl_mode == CrlMode::required)
        X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(at));
    X509_STORE_CTX_set_verify_cb(ctx.get(), verify_callback);
    X509_STORE_CTX_set_app_data(ctx.get(), &v);

    const int result = X509_verify_cert(ctx.get());
    if (v.recorded) {
        drain_errors(ErrorQueue::first_reason);
        return ChainStatus{problem_of(v.error), v.error, v.depth, std::move(v.detail)};
    }
    if (result != 1) {
        // A failure that bypassed the callback (an internal error).
        const int error = X509_STORE_CTX_get_error(ctx.get());
        const std::string why = drain_errors(ErrorQueue::first_reason);
        return ChainStatus{ChainProblem::untrusted, error == X509_V_OK ? X509_V_ERR_UNSPECIFIED : error,
                           X509_STORE_CTX_get_error_depth(ctx.get()),
                           detail::subject_of(leaf) + " could not be verified: " +
                               X509_verify_cert_error_string(error) + (why.empty() ? "" : " (" + why + ")")};
    }
    std::string text = "verified chain: ";
    auto valid_until = std::chrono::system_clock::time_point::max();
    const STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
    for (int i = 0; built != nullptr && i < sk_X509_num(built); ++i) {
        X509* cert = sk_X509_value(built, i);
        if (i != 0) text += " <- ";
        text += detail::subject_of(cert);
        valid_until = std::min(valid_until, detail::to_time_point(X509_get0_notAfter(cert)).value_or(at));
    }
    text += " (trusted)";
    // A CRL's thisUpdate or nextUpdate still ahead changes which CRL is
    // current, and so the outcome, then.
    for (const Ptr<X509_CRL>& crl : m_crls)
        for (const ASN1_TIME* time : {X509_CRL_get0_lastUpdate(crl.get()), X509_CRL_get0_nextUpdate(crl.get())})
            if (time != nullptr)
                if (const auto when = detail::to_time_point(time).value_or(at); when > at)
                    valid_until = std::min(valid_until, when);
    return ChainStatus{ChainProblem::none, X509_V_OK, -1, std::move(text), valid_until};
}

std::vector<CrlInfo> TrustStore::crls() const {
    std::vector<CrlInfo> out;
    out.reserve(m_crls.size());
    for (std::size_t i = 0; i < m_crls.size(); ++i) {
        const X509_CRL* crl = m_crls[i].get();
        CrlInfo info;
        info.issuer = to_name(X509_CRL_get_issuer(crl)).to_string();
        info.origin = m_crl_origins[i];
        info.last_update = detail::to_time_point(X509_CRL_get0_lastUpdate(crl)).value_or(TimePoint{});
        info.next_update = detail::to_time_point(X509_CRL_get0_nextUpdate(crl));
        out.push_back(std::move(info));
    }
    return out;
}

std::vector<std::string> TrustStore::stale_crls(std::chrono::system_clock::time_point at) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < m_crls.size(); ++i) {
        const X509_CRL* crl = m_crls[i].get();
        const std::string of = "CRL of " + to_name(X509_CRL_get_issuer(crl)).to_string();
        const auto next = detail::to_time_point(X509_CRL_get0_nextUpdate(crl));
        const auto last = detail::to_time_point(X509_CRL_get0_lastUpdate(crl));
        if (next && *next < at)
            out.push_back(m_crl_origins[i] + ": expired " + timestamp_text(*next) + " (next update), " + of +
                          "; certificates it covers are refused until it is renewed");
        else if (last && *last > at)
            out.push_back(m_crl_origins[i] + ": not valid before " + timestamp_text(*last) + " (last update), " + of);
    }
    return out;
}

} // namespace certauth::x509
