// Certificate::node_object(): the object Node.js builds for a certificate
// (X509ToObject in src/crypto/crypto_common.cc, then translatePeerCertificate
// in lib/_tls_common.js), reproduced with the same OpenSSL calls so that the
// strings match byte for byte: tlsSocket.getPeerCertificate() and
// crypto.X509Certificate#toLegacyObject(), without raw and pubkey.
#include <certauth/x509/certificate.hpp>

#include "detail.hpp"

#include <cinttypes>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <openssl/core_names.h>
#include <openssl/ec.h>

namespace certauth::x509 {
namespace {

// Keys in the order Node writes them (JSON.stringify keeps insertion order).
using json = nlohmann::ordered_json;

std::string take(BIO* bio) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string out(data != nullptr && length > 0 ? std::string(data, static_cast<std::size_t>(length)) : "");
    (void)BIO_reset(bio);
    return out;
}

// Node's subject / issuer object: short names (dotted OIDs when unnamed),
// UTF-8 values unescaped, a repeated key becomes an array.
json name_object(const Name& name) {
    json out = json::object();
    for (const NameEntry& entry : name.entries) {
        auto it = out.find(entry.key);
        if (it == out.end()) {
            out[entry.key] = entry.value;
        } else {
            if (!it->is_array()) *it = json::array({*it});
            it->push_back(entry.value);
        }
    }
    return out;
}

// IsSafeAltName / PrintAltName of Node: values holding quotes, backslashes,
// commas, single quotes or control characters (and, outside UTF-8 strings,
// non-ASCII bytes) are written as a JSON string with the prefix inside it.
bool is_safe_alt_name(std::string_view name, bool utf8) {
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\' || c == ',' || c == '\'') return false;
        if (utf8 ? (u < 0x20 || u == 0x7f) : (u < 0x20 || u > 0x7e)) return false;
    }
    return true;
}

void print_alt_name(std::string& out, std::string_view name, bool utf8, const char* safe_prefix) {
    if (is_safe_alt_name(name, utf8)) {
        if (safe_prefix != nullptr) (out += safe_prefix) += ':';
        out += name;
        return;
    }
    out += '"';
    if (safe_prefix != nullptr) (out += safe_prefix) += ':';
    static constexpr char k_hex[] = "0123456789abcdef";
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if ((u >= 0x20 && c != ',' && u <= 0x7e) || (utf8 && (u & 0x80))) {
            out += c;
        } else {
            out += "\\u00";
            out += k_hex[u >> 4];
            out += k_hex[u & 0x0f];
        }
    }
    out += '"';
}

std::string_view bytes_of(const ASN1_STRING* s) {
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

// PrintGeneralName of Node.
bool print_general_name(std::string& out, const GENERAL_NAME* gen) {
    switch (gen->type) {
    case GEN_DNS:
        out += "DNS:";
        print_alt_name(out, bytes_of(gen->d.dNSName), false, nullptr);
        return true;
    case GEN_EMAIL:
        out += "email:";
        print_alt_name(out, bytes_of(gen->d.rfc822Name), false, nullptr);
        return true;
    case GEN_URI:
        out += "URI:";
        print_alt_name(out, bytes_of(gen->d.uniformResourceIdentifier), false, nullptr);
        return true;
    case GEN_DIRNAME: {
        out += "DirName:";
        const Ptr<BIO> bio(BIO_new(BIO_s_mem()));
        constexpr unsigned long k_flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB & ~ASN1_STRFLGS_ESC_CTRL;
        if (!bio || X509_NAME_print_ex(bio.get(), gen->d.dirn, 0, k_flags) < 0) return false;
        print_alt_name(out, take(bio.get()), true, nullptr);
        return true;
    }
    case GEN_IPADD: {
        out += "IP Address:";
        const std::string_view ip = bytes_of(gen->d.ip);
        char buf[64];
        const auto b = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(ip[i])); };
        if (ip.size() == 4) {
            std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b(0), b(1), b(2), b(3));
            out += buf;
        } else if (ip.size() == 16) {
            for (std::size_t j = 0; j < 8; ++j) {
                std::snprintf(buf, sizeof buf, j == 0 ? "%X" : ":%X", (b(2 * j) << 8) | b(2 * j + 1));
                out += buf;
            }
        } else {
            out += "<invalid length=" + std::to_string(ip.size()) + ">";
        }
        return true;
    }
    case GEN_RID: {
        char buf[256];
        OBJ_obj2txt(buf, sizeof buf, gen->d.rid, 1);
        (out += "Registered ID:") += buf;
        return true;
    }
    case GEN_OTHERNAME: {
        bool unicode = true;
        const char* prefix = nullptr;
        switch (OBJ_obj2nid(gen->d.otherName->type_id)) {
        case NID_id_on_SmtpUTF8Mailbox: prefix = "SmtpUTF8Mailbox"; break;
        case NID_XmppAddr: prefix = "XmppAddr"; break;
        case NID_SRVName:
            prefix = "SRVName";
            unicode = false;
            break;
        case NID_ms_upn: prefix = "UPN"; break;
        case NID_NAIRealm: prefix = "NAIRealm"; break;
        default: break;
        }
        const ASN1_TYPE* value = gen->d.otherName->value;
        const int type = value != nullptr ? value->type : -1;
        if (prefix == nullptr || (unicode && type != V_ASN1_UTF8STRING) || (!unicode && type != V_ASN1_IA5STRING)) {
            out += "othername:<unsupported>";
        } else {
            out += "othername:";
            print_alt_name(out, bytes_of(unicode ? value->value.utf8string : value->value.ia5string), unicode, prefix);
        }
        return true;
    }
    case GEN_X400: out += "X400Name:<unsupported>"; return true;
    case GEN_EDIPARTY: out += "EdiPartyName:<unsupported>"; return true;
    default: return false;
    }
}

// The extension's value as Node prints it; nullopt when absent, null when it
// does not decode (Node gives null then).
std::optional<json> subject_alt_name(X509* cert) {
    const int index = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1);
    if (index < 0) return std::nullopt;
    const Ptr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(X509_get_ext(cert, index))));
    if (!names) return json(nullptr);
    std::string out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        if (i != 0) out += ", ";
        if (!print_general_name(out, sk_GENERAL_NAME_value(names.get(), i))) return json(nullptr);
    }
    return json(out);
}

// translatePeerCertificate: every line "KEY:VALUE" (split at the first
// colon) adds VALUE to infoAccess[KEY]; a VALUE starting with a quote is a
// JSON string.
json info_access_object(std::string_view text) {
    json out = json::object();
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t end = std::min(text.find('\n', pos), text.size());
        const std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            const std::string key(line.substr(0, colon));
            json value = std::string(line.substr(colon + 1));
            if (line.size() > colon + 1 && line[colon + 1] == '"') {
                json parsed = json::parse(line.substr(colon + 1), nullptr, false);
                if (parsed.is_string()) value = std::move(parsed);
            }
            out[key].push_back(std::move(value));
        }
        if (end == text.size()) break;
    }
    return out;
}

std::optional<json> info_access(X509* cert) {
    const int index = X509_get_ext_by_NID(cert, NID_info_access, -1);
    if (index < 0) return std::nullopt;
    const Ptr<AUTHORITY_INFO_ACCESS> descs(
        static_cast<AUTHORITY_INFO_ACCESS*>(X509V3_EXT_d2i(X509_get_ext(cert, index))));
    if (!descs) return json(nullptr);
    std::string out;
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(descs.get()); ++i) {
        const ACCESS_DESCRIPTION* desc = sk_ACCESS_DESCRIPTION_value(descs.get(), i);
        if (i != 0) out += '\n';
        char method[80];
        i2t_ASN1_OBJECT(method, sizeof method, desc->method);
        (out += method) += " - ";
        if (!print_general_name(out, desc->location)) return json(nullptr);
    }
    return info_access_object(out);
}

std::optional<json> ext_key_usage(X509* cert) {
    const Ptr<EXTENDED_KEY_USAGE> eku(
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
    if (!eku) return std::nullopt;
    json out = json::array();
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
        char buf[256];
        if (OBJ_obj2txt(buf, sizeof buf, sk_ASN1_OBJECT_value(eku.get(), i), 1) >= 0) out.push_back(buf);
    }
    return out;
}

void add_key_fields(json& out, const EVP_PKEY* key, BIO* bio) {
    if (key == nullptr) return;
    if (EVP_PKEY_get_id(key) == EVP_PKEY_RSA) {
        BIGNUM* n_raw = nullptr;
        BIGNUM* e_raw = nullptr;
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n_raw);
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e_raw);
        const Ptr<BIGNUM> n(n_raw);
        const Ptr<BIGNUM> e(e_raw);
        if (!n || !e) return;
        BN_print(bio, n.get());
        out["modulus"] = take(bio);
        out["bits"] = BN_num_bits(n.get());
        char buf[32];
        std::snprintf(buf, sizeof buf, "0x%" PRIx64, static_cast<std::uint64_t>(BN_get_word(e.get())));
        out["exponent"] = buf;
    } else if (EVP_PKEY_get_id(key) == EVP_PKEY_EC) {
        if (const int bits = EVP_PKEY_get_bits(key); bits > 0) out["bits"] = bits;
        char group[80] = {};
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr) != 1) return;
        int nid = OBJ_sn2nid(group);
        if (nid == NID_undef) nid = EC_curve_nist2nid(group);
        if (nid == NID_undef) return;
        if (const char* sn = OBJ_nid2sn(nid)) out["asn1Curve"] = sn;
        if (const char* nist = EC_curve_nid2nist(nid)) out["nistCurve"] = nist;
    }
}

} // namespace

nlohmann::ordered_json Certificate::node_object() const {
    X509* cert = m_cert.get();
    const Ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio) throw std::bad_alloc();
    json out = json::object();
    out["subject"] = name_object(to_name(X509_get_subject_name(cert)));
    out["issuer"] = name_object(to_name(X509_get_issuer_name(cert)));
    if (auto san = subject_alt_name(cert)) out["subjectaltname"] = std::move(*san);
    if (auto aia = info_access(cert)) out["infoAccess"] = std::move(*aia);
    out["ca"] = X509_check_ca(cert) == 1;
    add_key_fields(out, X509_get0_pubkey(cert), bio.get());
    ASN1_TIME_print(bio.get(), X509_get0_notBefore(cert));
    out["valid_from"] = take(bio.get());
    ASN1_TIME_print(bio.get(), X509_get0_notAfter(cert));
    out["valid_to"] = take(bio.get());
    out["fingerprint"] = detail::fingerprint(cert, EVP_sha1());
    out["fingerprint256"] = detail::fingerprint(cert, EVP_sha256());
    out["fingerprint512"] = detail::fingerprint(cert, EVP_sha512());
    if (auto eku = ext_key_usage(cert)) out["ext_key_usage"] = std::move(*eku);
    out["serialNumber"] = detail::serial_hex(cert);
    drain_errors(ErrorQueue::first_reason); // leave OpenSSL's error queue empty
    return out;
}

} // namespace certauth::x509
