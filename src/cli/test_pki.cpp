#include "cli/test_pki.hpp"

#include "cli/test_pki_parts.hpp"

#include <certauth/x509/certificate.hpp>
#include <certauth/x509/certificate_spec.hpp>
#include <certauth/x509/crl_spec.hpp>
#include <certauth/x509/encoding.hpp>
#include <certauth/x509/pkcs12.hpp>

#include <stdexcept>
#include <tuple>
#include <utility>

namespace certauth::cli {
namespace test_pki {

TimePoint utc(int year, unsigned month, unsigned day, int hour, int minute, int second) {
    using namespace std::chrono;
    return sys_days{std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day}} + hours{hour} +
           minutes{minute} + seconds{second};
}

} // namespace test_pki

namespace {

using namespace test_pki;
using x509::KeyType;

// A step that failed: carried out of the builder to make_test_pki(), which
// returns it as the Error it is.
struct Failed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <class T>
T need(Result<T> result, const std::string& what) {
    if (!result) throw Failed(what + ": " + result.error().message);
    return std::move(*result);
}

struct Made {
    x509::Ptr<EVP_PKEY> key;
    x509::Ptr<X509> cert;
    x509::Issuer issuer() const { return {cert.get(), key.get()}; }
};

bool is_rsa(KeyType type) { return type == KeyType::rsa2048 || type == KeyType::rsa3072; }

x509::CertificateSpec ca_spec(const std::string& cn, const std::string& serial, const Windows& w,
                              std::optional<int> path_length) {
    x509::CertificateSpec spec;
    spec.subject.entries = {{"O", "certauth"}, {"CN", cn}};
    spec.serial = serial;
    spec.not_before = w.ca_from;
    spec.not_after = w.ca_until;
    spec.ca = true;
    spec.path_length = path_length;
    spec.key_usage = x509::KeyUsage{false, false, true, true};
    return spec;
}

x509::CertificateSpec leaf_spec(x509::Name subject, const std::string& serial, TimePoint from, TimePoint until,
                                KeyType key, const std::string& usage) {
    x509::CertificateSpec spec;
    spec.subject = std::move(subject);
    spec.serial = serial;
    spec.not_before = from;
    spec.not_after = until;
    spec.key_usage = x509::KeyUsage{true, is_rsa(key), false, false};
    spec.extended_key_usage = {usage};
    return spec;
}

x509::Name cn_only(const std::string& cn) { return x509::Name{{{"CN", cn}}}; }

class Builder {
  public:
    Builder(const TestPkiOptions& options, std::vector<PkiFile>& files) : m_options(options), m_files(files) {}

    Made self_signed(const std::string& stem, const x509::CertificateSpec& spec) {
        Made made;
        made.key = need(x509::generate_key(m_options.key_type), stem + ".key");
        made.cert = need(x509::make_self_signed(spec, made.key.get()), stem + ".crt");
        add_pair(stem, made);
        return made;
    }

    Made issued(const std::string& stem, const x509::CertificateSpec& spec, KeyType key, const Made& by) {
        Made made;
        made.key = need(x509::generate_key(key), stem + ".key");
        made.cert = need(x509::make_certificate(spec, made.key.get(), by.issuer()), stem + ".crt");
        add_pair(stem, made);
        return made;
    }

    // A client: STEM.crt, .key, .pem (certificate + key) and .p12 (with the intermediates).
    Made client(const std::string& stem, const x509::CertificateSpec& spec, KeyType key, const Made& by,
                const std::vector<const X509*>& intermediates = {}) {
        Made made = issued(stem, spec, key, by);
        add(stem + ".pem", x509::to_pem(made.cert.get()) + x509::private_key_pem(made.key.get()), Secrecy::private_key);
        add(stem + ".p12",
            need(x509::make_pkcs12(made.cert.get(), made.key.get(), intermediates, stem, m_options.p12_password),
                 stem + ".p12"),
            Secrecy::private_key);
        return made;
    }

    void crl(const std::string& file, const x509::CrlSpec& spec, const Made& by) {
        const x509::Ptr<X509_CRL> crl = need(x509::make_crl(spec, by.issuer()), file);
        add(file, x509::to_pem(crl.get()));
        if (file == "ca.crl") add("ca.crl.der", x509::to_der(crl.get()));
    }

    void add(const std::string& path, std::string content, Secrecy secrecy = Secrecy::none) {
        m_files.push_back(PkiFile{path, std::move(content), secrecy});
    }

    std::string text_of(const std::string& path) const {
        for (const PkiFile& file : m_files)
            if (file.path == path) return file.content;
        throw std::logic_error("test PKI: no file " + path);
    }

  private:
    void add_pair(const std::string& stem, const Made& made) {
        add(stem + ".crt", x509::to_pem(made.cert.get()));
        add(stem + ".key", x509::private_key_pem(made.key.get()), Secrecy::private_key);
    }

    const TestPkiOptions& m_options;
    std::vector<PkiFile>& m_files;
};

Windows windows_for(const TestPkiOptions& options, TimePoint now) {
    Windows w{utc(2000, 1, 1), utc(2060, 1, 1), utc(2020, 1, 1), utc(2049, 12, 31, 23, 59, 59)};
    if (options.days) {
        w.leaf_from = std::chrono::floor<std::chrono::seconds>(now) - std::chrono::hours(1);
        w.leaf_until = w.leaf_from + std::chrono::days(*options.days);
    }
    return w;
}

std::vector<PkiFile> build(const TestPkiOptions& options, TimePoint now) {
    if (options.server_names.empty()) throw Failed("--server-names: at least one name is needed");
    const Windows w = windows_for(options, now);
    const KeyType key = options.key_type;
    std::vector<PkiFile> files;
    Builder b(options, files);

    // Serial numbers as the fixtures have always had them: 1000.. from the
    // root, 2000.. from the intermediate, 3000.. from the rogue CA.
    const Made ca = b.self_signed("ca", ca_spec("certauth test CA", "1000", w, std::nullopt));
    const Made sub = b.issued("sub-ca", ca_spec("certauth test intermediate CA", "1001", w, 0), key, ca);
    const Made rogue_ca = b.self_signed("rogue-ca", ca_spec("certauth rogue CA", "3000", w, std::nullopt));

    for (const auto& [stem, serial, server_key] :
         {std::tuple{"server", "1002", key}, std::tuple{"server-ec", "1003", KeyType::p256}}) {
        x509::CertificateSpec spec = leaf_spec(cn_only(options.server_names.front()), serial, w.leaf_from, w.leaf_until,
                                               server_key, "serverAuth");
        for (const std::string& name : options.server_names)
            spec.alt_names.push_back(x509::alt_name_for_host(name));
        const Made server = b.issued(stem, spec, server_key, ca);
        if (std::string(stem) == "server")
            b.add("server.pem", x509::to_pem(server.cert.get()) + x509::private_key_pem(server.key.get()),
                  Secrecy::private_key);
    }

    auto client = [&](const std::string& stem, x509::Name subject, const std::string& serial, TimePoint from,
                      TimePoint until, KeyType client_key = KeyType::rsa2048, const std::string& usage = "clientAuth",
                      const Made* by = nullptr) {
        return b.client(stem, leaf_spec(std::move(subject), serial, from, until, client_key, usage), client_key,
                        by ? *by : ca,
                        by == &sub ? std::vector<const X509*>{sub.cert.get()} : std::vector<const X509*>{});
    };
    const Made joe = client("joe", cn_only("joe"), "1004", w.leaf_from, w.leaf_until, key);
    client("bob", cn_only("bob"), "1005", w.leaf_from, w.leaf_until, key);
    client("expired", cn_only("expired"), "1006", utc(2020, 1, 1), utc(2021, 1, 1), key);
    client("notyet", cn_only("notyet"), "1007", utc(2090, 1, 1), utc(2099, 1, 1), key);
    const Made revoked = client("revoked", cn_only("revoked"), "1008", w.leaf_from, w.leaf_until, key);
    client("serveronly", cn_only("serveronly"), "1009", w.leaf_from, w.leaf_until, key, "serverAuth");
    const Made dave = client("dave", cn_only("dave"), "100A", w.leaf_from, w.leaf_until, KeyType::p256);
    client("hostile", x509::Name{{{"O", "<img src=x onerror=alert(1)>"}, {"CN", "<script>alert(1)</script>"}}}, "100B",
           w.leaf_from, w.leaf_until, key);
    client("rogue", cn_only("joe"), "3001", w.leaf_from, w.leaf_until, key, "clientAuth", &rogue_ca);
    client("carol", cn_only("carol"), "2000", w.leaf_from, w.leaf_until, key, "clientAuth", &sub);
    b.add("carol-chain.pem", b.text_of("carol.crt") + b.text_of("sub-ca.crt"));
    b.add("joe.der", x509::to_der(joe.cert.get()));

    const x509::Revocation revocation{x509::Certificate(x509::share(revoked.cert.get())).facts().serial,
                                      utc(2020, 1, 1)};
    b.crl("ca-expired.crl", x509::CrlSpec{utc(2000, 1, 1), utc(2001, 1, 1), 1, {revocation}}, ca);
    b.crl("ca.crl", x509::CrlSpec{utc(2000, 1, 1), utc(2060, 1, 1), 2, {revocation}}, ca);
    b.crl("sub-ca.crl", x509::CrlSpec{utc(2000, 1, 1), utc(2060, 1, 1), 1, {}}, sub);
    b.crl("rogue-ca.crl", x509::CrlSpec{utc(2000, 1, 1), utc(2060, 1, 1), 1, {}}, rogue_ca);
    b.add("all.crl", b.text_of("ca.crl") + b.text_of("sub-ca.crl"));

    if (options.edge_cases) {
        const Result<void> edge =
            add_edge_cases(ca.issuer(), b.text_of("joe.crt"), b.text_of("joe.der"), b.text_of("bob.key"), files);
        if (!edge) throw Failed(edge.error().message);
    }

    const std::string dave_fingerprint = x509::Certificate(x509::share(dave.cert.get())).facts().fingerprint256;
    b.add("users.json", users_json(dave_fingerprint));
    b.add("scenarios.json", scenarios_json(options.server_names.front()));
    b.add("scenarios-require-cert.json", scenarios_require_cert_json(options.server_names.front()));
    b.add("certauth.toml", certauth_toml());
    b.add("README.md", readme(options, w));
    return files;
}

} // namespace

Result<std::vector<PkiFile>> make_test_pki(const TestPkiOptions& options, TimePoint now) {
    try {
        return build(options, now);
    } catch (const Failed& failed) {
        return Error{failed.what()};
    }
}

} // namespace certauth::cli
