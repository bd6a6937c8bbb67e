// certauth check FILE...: the decision serve would make, offline, for
// certificate files (docs/check.md). Options in, policy::evaluate per file
// (or, with --each, per certificate of a file), one line of output per
// decision, exit code out.
#include "cli/check_time.hpp"
#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/output.hpp"
#include "cli/trust_options.hpp"

#include <certauth/json_text.hpp>
#include <certauth/server/header_certificate.hpp>

#include <certauth/x509/time_text.hpp>

#include <certauth/policy/decide.hpp>
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/facts.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace certauth::cli {
using policy::Reason;
namespace {

using Clock = std::chrono::system_clock;

struct CheckOptions {
    std::vector<std::string> files;
    TrustOptions trust;
    std::string at;
    bool each = false; // every certificate of a file on its own, not the file as one chain
    bool json = false;
    bool quiet = false;
    bool verbose = false;
    // A trusted proxy's header instead of files (--header-format, --header-value).
    std::string header_format;
    std::vector<std::string> header_values; // field lines; "-": standard input
    std::vector<std::string> header_chain;  // rfc9440: the NAME-Chain field lines
};

// What check concluded for one file.
enum class Outcome { authorised, authenticated, inspected, denied, error };

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
    case Outcome::authorised: return "authorised";
    case Outcome::authenticated: return "authenticated";
    case Outcome::inspected: return "inspected";
    case Outcome::denied: return "denied";
    case Outcome::error: return "error";
    }
    return "error";
}

Outcome outcome_of(const policy::Decision& decision) {
    switch (decision.verdict) {
    case policy::Verdict::authorised: return Outcome::authorised;
    case policy::Verdict::authenticated: return Outcome::authenticated;
    case policy::Verdict::inspected: return Outcome::inspected;
    case policy::Verdict::public_route: // check has no routes; never produced here
    case policy::Verdict::denied: return Outcome::denied;
    }
    return Outcome::denied;
}

// Its implicit moves are noexcept, as nlohmann::json's are; clang-tidy 14 finds a throwing path inside
// json's move (json_value's constructors allocate for other value types), which a move never takes.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct FileResult {
    std::string file;
    std::size_t index = 0; // the checked certificate's place in the file, from 1; 0 for a file in error
    bool each = false;     // one of the certificates of a file checked on its own (--each)
    Outcome outcome = Outcome::error;
    std::optional<Reason> reason; // denied: the decision's; error: malformed when no certificate could be parsed
    policy::Decision decision;
    x509::Chain chain;
    std::string message; // error: what went wrong, naming the file
};

// The certificate a proxy's header holds, decided as serve --listen-trusted
// decides it: one result named "header", in error (malformed) when it does
// not decode, denied no_certificate when it is empty.
FileResult check_header(const CheckOptions& options, const x509::TrustStore* store, const policy::UserList* users,
                        Clock::time_point at);

// The file's certificates after the first, used as untrusted intermediates
// when the file is checked as one chain.
std::size_t intermediates(const FileResult& r) { return r.chain.empty() ? 0 : r.chain.size() - 1; }

// Whether each certificate of the chain is issued by the next one, as in a
// chain file (leaf, then its intermediates); a CA bundle or a file of
// several leaves is not.
bool linked(const x509::Chain& chain) {
    for (std::size_t i = 0; i + 1 < chain.size(); ++i)
        if (chain[i].facts().issuer.to_string() != chain[i + 1].facts().subject.to_string()) return false;
    return true;
}

// Reads and parses `file`: its chain, or a result in error (unreadable or
// malformed) that stands for the whole file.
Result<x509::Chain> read_chain(const std::string& file, FileResult& failed) {
    failed.file = file;
    Result<std::string> bytes = x509::read_file(file);
    if (!bytes) {
        failed.message = bytes.error().message;
        return bytes.error();
    }
    const std::string origin = x509::source_name(file);
    Result<x509::Chain> chain = bytes->empty()
                                    ? Result<x509::Chain>(Error{origin + ": empty file, no certificate found"})
                                    : x509::parse_chain(*bytes, origin);
    if (!chain) {
        failed.reason = Reason::malformed;
        failed.message = chain.error().message;
    }
    return chain;
}

FileResult check_chain(const std::string& file, std::size_t index, x509::Chain chain, const x509::TrustStore* store,
                       const policy::UserList* users, Clock::time_point at) {
    FileResult result;
    result.file = file;
    result.index = index;
    result.chain = std::move(chain);
    result.decision = policy::evaluate(result.chain, store, users, at);
    result.outcome = outcome_of(result.decision);
    if (result.outcome == Outcome::denied) result.reason = result.decision.reason;
    return result;
}

// One result for the file (its certificates one chain, leaf first), or with
// `each` one per certificate, each a chain of its own.
std::vector<FileResult> check_file(const std::string& file, bool each, const x509::TrustStore* store,
                                   const policy::UserList* users, Clock::time_point at) {
    FileResult failed;
    Result<x509::Chain> chain = read_chain(file, failed);
    if (!chain) return {std::move(failed)};
    if (!each) return {check_chain(file, 1, std::move(*chain), store, users, at)};
    std::vector<FileResult> results;
    results.reserve(chain->size());
    for (std::size_t i = 0; i < chain->size(); ++i) {
        results.push_back(check_chain(file, i + 1, x509::Chain{(*chain)[i]}, store, users, at));
        results.back().each = true;
    }
    return results;
}

std::string json_line(const FileResult& r, const std::optional<std::string>& config) {
    nlohmann::ordered_json line;
    line["file"] = r.file;
    line["index"] = r.index == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.index);
    line["outcome"] = to_string(r.outcome);
    line["reason"] = r.reason ? nlohmann::ordered_json(to_string(*r.reason)) : nlohmann::ordered_json(nullptr);
    line["user"] = r.outcome == Outcome::authorised && r.decision.user ? nlohmann::ordered_json(*r.decision.user)
                                                                       : nlohmann::ordered_json(nullptr);
    line["certificate"] = nullptr;
    if (!r.chain.empty()) line["certificate"] = r.chain.front().node_object();
    line["intermediates"] =
        r.outcome == Outcome::error ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(intermediates(r));
    const std::string& detail = r.outcome == Outcome::error ? r.message : r.decision.detail;
    line["detail"] = detail.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(detail);
    line["config"] = config ? nlohmann::ordered_json(*config) : nlohmann::ordered_json(nullptr);
    return json_text(line);
}

struct Style {
    bool colour = false;
    std::string good(std::string_view text) const { return paint("32", text); }
    std::string bad(std::string_view text) const { return paint("31", text); }
    std::string dim(std::string_view text) const { return paint("2", text); }

  private:
    std::string paint(std::string_view code, std::string_view text) const {
        if (!colour) return std::string(text);
        return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
    }
};

// Certificate fields are the sender's to choose: their control characters
// (terminal escape sequences) are shown as \XX, never sent to the terminal.
std::string printable(std::string_view text) { return x509::escape_control_characters(text); }

// The message without a leading "FILE: " (the line already starts with it).
std::string without_origin(const std::string& message, const std::string& file) {
    const std::string origin = x509::source_name(file);
    if (message.rfind(origin + ": ", 0) == 0) return message.substr(origin.size() + 2);
    return message;
}

std::string human_line(const FileResult& r, Clock::time_point at, const Style& style, bool verbose) {
    const bool ok = r.outcome != Outcome::denied && r.outcome != Outcome::error;
    std::string line = ok ? style.good("✔") : style.bad("✘");
    line += ' ';
    line += printable(r.file);
    if (r.each) line += " #" + std::to_string(r.index);
    line += "  ";
    if (r.outcome == Outcome::error) {
        line += style.bad("error: " + printable(without_origin(r.message, r.file)));
        return line + '\n';
    }
    if (r.outcome == Outcome::denied)
        line += style.bad("denied: " + std::string(to_string(r.decision.reason)));
    else
        line += style.good(to_string(r.outcome));
    if (r.chain.empty()) // a proxy's header without a certificate (--header-format)
        return line + " — " + printable(r.decision.detail) + '\n';

    const x509::CertFacts facts = r.chain.front().facts();
    const std::string cn = facts.cn();
    line += "  ";
    line += printable(
        cn.empty() ? "subject " + (facts.subject.entries.empty() ? std::string("(empty)") : facts.subject.to_string())
                   : "CN=" + cn);
    const std::string issuer = facts.issuer_cn();
    line += "  issuer ";
    line += printable(issuer.empty() ? facts.issuer.to_string() : "CN=" + issuer);
    line += facts.not_after < at ? "  expired " : "  expires ";
    line += x509::date_text(facts.not_after);
    if (const std::size_t more = intermediates(r); more > 0) {
        line += more == 1 ? "  (+1 more certificate in the file, used as an intermediate"
                          : "  (+" + std::to_string(more) + " more certificates in the file, used as intermediates";
        if (!linked(r.chain)) line += "; --each checks each on its own";
        line += ")";
    }
    if (r.outcome == Outcome::denied && !r.decision.detail.empty()) line += " — " + printable(r.decision.detail);
    line += '\n';

    if (verbose) {
        auto more = [&](std::string_view key, const std::string& value) {
            line += "    " + style.dim(std::string(key)) + " " + printable(value) + "\n";
        };
        more("subject", facts.subject.to_string());
        more("issuer", facts.issuer.to_string());
        more("valid", x509::timestamp_text(facts.not_before) + " .. " + x509::timestamp_text(facts.not_after));
        more("serial", facts.serial);
        more("fingerprint256", facts.fingerprint256);
        more("key", r.chain.front().key_description());
        if (r.chain.size() > 1) more("chain", std::to_string(r.chain.size()) + " certificates (leaf first)");
        if (r.outcome == Outcome::authorised && r.decision.user) more("user", json_text(*r.decision.user));
        if (r.outcome != Outcome::denied && !r.decision.detail.empty()) more("note", r.decision.detail);
    }
    return line;
}

constexpr const char* k_footer = R"(A file is one chain, leaf first: its other certificates are used as untrusted
intermediates (the output says how many); --each checks every certificate of a
file on its own instead (a CA bundle, several leaves in one file).
Outcomes: authorised (verified and in the user list), authenticated (verified,
no --users), inspected (no --ca: fields only), denied: REASON, error.
Exit status: 0 none denied or in error, 1 some denied, 2 usage error, bad --ca/--crl/--users/--at, or a file
in error. Options also come from the configuration file (--config FILE, default ./certauth.toml when
present): top-level keys ca, crl, crl-required, security-level, users; the command line wins.

Examples:
  cd fixtures && certauth check joe.crt bob.crt carol-chain.pem   # with ./certauth.toml, as serve decides
  certauth check --ca ca.crt --crl ca.crl --users users.json --at 2030-01-01 joe.crt
  certauth check --each /etc/ssl/certs/ca-certificates.crt    # each certificate of a bundle: names, expiry

Read next: docs/check.md)";

int run_check(const CheckOptions& options, const CLI::App& root) {
    const Clock::time_point now = Clock::now(); // the one clock read: below cli, time is passed in
    Clock::time_point at = now;
    if (!options.at.empty()) {
        const std::optional<Clock::time_point> parsed = parse_time(options.at, now);
        if (!parsed) {
            print_error("--at: cannot read \"" + options.at +
                        "\" as a time; use ISO 8601, e.g. 2025-01-01, 2025-01-01T12:00:00Z or "
                        "2025-01-01T12:00:00+02:00, @EPOCH-SECONDS or now");
            return 2;
        }
        at = *parsed;
    }

    Result<std::optional<x509::TrustStore>> store = load_trust_store(options.trust);
    if (!store) {
        print_error(store.error());
        return 2;
    }
    Result<std::optional<policy::UserList>> users = load_user_list(options.trust);
    if (!users) {
        print_error(users.error());
        return 2;
    }
    const x509::TrustStore* trust = *store ? &**store : nullptr;
    const policy::UserList* list = *users ? &**users : nullptr;
    const std::optional<std::string> config = config_file_used(root);

    if (options.verbose) {
        std::string about = "configuration " + (config ? *config : std::string("none"));
        about += "; time " + x509::timestamp_text(at);
        about += trust ? "; " + std::to_string(trust->authorities().size()) + " trusted CA(s), " +
                             std::to_string(trust->crl_count()) + " CRL(s)"
                       : std::string("; no --ca: certificates are inspected, not verified");
        about += list ? "; " + std::to_string(list->users().size()) + " user(s) in " + users_name(options.trust)
                      : std::string("; no --users");
        std::fprintf(stderr, "certauth: %s\n", about.c_str());
    }
    if (trust && !options.quiet)
        for (const std::string& stale : trust->stale_crls(at))
            print_warning(stale);
    if (list && !options.quiet)
        for (const std::string& warning : list->warnings())
            print_warning(warning);

    const Style style{!options.json && use_colour(STDOUT_FILENO)};
    bool any_denied = false;
    bool any_error = false;
    std::string out;
    std::vector<std::string> inputs = options.files;
    if (!options.header_format.empty()) inputs = {"header"};
    for (const std::string& file : inputs) {
        std::vector<FileResult> results = options.header_format.empty()
                                              ? check_file(file, options.each, trust, list, at)
                                              : std::vector<FileResult>{check_header(options, trust, list, at)};
        for (const FileResult& result : results) {
            any_denied = any_denied || result.outcome == Outcome::denied;
            any_error = any_error || result.outcome == Outcome::error;
            if (options.quiet) continue;
            out = options.json ? json_line(result, config) + '\n' : human_line(result, at, style, options.verbose);
            std::fwrite(out.data(), 1, out.size(), stdout);
        }
    }
    // A verdict that did not reach its reader (disk full, closed pipe) is not a success.
    if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
        print_error(std::string("standard output: write error: ") + std::strerror(errno));
        return 2;
    }
    if (any_error) return 2;
    return any_denied ? 1 : 0;
}

FileResult check_header(const CheckOptions& options, const x509::TrustStore* store, const policy::UserList* users,
                        Clock::time_point at) {
    FileResult result;
    result.file = "header";
    std::vector<std::string> values = options.header_values;
    for (std::string& value : values)
        if (value == "-") {
            Result<std::string> text = x509::read_file("-");
            if (!text) {
                result.message = text.error().message;
                return result;
            }
            value = std::move(*text);
            while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
                value.pop_back();
        }
    server::CertificateHeader header;
    header.name = "the header";
    header.format = *server::header_format_named(options.header_format);
    server::CertificateFields fields;
    fields.values.assign(values.begin(), values.end());
    fields.chain.assign(options.header_chain.begin(), options.header_chain.end());
    Result<std::optional<x509::Chain>> chain = server::decode_certificate_header(header, fields);
    if (!chain) {
        result.reason = Reason::malformed;
        result.message = chain.error().message;
        return result;
    }
    if (!*chain) {
        result.decision = policy::decide(nullptr, std::nullopt, users, at);
        result.outcome = Outcome::denied;
        result.reason = result.decision.reason;
        return result;
    }
    return check_chain("header", 1, std::move(**chain), store, users, at);
}

} // namespace

Command add_check_command(CLI::App& root) {
    CLI::App* cmd = root.add_subcommand("check", "Decide offline, as serve would, for certificate files");
    auto options = std::make_shared<CheckOptions>();
    cmd->add_option("FILE", options->files,
                    "certificate files: PEM or DER, a chain leaf first (the rest are untrusted intermediates); "
                    "- is standard input")
        ->type_name("");
    add_trust_options(*cmd, options->trust);
    cmd->add_option("--at", options->at,
                    "decide at this time (default: now): ISO 8601 (2025-01-01, 2025-01-01T12:00:00Z, "
                    "2025-01-01T12:00:00+02:00; no zone means UTC), @EPOCH-SECONDS or now")
        ->type_name("TIME");
    cmd->add_flag("--each", options->each,
                  "check every certificate of a file on its own, one line each (default: the file is one chain, "
                  "leaf first)");
    CLI::Option* json = cmd->add_flag("--json", options->json, "one JSON object per line");
    CLI::Option* quiet = cmd->add_flag("-q,--quiet", options->quiet, "no output: the exit status only");
    CLI::Option* verbose =
        cmd->add_flag("-v,--verbose", options->verbose,
                      "more about each certificate, and the configuration file, time and trust store used (on stderr)");
    CLI::Option* format =
        cmd->add_option("--header-format", options->header_format,
                        "decide what a trusted proxy's header holds, as serve --listen-trusted does: url-pem, "
                        "base64-der, xfcc or rfc9440 (instead of FILEs)")
            ->check(CLI::IsMember({"url-pem", "base64-der", "xfcc", "rfc9440"}))
            ->type_name("FORMAT");
    cmd->add_option("--header-value", options->header_values,
                    "the header's value as the proxy sends it (repeatable: one per field line; - is standard "
                    "input)")
        ->type_name("VALUE")
        ->allow_extra_args(false)
        ->needs(format);
    cmd->add_option("--header-chain", options->header_chain,
                    "rfc9440: the Client-Cert-Chain value (repeatable: one per field line)")
        ->type_name("VALUE")
        ->allow_extra_args(false)
        ->needs(format);
    quiet->excludes(json);
    quiet->excludes(verbose);
    cmd->footer(k_footer);
    const CLI::App* app = &root;
    return {cmd, [options, app] {
                if (options->files.empty() == options->header_format.empty()) {
                    print_error(options->files.empty() ? "check needs FILEs, or --header-format with --header-value"
                                                       : "check takes FILEs or --header-format, not both");
                    return 2;
                }
                return run_check(*options, *app);
            }};
}

} // namespace certauth::cli
