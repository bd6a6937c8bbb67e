// edge/ and bad/ of the test PKI (`pki init --edge-cases`): the inputs
// certauth's own tests read, described in fixtures/README.md.
#include "cli/test_pki_parts.hpp"

#include <certauth/x509/encoding.hpp>
#include <certauth/x509/key.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace certauth::cli::test_pki {
namespace {

using x509::AltName;
using x509::KeyType;

struct Edge {
    std::string stem;
    x509::Name subject;
    KeyType key = KeyType::rsa2048;
    std::string serial;
    std::vector<std::string> usages{"clientAuth"};
    std::vector<AltName> alt_names;
    bool aia = false;
    TimePoint until = utc(2049, 12, 31, 23, 59, 59);
};

std::vector<Edge> edges() {
    std::vector<Edge> out;
    auto add = [&out](std::string stem, x509::Name subject, std::string serial) -> Edge& {
        Edge& e = out.emplace_back();
        e.stem = std::move(stem);
        e.subject = std::move(subject);
        e.serial = std::move(serial);
        return e;
    };
    const auto cn = [](const std::string& name) { return x509::Name{{{"CN", name}}}; };
    add("multi-ou",
        x509::Name{{{"C", "GB"},
                    {"ST", "England"},
                    {"L", "London"},
                    {"O", "certauth"},
                    {"OU", "Engineering"},
                    {"OU", "Security"},
                    {"CN", "multi-ou"}}},
        "100C");
    add("utf8", x509::Name{{{"O", "certauth"}, {"CN", "Zo\u00eb \u00dcn\u00efc\u00f8d\u00e9 \u65e5\u672c"}}}, "100D");
    add("comma", x509::Name{{{"O", "certauth"}, {"CN", "Doe, John = admin"}}}, "100E");
    add("sans", x509::Name{{{"CN", "sans"}, {"emailAddress", "sans@example.org"}}}, "100F").alt_names = {
        {AltName::Kind::dns, "sans.example.org"},
        {AltName::Kind::dns, "*.sans.example.org"},
        {AltName::Kind::email, "sans@example.org"},
        {AltName::Kind::uri, "spiffe://example.org/ns/prod/sa/api"},
        {AltName::Kind::ip, "192.0.2.10"},
        {AltName::Kind::ip, "2001:db8::1"},
        {AltName::Kind::ip, "::1"}};
    add("aia", cn("aia"), "1010").aia = true;
    add("p384", cn("p384"), "1011").key = KeyType::p384;
    add("ed25519", cn("ed25519"), "1012").key = KeyType::ed25519;
    // The largest positive 20-byte serial RFC 5280 allows starts 0x7F.
    add("serial20", cn("serial20"), "7F0123456789ABCDEF0123456789ABCDEF012345");
    add("generalized", cn("generalized"), "1013").until = utc(2070, 1, 1);
    add("multi-eku", cn("multi-eku"), "1014").usages = {"clientAuth", "serverAuth", "emailProtection", "codeSigning"};
    return out;
}

// 4096 bytes that look random and are the same on every run: AES-128-CTR of
// zeros under the key 00 01 .. 0f and a zero IV.
Result<std::string> fixed_noise() {
    const x509::Ptr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
    const unsigned char key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const unsigned char iv[16] = {};
    const std::string zeros(4096, '\0');
    std::string out(zeros.size(), '\0');
    int written = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, key, iv) != 1 ||
        EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &written,
                          reinterpret_cast<const unsigned char*>(zeros.data()), static_cast<int>(zeros.size())) != 1 ||
        written != static_cast<int>(zeros.size()))
        return Error{"bad/random.bin: " + x509::drain_errors()};
    return out;
}

// `pem` with the first 8 characters of line 3 (inside the base64 body)
// replaced by characters outside the base64 alphabet.
std::string broken_base64(const std::string& pem) {
    std::istringstream in(pem);
    std::string out;
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        if (++number == 3 && line.size() >= 8) line.replace(0, 8, "!!!!****");
        out += line + '\n';
    }
    return out;
}

constexpr const char* k_users_syntax = R"({
  "users": [
    "joe",
    "bob" "carol"
  ]
}
)";
constexpr const char* k_users_wrong_type = R"({
  "users": [
    "joe",
    { "cn": 42, "name": "Number Example" }
  ]
}
)";
constexpr const char* k_users_no_match_key = R"({
  "users": [
    "joe",
    { "name": "Nobody Example", "roles": ["admin"] }
  ]
}
)";
constexpr const char* k_users_unknown_key = R"({
  "user": [
    "joe"
  ]
}
)";
constexpr const char* k_users_bad_route = R"({
  "users": [
    { "cn": "joe", "roles": ["admin"] }
  ],
  "routes": [
    { "path": "admin", "roles": ["admin"] }
  ]
}
)";
constexpr const char* k_not_a_ca = R"(This file holds no certificate: it is plain text given where a CA
certificate file was expected (certauth --ca bad/not-a-ca.pem).
)";

} // namespace

Result<void> add_edge_cases(const x509::Issuer& ca, const std::string& joe_crt, const std::string& joe_der,
                            const std::string& bob_key, std::vector<PkiFile>& files) {
    for (const Edge& edge : edges()) {
        Result<x509::Ptr<EVP_PKEY>> key = x509::generate_key(edge.key);
        if (!key) return Error{"edge/" + edge.stem + ".key: " + key.error().message};
        x509::CertificateSpec spec;
        spec.subject = edge.subject;
        spec.serial = edge.serial;
        spec.not_before = utc(2020, 1, 1);
        spec.not_after = edge.until;
        const bool rsa = edge.key == KeyType::rsa2048 || edge.key == KeyType::rsa3072;
        spec.key_usage = x509::KeyUsage{true, rsa, false, false};
        spec.extended_key_usage = edge.usages;
        spec.alt_names = edge.alt_names;
        if (edge.aia) {
            spec.ocsp_urls = {"http://ocsp.example.org/"};
            spec.ca_issuer_urls = {"http://ca.example.org/ca.crt"};
        }
        Result<x509::Ptr<X509>> cert = x509::make_certificate(spec, key->get(), ca);
        if (!cert) return Error{"edge/" + edge.stem + ".crt: " + cert.error().message};
        files.push_back({"edge/" + edge.stem + ".crt", x509::to_pem(cert->get())});
        files.push_back({"edge/" + edge.stem + ".key", x509::private_key_pem(key->get()), Secrecy::private_key});
    }

    Result<std::string> noise = fixed_noise();
    if (!noise) return Error{noise.error().message};
    files.push_back({"bad/empty.crt", ""});
    files.push_back({"bad/random.bin", std::move(*noise)});
    files.push_back({"bad/key-not-cert.pem", bob_key, Secrecy::private_key});
    files.push_back({"bad/truncated.der", joe_der.substr(0, joe_der.size() / 2)});
    files.push_back({"bad/broken-base64.pem", broken_base64(joe_crt)});
    files.push_back({"bad/trailing-garbage.pem", joe_crt + "this line is trailing junk, not PEM: <<<%%%>>>\n"});
    files.push_back({"bad/not-a-ca.pem", k_not_a_ca});
    files.push_back({"bad/users-syntax.json", k_users_syntax});
    files.push_back({"bad/users-wrong-type.json", k_users_wrong_type});
    files.push_back({"bad/users-no-match-key.json", k_users_no_match_key});
    files.push_back({"bad/users-unknown-key.json", k_users_unknown_key});
    files.push_back({"bad/users-bad-route.json", k_users_bad_route});
    return {};
}

} // namespace certauth::cli::test_pki
