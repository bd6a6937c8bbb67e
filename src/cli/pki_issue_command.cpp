// `certauth pki issue DIR --out STEM --cn NAME`: one more certificate from
// the CA (or the intermediate) of a test PKI that `pki init` wrote.
#include "cli/check_time.hpp"
#include "cli/commands.hpp"
#include "cli/number_checks.hpp"
#include "cli/output.hpp"
#include "cli/pki_files.hpp"

#include <certauth/x509/certificate.hpp>
#include <certauth/x509/certificate_spec.hpp>
#include <certauth/x509/encoding.hpp>
#include <certauth/x509/key.hpp>
#include <certauth/x509/pkcs12.hpp>
#include <certauth/x509/time_text.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace certauth::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

struct IssueOptions {
    std::string dir;
    std::string out;
    std::string cn;
    std::vector<std::string> organisations;
    std::vector<std::string> units;
    std::vector<std::string> sans;
    std::vector<std::string> usages{"clientAuth"};
    std::string not_before;
    std::string not_after;
    int days = 365;
    std::string key_type;
    bool intermediate = false;
    std::string p12_password = "certauth";
    bool force = false;
};

constexpr const char* k_footer = R"(Writes STEM.crt, STEM.key, STEM.pem (both) and STEM.p12 (with the intermediate,
when --intermediate; then also STEM-chain.pem, leaf first). Serial: 16 random bytes.
Times: ISO 8601 (2030-01-01, 2030-01-01T12:00:00Z) or @EPOCH-SECONDS.

Examples:
  certauth pki issue pki --out pki/alice --cn alice --san email:alice@example.org,uri:spiffe://example.org/alice
  certauth pki issue pki --out pki/soon --cn soon --not-before 2030-01-01 --days 30
  certauth pki issue pki --out pki/api --cn api --eku serverAuth --san dns:api.internal --intermediate
Read next: docs/pki.md)";

int fail(const std::string& message) {
    print_error(message);
    return 2;
}

int run_issue(const IssueOptions& o) {
    const Clock::time_point now = Clock::now(); // the one clock read
    const fs::path dir(o.dir);
    const std::string stem = o.intermediate ? "sub-ca" : "ca";
    Result<x509::Chain> issuer_chain = x509::load_chain(dir / (stem + ".crt"));
    if (!issuer_chain) return fail(issuer_chain.error().message + " (is " + o.dir + " a folder `pki init` wrote?)");
    Result<x509::Ptr<EVP_PKEY>> issuer_key = x509::load_private_key(dir / (stem + ".key"));
    if (!issuer_key) return fail(issuer_key.error().message);
    const X509* issuer_cert = issuer_chain->front().native();
    if (X509_check_private_key(issuer_cert, issuer_key->get()) != 1) {
        (void)x509::drain_errors();
        return fail((dir / (stem + ".key")).string() + " is not the key of " + (dir / (stem + ".crt")).string());
    }

    x509::CertificateSpec spec;
    for (const std::string& o_value : o.organisations)
        spec.subject.entries.push_back({"O", o_value});
    for (const std::string& unit : o.units)
        spec.subject.entries.push_back({"OU", unit});
    spec.subject.entries.push_back({"CN", o.cn});
    spec.not_before = std::chrono::floor<std::chrono::seconds>(now) - std::chrono::hours(1);
    if (!o.not_before.empty()) {
        const auto at = parse_time(o.not_before, now);
        if (!at)
            return fail("--not-before: cannot read \"" + o.not_before + "\" as a time; use ISO 8601, e.g. 2030-01-01");
        spec.not_before = *at;
    }
    spec.not_after = spec.not_before + std::chrono::days(o.days);
    if (!o.not_after.empty()) {
        const auto at = parse_time(o.not_after, now);
        if (!at)
            return fail("--not-after: cannot read \"" + o.not_after + "\" as a time; use ISO 8601, e.g. 2030-01-01");
        spec.not_after = *at;
    }
    for (const std::string& text : o.sans) {
        Result<x509::AltName> alt = x509::parse_alt_name(text);
        if (!alt) return fail("--san: " + alt.error().message);
        spec.alt_names.push_back(*alt);
    }
    spec.extended_key_usage = o.usages;

    x509::KeyType key_type = x509::KeyType::rsa2048;
    if (!o.key_type.empty())
        key_type = *x509::parse_key_type(o.key_type);
    else if (const auto same = x509::key_type_of(issuer_key->get()))
        key_type = *same; // the CA's kind, as `pki init --key-type` made it
    const bool rsa = key_type == x509::KeyType::rsa2048 || key_type == x509::KeyType::rsa3072;
    spec.key_usage = x509::KeyUsage{true, rsa, false, false};

    Result<x509::Ptr<EVP_PKEY>> key = x509::generate_key(key_type);
    if (!key) return fail(key.error().message);
    Result<x509::Ptr<X509>> cert = x509::make_certificate(spec, key->get(), {issuer_cert, issuer_key->get()});
    if (!cert) return fail(cert.error().message);

    std::vector<const X509*> intermediates;
    if (o.intermediate) intermediates.push_back(issuer_cert);
    const std::string name = fs::path(o.out).filename().string();
    Result<std::string> p12 = x509::make_pkcs12(cert->get(), key->get(), intermediates, name, o.p12_password);
    if (!p12) return fail(p12.error().message);

    const std::string crt = x509::to_pem(cert->get());
    const std::string key_pem = x509::private_key_pem(key->get());
    std::vector<PkiFile> files{{o.out + ".crt", crt},
                               {o.out + ".key", key_pem, Secrecy::private_key},
                               {o.out + ".pem", crt + key_pem, Secrecy::private_key},
                               {o.out + ".p12", *p12, Secrecy::private_key}};
    if (o.intermediate) files.push_back({o.out + "-chain.pem", crt + x509::to_pem(issuer_cert)});
    if (Result<void> written = write_pki_files(".", files, o.force ? Overwrite::allow : Overwrite::refuse); !written)
        return fail(written.error().message);

    const x509::CertFacts facts = x509::Certificate(x509::share(cert->get())).facts();
    std::printf("certauth: wrote %s.crt, .key, .pem, .p12%s: %s, issued by %s, serial %s, valid %s .. %s\n",
                o.out.c_str(), o.intermediate ? ", -chain.pem" : "",
                x509::escape_control_characters(facts.subject.to_string()).c_str(),
                x509::escape_control_characters(facts.issuer.to_string()).c_str(), facts.serial.c_str(),
                x509::timestamp_text(facts.not_before).c_str(), x509::timestamp_text(facts.not_after).c_str());
    return 0;
}

} // namespace

Command add_pki_issue_command(CLI::App& pki) {
    CLI::App* cmd = pki.add_subcommand("issue", "Issue one more certificate from DIR's CA (or its intermediate)");
    auto o = std::make_shared<IssueOptions>();
    cmd->add_option("DIR", o->dir, "a folder `certauth pki init` wrote (its ca.crt and ca.key sign)")
        ->type_name("")
        ->required();
    cmd->add_option("--out", o->out, "where to write: STEM.crt, STEM.key, STEM.pem, STEM.p12")
        ->type_name("STEM")
        ->required();
    cmd->add_option("--cn", o->cn, "subject common name")->type_name("NAME")->required();
    cmd->add_option("--o", o->organisations, "subject organisation (O); repeatable")
        ->type_name("ORG")
        ->allow_extra_args(false);
    cmd->add_option("--ou", o->units, "subject organisational unit (OU); repeatable")
        ->type_name("UNIT")
        ->allow_extra_args(false);
    cmd->add_option("--san", o->sans, "subject alternative names: dns:NAME, ip:ADDRESS, uri:URI, email:ADDRESS")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->type_name("KIND:VALUE,...");
    cmd->add_option("--eku", o->usages,
                    "extended key usages: clientAuth, serverAuth, emailProtection, codeSigning, timeStamping, "
                    "OCSPSigning or an OID")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->type_name("USAGE,...")
        ->capture_default_str();
    cmd->add_option("--not-before", o->not_before, "start of validity (default: an hour ago)")->type_name("TIME");
    CLI::Option* not_after =
        cmd->add_option("--not-after", o->not_after, "end of validity (default: --days after the start)")
            ->type_name("TIME");
    cmd->add_option("--days", o->days, "validity in days from the start")
        ->check(count_in(1, 36500))
        ->capture_default_str()
        ->excludes(not_after);
    cmd->add_option("--key-type", o->key_type, "key of the new certificate (default: the same kind as the CA's)")
        ->check(CLI::IsMember({"rsa2048", "rsa3072", "p256", "p384", "ed25519"}));
    cmd->add_flag("--intermediate", o->intermediate, "issue from sub-ca (DIR/sub-ca.crt, sub-ca.key) instead of ca");
    cmd->add_option("--p12-password", o->p12_password, "password of STEM.p12")->capture_default_str();
    cmd->add_flag("--force", o->force, "overwrite STEM's files when they exist");
    cmd->footer(k_footer);
    return {cmd, [o] { return run_issue(*o); }};
}

} // namespace certauth::cli
