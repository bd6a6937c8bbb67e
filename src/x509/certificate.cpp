#include <certauth/x509/certificate.hpp>

#include "detail.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace certauth::x509 {
namespace {

constexpr std::size_t k_max_file_size = 64 * 1024 * 1024;

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

std::string ia5(const ASN1_STRING* s) {
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
    char buf[INET6_ADDRSTRLEN];
    const int length = ASN1_STRING_length(ip);
    const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
    if (family == 0 || inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf) == nullptr) return {};
    return buf;
}

std::string file_type_text(std::filesystem::file_type type) {
    switch (type) {
    case std::filesystem::file_type::fifo: return "a FIFO";
    case std::filesystem::file_type::character: return "a character device";
    case std::filesystem::file_type::block: return "a block device";
    case std::filesystem::file_type::socket: return "a socket";
    default: return "not a file";
    }
}

Result<Certificate> parse_der_certificate(std::string_view der, const std::string& where, bool trusted_aux) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    const auto* start = p;
    Ptr<X509> cert(trusted_aux ? d2i_X509_AUX(nullptr, &p, static_cast<long>(der.size()))
                               : d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert) return Error{where + ": not a valid X.509 certificate (" + drain_errors(ErrorQueue::first_reason) + ")"};
    const auto used = static_cast<std::size_t>(p - start);
    if (used != der.size())
        return Error{where + ": " + std::to_string(der.size() - used) + " unexpected bytes after the certificate"};
    // OpenSSL decodes a certificate's extensions (key identifiers, usages)
    // lazily, the first time a verification or a handshake needs them, and
    // other threads may read them without its lock meanwhile (TSan saw probe
    // --load's threads race on the client certificate's subject key
    // identifier). Decoded here, a loaded certificate is only ever read.
    if (X509_check_purpose(cert.get(), -1, 0) != 1) ERR_clear_error();
    return Certificate(std::move(cert));
}

Result<Chain> parse_pem(std::string_view bytes, const std::string& origin, std::string& no_certificate) {
    auto scan = detail::scan_pem(bytes, {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"});
    if (!scan) return Error{origin + ": " + scan.error().message};
    Chain chain;
    std::vector<std::string> others;
    for (const detail::PemBlock& block : scan->blocks) {
        if (block.der.empty()) {
            others.push_back(block.label);
            continue;
        }
        const std::string where = origin + ": line " + std::to_string(block.line) + ": " + block.label + " block";
        auto cert = parse_der_certificate(block.der, where, block.label == "TRUSTED CERTIFICATE");
        if (!cert) return cert.error();
        chain.push_back(std::move(*cert));
    }
    if (chain.empty()) {
        std::string what;
        if (others.size() == 1) {
            what = "a PEM " + others.front() + " block, not a certificate";
        } else {
            what = "PEM blocks ";
            for (std::size_t i = 0; i < others.size(); ++i)
                what += (i ? ", " : "") + others[i];
            what += "; none is a certificate";
        }
        no_certificate = what;
        return Error{origin + ": no certificate found (" + what + ")"};
    }
    if (scan->trailing_line != 0) {
        const bool last_is_cert = !scan->blocks.back().der.empty();
        return Error{origin + ": line " + std::to_string(scan->trailing_line) + ": trailing data after the last " +
                     (last_is_cert ? "certificate" : "PEM block")};
    }
    return chain;
}

Result<Chain> parse_der(std::string_view bytes, const std::string& origin, std::string& no_certificate) {
    const auto size = detail::der_sequence_size(bytes);
    if (!size) {
        const bool text = std::all_of(bytes.begin(), bytes.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u >= 0x20 || c == '\n' || c == '\r' || c == '\t';
        });
        no_certificate = text ? "text without a PEM \"-----BEGIN CERTIFICATE-----\" line"
                              : "neither PEM nor DER: binary data that is not an ASN.1 structure";
        return Error{origin + ": no certificate found (" + no_certificate + ")"};
    }
    if (*size > bytes.size())
        return Error{origin + ": truncated DER: the certificate's header announces " + std::to_string(*size) +
                     " bytes, the input has only " + std::to_string(bytes.size())};
    if (*size < bytes.size())
        return Error{origin + ": " + std::to_string(bytes.size() - *size) +
                     " bytes of trailing data after the DER certificate (a DER file holds exactly one certificate)"};
    auto cert = parse_der_certificate(bytes, origin, false);
    if (!cert) return cert.error();
    Chain chain;
    chain.push_back(std::move(*cert));
    return chain;
}

} // namespace

Certificate::Certificate(Ptr<X509> cert) : m_cert(std::move(cert)) {
    if (!m_cert) throw std::invalid_argument("Certificate: null X509");
}

Certificate::Certificate(const Certificate& other) : m_cert(share(other.m_cert.get())) {}

Certificate& Certificate::operator=(const Certificate& other) {
    if (this != &other) m_cert = share(other.m_cert.get());
    return *this;
}

CertFacts Certificate::facts() const {
    X509* cert = m_cert.get();
    CertFacts facts;
    facts.subject = to_name(X509_get_subject_name(cert));
    facts.issuer = to_name(X509_get_issuer_name(cert));
    const Ptr<GENERAL_NAMES> sans(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
        switch (name->type) {
        case GEN_DNS: facts.san_dns.push_back(ia5(name->d.dNSName)); break;
        case GEN_EMAIL: facts.san_email.push_back(ia5(name->d.rfc822Name)); break;
        case GEN_URI: facts.san_uri.push_back(ia5(name->d.uniformResourceIdentifier)); break;
        case GEN_IPADD:
            if (std::string ip = ip_text(name->d.iPAddress); !ip.empty()) facts.san_ip.push_back(std::move(ip));
            break;
        default: break;
        }
    }
    facts.serial = detail::serial_hex(cert);
    facts.fingerprint256 = detail::fingerprint(cert, EVP_sha256());
    facts.not_before = detail::to_time_point(X509_get0_notBefore(cert)).value_or(detail::TimePoint::max());
    facts.not_after = detail::to_time_point(X509_get0_notAfter(cert)).value_or(detail::TimePoint::min());
    return facts;
}

std::string Certificate::key_description() const {
    const EVP_PKEY* key = X509_get0_pubkey(m_cert.get());
    if (key == nullptr) return "unknown key";
    const std::string bits = std::to_string(EVP_PKEY_get_bits(key));
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: return "RSA " + bits;
    case EVP_PKEY_RSA_PSS: return "RSA-PSS " + bits;
    case EVP_PKEY_DSA: return "DSA " + bits;
    case EVP_PKEY_ED25519: return "Ed25519";
    case EVP_PKEY_ED448: return "Ed448";
    case EVP_PKEY_EC: {
        char group[80] = {};
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr) == 1) {
            const int nid = OBJ_sn2nid(group);
            const char* nist = nid != NID_undef ? EC_curve_nid2nist(nid) : nullptr;
            return std::string("EC ") + (nist ? nist : group);
        }
        return "EC " + bits;
    }
    default: break;
    }
    const char* name = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
    return std::string(name ? name : "unknown") + " " + bits;
}

namespace detail {

Result<Chain> parse_certificates(std::string_view bytes, const std::string& origin, std::string& no_certificate) {
    if (bytes.empty()) {
        no_certificate = "empty";
        return Error{origin + ": empty, no certificate found"};
    }
    if (bytes.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos) {
        no_certificate = "only whitespace";
        return Error{origin + ": no certificate found (only whitespace)"};
    }
    Result<Chain> chain =
        looks_like_pem(bytes) ? parse_pem(bytes, origin, no_certificate) : parse_der(bytes, origin, no_certificate);
    drain_errors(ErrorQueue::first_reason); // leave OpenSSL's error queue empty
    return chain;
}

} // namespace detail

Result<Chain> parse_chain(std::string_view bytes, std::string_view origin) {
    std::string no_certificate;
    return detail::parse_certificates(bytes, std::string(origin), no_certificate);
}

std::string source_name(const std::filesystem::path& path) {
    return path == "-" ? std::string("standard input") : path.string();
}

Result<std::string> read_file(const std::filesystem::path& path) {
    if (path == "-") {
        std::string data;
        char buf[65536];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
            data.append(buf, n);
            if (data.size() > k_max_file_size) return Error{"standard input: more than 64 MiB, not a certificate file"};
        }
        if (std::ferror(stdin)) return Error{std::string("standard input: read error: ") + std::strerror(errno)};
        return data;
    }
    const std::string name = path.string();
    if (name.empty()) return Error{"an empty file name was given where a file was expected"};
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) return Error{name + ": no such file"};
    if (status.type() == std::filesystem::file_type::directory) return Error{name + ": is a directory, not a file"};
    // Only regular files: a FIFO would block the reader (the server's
    // control thread, which also handles signals) until someone writes, and
    // a device such as /dev/zero never ends. Standard input is "-".
    if (status.type() != std::filesystem::file_type::regular)
        return Error{name + ": not a regular file (" + file_type_text(status.type()) +
                     "); give a file, or - for standard input"};
    const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(name.c_str(), "rb"));
    if (!file) return Error{name + ": cannot open: " + std::strerror(errno)};
    std::string data;
    char buf[65536];
    std::size_t n = 0;
    bool too_large = false;
    errno = 0;
    while ((n = std::fread(buf, 1, sizeof buf, file.get())) > 0) {
        data.append(buf, n);
        if (data.size() > k_max_file_size) {
            too_large = true;
            break;
        }
    }
    const bool failed = std::ferror(file.get()) != 0;
    const int saved_errno = errno;
    if (too_large) return Error{name + ": larger than 64 MiB, not a certificate, key or user list file"};
    if (failed) return Error{name + ": read error: " + std::strerror(saved_errno)};
    return data;
}

Result<Chain> load_chain(const std::filesystem::path& path) {
    const std::string origin = source_name(path);
    auto bytes = read_file(path);
    if (!bytes) return bytes.error();
    if (bytes->empty()) return Error{origin + ": empty file, no certificate found"};
    return parse_chain(*bytes, origin);
}

} // namespace certauth::x509
