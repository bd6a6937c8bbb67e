#include "detail.hpp"

#include <certauth/ascii.hpp>

#include <certauth/x509/encoding.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <new>

#include <openssl/err.h>

namespace certauth::x509::detail {
namespace {

constexpr std::string_view k_whitespace = " \t\r\n\f\v";

std::string_view trim(std::string_view s) { return ascii::trim(s, k_whitespace); }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// A UTF-8 byte order mark, as Windows editors write at the start of a file;
// OpenSSL reads PEM after one too.
std::string_view without_bom(std::string_view text) {
    constexpr std::string_view k_bom = "\xEF\xBB\xBF";
    return starts_with(text, k_bom) ? text.substr(k_bom.size()) : text;
}

// Decodes the base64 text of one block (whitespace already removed).
Result<std::string> decode_base64(std::string_view text, const std::string& where) {
    Result<std::string> der = from_base64(text);
    if (!der) return Error{where + ": the base64 body " + der.error().message};
    return der;
}

} // namespace

int base64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", u);
    return buf;
}

bool looks_like_pem(std::string_view bytes) {
    bytes = without_bom(bytes);
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        const std::size_t end = std::min(bytes.find('\n', pos), bytes.size());
        if (starts_with(trim(bytes.substr(pos, end - pos)), "-----BEGIN")) return true;
        pos = end + 1;
    }
    return false;
}

Result<PemScan> scan_pem(std::string_view text, const std::vector<std::string_view>& decoded_labels) {
    text = without_bom(text);
    PemScan scan;
    bool inside = false;
    bool decoding = false;
    bool body_started = false;
    PemBlock block;
    std::string base64;
    std::size_t line_number = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = std::min(text.find('\n', pos), text.size());
        const std::string_view line = trim(text.substr(pos, end - pos));
        pos = end + 1;
        ++line_number;
        const std::string where = "line " + std::to_string(line_number);
        if (!inside) {
            if (starts_with(line, "-----BEGIN")) {
                if (!starts_with(line, "-----BEGIN ") || line.size() <= 16 || line.substr(line.size() - 5) != "-----")
                    return Error{where + ": malformed PEM BEGIN line"};
                block = PemBlock{std::string(line.substr(11, line.size() - 16)), line_number, {}};
                decoding = std::find(decoded_labels.begin(), decoded_labels.end(), block.label) != decoded_labels.end();
                inside = true;
                body_started = false;
                base64.clear();
                scan.trailing_line = 0;
            } else if (!line.empty() && !scan.blocks.empty() && scan.trailing_line == 0) {
                scan.trailing_line = line_number;
            }
            continue;
        }
        const std::string block_name = block.label + " block (line " + std::to_string(block.line) + ")";
        if (starts_with(line, "-----END")) {
            if (line != "-----END " + block.label + "-----")
                return Error{where + ": \"" + std::string(line) + "\" does not end the " + block_name};
            if (decoding) {
                auto der = decode_base64(base64, "line " + std::to_string(block.line) + ": " + block.label + " block");
                if (!der) return der.error();
                block.der = std::move(*der);
            }
            scan.blocks.push_back(std::move(block));
            block = PemBlock{};
            inside = false;
            continue;
        }
        if (starts_with(line, "-----BEGIN"))
            return Error{"line " + std::to_string(block.line) + ": the " + block.label +
                         " block has no END line (a new BEGIN line follows at line " + std::to_string(line_number) +
                         ")"};
        if (line.empty()) continue;
        // RFC 1421 headers (Proc-Type: ...) may precede the body.
        if (!body_started && line.find(':') != std::string_view::npos) continue;
        body_started = true;
        if (!decoding) continue;
        for (const char c : line) {
            if (c == ' ' || c == '\t') continue;
            if (base64_value(static_cast<unsigned char>(c)) < 0 && c != '=')
                return Error{where + ": invalid base64 character " + printable(c) + " in the " + block_name};
            base64 += c;
        }
    }
    if (inside)
        return Error{"line " + std::to_string(block.line) + ": the " + block.label +
                     " block has no END line (the input ends first)"};
    return scan;
}

std::optional<std::size_t> der_sequence_size(std::string_view bytes) {
    if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x30) return std::nullopt;
    const auto first = static_cast<unsigned char>(bytes[1]);
    if (first < 0x80) return 2 + static_cast<std::size_t>(first);
    const std::size_t count = first & 0x7f;
    if (count == 0 || count > 4 || bytes.size() < 2 + count) return std::nullopt;
    std::size_t length = 0;
    for (std::size_t i = 0; i < count; ++i)
        length = (length << 8) | static_cast<unsigned char>(bytes[2 + i]);
    return 2 + count + length;
}

std::optional<TimePoint> to_time_point(const ASN1_TIME* time) {
    std::tm tm{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
    using namespace std::chrono;
    const sys_days day = year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
                         std::chrono::day{static_cast<unsigned>(tm.tm_mday)};
    const sys_seconds at = day + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
    // system_clock counts nanoseconds: 1677-09-21 .. 2262-04-11. A
    // GeneralizedTime outside (RFC 5280's 99991231235959Z "no expiration
    // date", year 0001) saturates, which keeps every comparison with a
    // representable time right; converting it would overflow.
    if (at >= floor<seconds>(TimePoint::max())) return TimePoint::max();
    if (at <= ceil<seconds>(TimePoint::min())) return TimePoint::min();
    return time_point_cast<system_clock::duration>(at);
}

std::string subject_of(const X509* cert) { return to_name(X509_get_subject_name(cert)).to_string(); }
std::string issuer_of(const X509* cert) { return to_name(X509_get_issuer_name(cert)).to_string(); }

std::string serial_hex(const X509* cert) {
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
    if (serial == nullptr) return {};
    const Ptr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
    if (!bn) return {};
    const OsslString hex(BN_bn2hex(bn.get()));
    return hex ? std::string(hex.get()) : std::string();
}

std::string fingerprint(const X509* cert, const EVP_MD* md) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (X509_digest(cert, md, digest, &size) != 1) return {};
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(size * 3);
    for (unsigned int i = 0; i < size; ++i) {
        if (i != 0) out += ':';
        out += k_hex[digest[i] >> 4];
        out += k_hex[digest[i] & 0x0f];
    }
    return out;
}

Ptr<ASN1_STRING> to_asn1_time(TimePoint time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    Ptr<ASN1_STRING> out(ASN1_TIME_set(nullptr, seconds));
    if (!out) throw std::bad_alloc();
    return out;
}

Result<Ptr<ASN1_STRING>> to_asn1_serial(std::string_view hex) {
    const bool is_hex = !hex.empty() && hex.size() <= 40 && std::all_of(hex.begin(), hex.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    });
    if (!is_hex) return Error{"serial \"" + std::string(hex) + "\": expected 1 to 40 hex digits"};
    const std::string text(hex);
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, text.c_str()) == 0) throw std::bad_alloc();
    const Ptr<BIGNUM> bn(raw);
    if (BN_is_zero(bn.get())) return Error{"serial 0: a serial number must be positive"};
    Ptr<ASN1_STRING> out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!out) throw std::bad_alloc();
    return out;
}

const EVP_MD* signing_digest(const EVP_PKEY* key) {
    const int id = EVP_PKEY_get_base_id(key);
    return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? nullptr : EVP_sha256();
}

} // namespace certauth::x509::detail

namespace certauth::x509 {

Name to_name(const X509_NAME* name) {
    Name out;
    if (name == nullptr) return out;
    const int count = X509_NAME_entry_count(name);
    for (int i = 0; i < count; ++i) {
        const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT* object = X509_NAME_ENTRY_get_object(entry);
        NameEntry item;
        const int nid = OBJ_obj2nid(object);
        if (nid != NID_undef) {
            item.key = OBJ_nid2sn(nid);
        } else {
            char buf[128];
            OBJ_obj2txt(buf, sizeof buf, object, 1);
            item.key = buf;
        }
        unsigned char* utf8 = nullptr;
        const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
        const OsslString owned(reinterpret_cast<char*>(utf8));
        if (length >= 0) item.value.assign(owned.get(), static_cast<std::size_t>(length));
        out.entries.push_back(std::move(item));
    }
    return out;
}

} // namespace certauth::x509
