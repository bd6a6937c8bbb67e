// `certauth serve`: options in (command line and the [serve] section of the
// configuration file), the server out (src/server), exit code 0 after a
// graceful stop, 2 for start-up errors.
#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/directory_status.hpp"
#include "cli/followed_users.hpp"
#include "cli/listen_address.hpp"
#include "cli/number_checks.hpp"
#include "cli/output.hpp"
#include "cli/setting_flag.hpp"
#include "cli/status_address.hpp"
#include "cli/trust_options.hpp"
#include "cli/version.hpp"

#include <certauth/directory/location.hpp>
#include <certauth/server/server.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace certauth::cli {
namespace {

double seconds(std::chrono::milliseconds duration) { return std::chrono::duration<double>(duration).count(); }

struct ServeOptions {
    std::vector<std::string> listen{"127.0.0.1:3443"};
    std::string cert;
    std::string key;
    TrustOptions trust;
    bool require_cert = false;
    unsigned threads = 0;
    std::string log_format = "text";
    bool no_access_log = false;
    std::string access_log; // --access-log FILE; "" for standard output
    std::string status;     // --status ADDR; "" for none
    // serve's defaults are the server's (server::Limits, TlsSettings).
    double handshake_timeout = seconds(server::Limits{}.handshake_timeout);
    double request_timeout = seconds(server::Limits{}.request_timeout);
    double idle_timeout = seconds(server::Limits{}.idle_timeout);
    double shutdown_timeout = seconds(server::Limits{}.shutdown_timeout);
    std::size_t max_connections = server::Limits{}.max_connections;
    std::size_t max_header_size = server::Limits{}.max_header_size;
    std::size_t max_body_size = server::Limits{}.max_body_size;
    std::size_t session_cache = server::TlsSettings{}.session_cache_size;
    std::string upstream;
    double upstream_timeout = seconds(server::UpstreamOptions{}.timeout);
    double upstream_idle_timeout = seconds(server::UpstreamOptions{}.idle_timeout);
    std::uint64_t upstream_max_body_size = server::UpstreamOptions{}.max_body_size;
    bool forward_cert = false;
    // The trusted-header input (docs/proxies.md).
    std::vector<std::string> listen_trusted;
    std::string proxy_preset;
    std::string client_cert_header;
    std::string client_cert_format;
    std::vector<std::string> trusted_proxy;
};

// --listen-trusted and its options; nullopt without --listen-trusted (its
// options alone are an error, as they would do nothing).
Result<std::optional<server::TrustedInput>> trusted_input(const ServeOptions& options) {
    using Found = std::optional<server::TrustedInput>;
    if (options.listen_trusted.empty()) {
        if (!options.proxy_preset.empty() || !options.client_cert_header.empty() ||
            !options.client_cert_format.empty() || !options.trusted_proxy.empty())
            return Error{"--proxy-preset, --client-cert-header, --client-cert-format and --trusted-proxy apply to "
                         "--listen-trusted, which is not given"};
        return Found{};
    }
    server::TrustedInput input;
    for (const std::string& text : options.listen_trusted) {
        if (text.rfind("unix:", 0) == 0) {
            server::ListenAddress address;
            address.unix_path = text.substr(5);
            address.text = text;
            if (address.unix_path.empty() || address.unix_path.front() != '/')
                return Error{"--listen-trusted: " + text + ": expected unix:/absolute/path"};
            input.listen.push_back(std::move(address));
            continue;
        }
        auto address = parse_listen(text);
        if (!address) return Error{"--listen-trusted: " + address.error().message};
        input.listen.push_back(std::move(*address));
    }
    if (!options.proxy_preset.empty()) {
        const server::ProxyPreset* preset = server::proxy_preset_named(options.proxy_preset);
        if (preset == nullptr) {
            std::string names;
            for (const server::ProxyPreset& p : server::proxy_presets())
                names += (names.empty() ? "" : ", ") + std::string(p.name);
            return Error{"--proxy-preset " + options.proxy_preset + ": unknown (known: " + names + ")"};
        }
        input.header.name = preset->header;
        input.header.format = preset->format;
        input.original_uri = preset->original_uri;
    }
    if (!options.client_cert_header.empty()) input.header.name = options.client_cert_header;
    if (!options.client_cert_format.empty()) {
        const auto format = server::header_format_named(options.client_cert_format);
        if (!format)
            return Error{"--client-cert-format " + options.client_cert_format +
                         ": expected url-pem, base64-der, xfcc or rfc9440"};
        input.header.format = *format;
    }
    if (!options.trusted_proxy.empty()) {
        input.proxies.clear();
        for (const std::string& text : options.trusted_proxy) {
            auto range = server::parse_address_range(text);
            if (!range) return Error{"--trusted-proxy: " + range.error().message};
            input.proxies.push_back(std::move(*range));
        }
    }
    return Found{std::move(input)};
}

std::chrono::milliseconds millis(double seconds) { return std::chrono::milliseconds(std::llround(seconds * 1000.0)); }

constexpr const char* k_footer = R"(Configuration: --config FILE (default ./certauth.toml when present). Top-level
keys ca, crl, crl-required, security-level, users; a [serve] section for serve's own keys
(listen, cert, key, threads, ...). Relative paths are relative to the file; the
command line wins.

HTTP: GET/HEAD any path -> 200 with the user as JSON and identity headers,
401/403 with {"error","reason","detail"}; /healthz -> 200 without a certificate.
With --upstream an authorised request (any method) goes on to the application
with the identity headers; denials are answered here and never reach it.
Signals: SIGHUP reloads the files: it reads the CAs, CRLs, user list, server
certificate and key again and swaps them in whole (a reload that fails keeps the
old ones and logs why). The command line and the configuration file are read
once, at start-up: a change to them (another file, address or timeout) needs a
restart. A user directory (--users sqlite:PATH or postgresql://...) is followed:
each change to it reloads as SIGHUP does, within about a second of its commit.
SIGUSR1 reopens the --access-log file. SIGTERM/SIGINT stop accepting, finish
requests in flight, exit 0.

Examples:
  cd fixtures && certauth serve        # the demo: ./certauth.toml, https://localhost:3443
  certauth serve --config /etc/certauth/certauth.toml --status 127.0.0.1:9090 --log-format json
  certauth serve --cert server.crt --key server.key --ca ca.crt --crl ca.crl --users users.json

Read next: docs/serve.md)";

// What to say when serve lacks its certificate and key and no configuration
// file was read: where the demo's configuration is, from the repository root.
std::string without_configuration_hint() {
    std::error_code ec;
    const std::string demo = "fixtures/" + std::string(k_default_config);
    if (std::filesystem::is_regular_file(demo, ec))
        return "; no configuration file was read (there is no " + std::string(k_default_config) +
               " here): for the demo, run 'certauth serve --config " + demo + "' or 'cd fixtures' first";
    return "; no configuration file was read (there is no " + std::string(k_default_config) +
           " here): give one with --config FILE";
}

} // namespace

Command add_serve_command(CLI::App& root) {
    auto options = std::make_shared<ServeOptions>();
    CLI::App* cmd = root.add_subcommand("serve", "Run the mTLS HTTPS server");
    cmd->footer(k_footer);

    CLI::Option* listen =
        cmd->add_option("--listen", options->listen,
                        "TLS address to listen on, HOST:PORT or [IPv6]:PORT (repeatable; none by default when "
                        "--listen-trusted is given)")
            ->capture_default_str()
            ->allow_extra_args(false);
    cmd->add_option("--listen-trusted", options->listen_trusted,
                    "Plain-HTTP address for trusted proxies that terminated TLS and send the client certificate in "
                    "a header, HOST:PORT or unix:/path (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--proxy-preset", options->proxy_preset,
                    "The proxy in front of --listen-trusted: sets the header, its format and where the original "
                    "URI is read (nginx, caddy, haproxy, traefik, envoy, aws-alb, cloudflare)");
    cmd->add_option("--client-cert-header", options->client_cert_header,
                    "Header holding the client certificate on --listen-trusted (default X-Client-Cert)")
        ->type_name("NAME");
    cmd->add_option("--client-cert-format", options->client_cert_format,
                    "How that header holds it: url-pem (default), base64-der, xfcc or rfc9440")
        ->type_name("FORMAT");
    cmd->add_option("--trusted-proxy", options->trusted_proxy,
                    "Peers allowed on a TCP --listen-trusted, CIDR or address (repeatable; default 127.0.0.0/8 "
                    "and ::1); others get 403 untrusted_proxy")
        ->type_name("CIDR")
        ->allow_extra_args(false);
    cmd->add_option("--cert", options->cert, "Server certificate chain (PEM: leaf, then intermediates)");
    cmd->add_option("--key", options->key, "Server private key (PEM, unencrypted)");
    add_trust_options(*cmd, options->trust);
    cmd->add_flag("--require-cert", options->require_cert,
                  "Refuse clients without a verified certificate at the TLS handshake (HAProxy: verify required)");
    cmd->add_option("--threads", options->threads, "Worker threads (default: one per core)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--log-format", options->log_format, "Access log on stdout: text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    cmd->add_flag("--no-access-log", options->no_access_log, "Write no access log");
    cmd->add_option("--access-log", options->access_log,
                    "Append the access log to this file instead of stdout (reopened on SIGUSR1, for logrotate)");
    cmd->add_option("--status", options->status,
                    "Serve /metrics (Prometheus), /status (JSON) and /healthz in plain HTTP on a loopback "
                    "HOST:PORT or unix:/path (default: none)");
    cmd->add_option("--handshake-timeout", options->handshake_timeout,
                    "Seconds from connect to the end of the TLS handshake")
        ->check(seconds_up_to_a_year(false))
        ->capture_default_str();
    cmd->add_option("--request-timeout", options->request_timeout,
                    "Seconds to receive a whole request once it has begun (and a first request after the handshake)")
        ->check(seconds_up_to_a_year(false))
        ->capture_default_str();
    cmd->add_option("--idle-timeout", options->idle_timeout,
                    "Seconds a kept-alive connection may wait for its next request")
        ->check(seconds_up_to_a_year(false))
        ->capture_default_str();
    cmd->add_option("--shutdown-timeout", options->shutdown_timeout,
                    "Seconds to finish requests in flight after SIGTERM/SIGINT")
        ->check(seconds_up_to_a_year(true))
        ->capture_default_str();
    cmd->add_option("--max-connections", options->max_connections,
                    "Open connections at most; further ones are closed at accept")
        ->check(count_in(1, 10'000'000))
        ->capture_default_str();
    cmd->add_option("--max-header-size", options->max_header_size, "Bytes of request line and headers (beyond: 431)")
        ->check(CLI::Range(1024, 1024 * 1024))
        ->capture_default_str();
    cmd->add_option("--max-body-size", options->max_body_size, "Bytes of request body (beyond: 413)")
        ->check(CLI::Range(0, 64 * 1024 * 1024))
        ->capture_default_str();
    cmd->add_option("--upstream", options->upstream,
                    "Forward authorised requests to this application: http://HOST:PORT[/PREFIX] or unix:/path "
                    "(plain HTTP; default: answer with the user as JSON)");
    cmd->add_option("--upstream-timeout", options->upstream_timeout,
                    "Seconds the application has to connect and send its response header (beyond: 504)")
        ->check(seconds_up_to_a_year(false))
        ->capture_default_str();
    cmd->add_option("--upstream-idle-timeout", options->upstream_idle_timeout,
                    "Seconds a kept-alive connection to the application may stay unused")
        ->check(seconds_up_to_a_year(false))
        ->capture_default_str();
    cmd->add_option("--upstream-max-body-size", options->upstream_max_body_size,
                    "Bytes of a forwarded request body (beyond: 413); 0: no limit")
        ->check(count_in(0, std::numeric_limits<std::int64_t>::max()))
        ->capture_default_str();
    cmd->add_flag("--forward-cert", options->forward_cert,
                  "Send the client's certificate to the application too (X-Forwarded-Client-Cert Cert/Chain, "
                  "Client-Cert and Client-Cert-Chain)");
    cmd->add_option("--session-cache", options->session_cache,
                    "TLS sessions kept for resumption (server-side cache, ~6.5 KiB each; 0 disables resumption)")
        ->check(count_in(0, 10'000'000))
        ->capture_default_str();

    return {cmd, [options, listen, &root]() -> int {
                auto trusted = trusted_input(*options);
                if (!trusted) {
                    print_error(trusted.error());
                    return 2;
                }
                // --listen-trusted alone: no TLS listener unless --listen is given too.
                if (*trusted && listen->count() == 0) options->listen.clear();
                if (!options->listen.empty() && (options->cert.empty() || options->key.empty())) {
                    print_error("serve needs the server certificate and key: --cert FILE --key FILE "
                                "(or cert = / key = in the [serve] section of the configuration file)" +
                                (config_file_used(root) ? std::string() : without_configuration_hint()));
                    return 2;
                }
                server::ServerOptions server;
                server.listen.clear();
                for (const std::string& text : options->listen) {
                    auto address = parse_listen(text);
                    if (!address) {
                        print_error("--listen: " + address.error().message);
                        return 2;
                    }
                    server.listen.push_back(std::move(*address));
                }
                if (!options->upstream.empty()) {
                    auto target = client::parse_upstream(options->upstream);
                    if (!target) {
                        print_error("--upstream: " + target.error().message);
                        return 2;
                    }
                    server::UpstreamOptions upstream;
                    upstream.target = std::move(*target);
                    upstream.timeout = millis(options->upstream_timeout);
                    upstream.idle_timeout = millis(options->upstream_idle_timeout);
                    upstream.max_body_size = options->upstream_max_body_size;
                    upstream.forward_cert = options->forward_cert ? server::ForwardCert::yes : server::ForwardCert::no;
                    server.upstream = std::move(upstream);
                } else if (options->forward_cert) {
                    print_error("--forward-cert needs --upstream (the certificate goes to the application)");
                    return 2;
                }
                server.trusted = std::move(*trusted);
                server.tls.cert_file = options->listen.empty() ? std::string() : options->cert;
                server.tls.key_file = options->listen.empty() ? std::string() : options->key;
                server.tls.client_cert =
                    options->require_cert ? server::ClientCertMode::require : server::ClientCertMode::request;
                server.tls.session_cache_size = options->session_cache;
                server.config_file = config_file_used(root).value_or("");
                server.threads = options->threads;
                server.log_format = options->no_access_log          ? server::LogFormat::none
                                    : options->log_format == "json" ? server::LogFormat::json
                                                                    : server::LogFormat::text;
                server.access_log_file = options->access_log;
                if (!options->status.empty()) {
                    auto status = parse_status_address(options->status);
                    if (!status) {
                        print_error(status.error());
                        return 2;
                    }
                    server.status = std::move(*status);
                }
                server.build = server::BuildInfo{version_number(), build_commit()};
                server.limits.handshake_timeout = millis(options->handshake_timeout);
                server.limits.request_timeout = millis(options->request_timeout);
                server.limits.idle_timeout = millis(options->idle_timeout);
                server.limits.shutdown_timeout = millis(options->shutdown_timeout);
                server.limits.max_connections = options->max_connections;
                server.limits.max_header_size = options->max_header_size;
                server.limits.max_body_size = options->max_body_size;
                // A reload's error names its flag, as start-up's print_error does.
                server.describe_error = [](const Error& error) { return with_flag(error); };
                // A directory is followed: each change reloads the server (the
                // callback is cleared before the server goes).
                auto users = std::make_shared<FollowedUsers>(options->trust);
                server.loader = [trust = options->trust, users]() -> Result<server::StateInputs> {
                    auto store = load_trust_store(trust);
                    if (!store) return store.error();
                    if (!*store)
                        return Error{"serve needs the CAs trusted for client certificates: --ca FILE "
                                     "(or ca = \"...\" in the configuration file)"};
                    auto list = users->current();
                    if (!list) return list.error();
                    return server::StateInputs{std::move(**store), std::move(*list)};
                };
                // A followed directory shows its state in /status and /metrics.
                if (const auto location = directory::parse_location(options->trust.users);
                    location && location->is_database())
                    server.status_sources.push_back(std::make_shared<DirectoryStatus>(users));

                auto created = server::Server::create(std::move(server));
                if (!created) {
                    print_error(created.error());
                    return 2;
                }
                users->on_change([running = created->get()] { running->reload(); });
                const int code = (*created)->run();
                users->on_change(nullptr);
                return code;
            }};
}

} // namespace certauth::cli
