// `certauth probe`: the client. One request (curl's option names), a
// scenario matrix with text/JSON/JUnit reports, or a load run. Exit codes:
// 0 expectation met / all cases passed / load without errors; 1 expectation
// not met / a case failed / a load with failed requests; 2 usage, set-up,
// connection and TLS errors.
#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/number_checks.hpp"
#include "cli/output.hpp"
#include "cli/probe_report.hpp"
#include <certauth/json_text.hpp>

#include <certauth/client/client.hpp>
#include <certauth/client/load.hpp>
#include <certauth/client/scenario.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <unistd.h>

namespace certauth::cli {
namespace {

struct ProbeOptions {
    std::string url;
    std::string cert, key, cacert;
    bool insecure = false;
    std::vector<std::string> headers;
    std::string method = "GET";
    std::string servername;
    std::vector<std::string> resolve;
    double timeout = 10;
    int expect = 200;
    std::string expect_reason;
    bool json = false;
    bool verbose = false;

    std::string scenarios;
    std::string scenario_url;
    std::string report = "text";
    std::string output;

    bool load = false;
    std::uint64_t requests = 0;
    double duration = 10;
    unsigned concurrency = 10;
    unsigned threads = 0;
    bool new_connections = false;
    bool resume = false;
};

constexpr const char* k_footer =
    R"(Exit codes: 0 the expectation holds (every scenario passed; a load run without errors),
1 it does not (a scenario failed; some load requests failed), 2 usage, connection or TLS error.
Scenario files: {"defaults": {"url": ..., "cacert": ...}, "cases": [{"name", "cert", "key", "path",
"method", "headers", "status", "reason", "reason_optional", "user"} or {..., "refused": "handshake",
"alert"}]}; paths relative to the file.

Examples:
  certauth probe https://localhost:3443/ --cacert ca.crt --cert joe.pem --expect 200
  certauth probe https://localhost:3443/ --resolve localhost:3443:10.0.0.5 --cacert ca.crt -v
  certauth probe --scenarios scenarios.json --report junit --output probe.xml

Read next: docs/probe.md)";

bool given(const CLI::App& cmd, const std::string& name) { return cmd.count(name) > 0; }

Result<client::ClientRequest> build_request(const ProbeOptions& o) {
    client::ClientRequest request;
    auto url = client::parse_url(o.url);
    if (!url) return url.error();
    request.url = *url;
    const std::optional<client::HttpMethod> method = client::parse_method(o.method);
    if (!method) return Error{"--request " + o.method + ": probe sends GET or HEAD"};
    request.method = *method;
    for (const std::string& text : o.headers) {
        auto header = client::parse_header(text);
        if (!header) return header.error();
        request.headers.push_back(*header);
    }
    for (const std::string& text : o.resolve) {
        auto entry = client::parse_resolve(text);
        if (!entry) return Error{"--resolve: " + entry.error().message};
        request.resolve.push_back(*entry);
    }
    request.servername = o.servername;
    if (!(o.timeout > 0) || o.timeout > 86400) return Error{"--timeout must be a number of seconds > 0"};
    request.timeout = std::chrono::milliseconds(static_cast<long long>(std::ceil(o.timeout * 1000)));
    return request;
}

Result<client::ClientContext> build_context(const ProbeOptions& o) {
    client::ClientTlsOptions tls;
    tls.cert = o.cert;
    tls.key = o.key;
    tls.cacert = o.cacert;
    tls.insecure = o.insecure;
    return client::ClientContext::create(tls);
}

int run_single(const CLI::App& cmd, const ProbeOptions& o) {
    auto request = build_request(o);
    if (!request) return print_error(request.error()), 2;
    auto context = build_context(o);
    if (!context) return print_error(context.error()), 2;
    Expectation expect;
    expect.status = o.expect;
    if (given(cmd, "--expect-reason")) expect.reason = o.expect_reason;

    const client::Exchange exchange = client::fetch(*context, *request);
    if (o.json) {
        std::cout << json_text(exchange_json(exchange, *request, expect), 2) << '\n';
    } else {
        write_exchange_text(std::cout, std::cerr, exchange, *context, o.verbose,
                            use_colour(STDOUT_FILENO) ? Colour::on : Colour::off);
    }
    if (!exchange.response) {
        print_error(exchange.failure ? with_hint(client::to_string(exchange.failure->kind), exchange.failure->message)
                                     : "no response");
        return 2;
    }
    const auto problem = expectation_problem(exchange, expect);
    if (!o.json) {
        std::string expected = std::to_string(expect.status) + (expect.reason ? " " + *expect.reason : "");
        if (problem)
            std::cout << "✘ " << *problem << '\n';
        else
            std::cout << "✔ got " << expected << " as expected\n";
    }
    return problem ? 1 : 0;
}

int run_load(const CLI::App& cmd, const ProbeOptions& o) {
    auto request = build_request(o);
    if (!request) return print_error(request.error()), 2;
    auto context = build_context(o);
    if (!context) return print_error(context.error()), 2;

    client::LoadOptions load;
    load.request = *request;
    if (given(cmd, "--requests")) load.requests = o.requests;
    // Bounded: 1e300 seconds would overflow the deadline (undefined behaviour).
    if (!(o.duration > 0) || o.duration > 365.0 * 24 * 3600)
        return print_error("--duration must be a number of seconds > 0, at most a year"), 2;
    load.duration = std::chrono::milliseconds(static_cast<long long>(std::ceil(o.duration * 1000)));
    load.concurrency = o.concurrency;
    load.threads = o.threads;
    load.mode = o.new_connections ? client::ConnectionMode::new_connections : client::ConnectionMode::keep_alive;
    load.resumption = o.resume ? client::Resumption::on : client::Resumption::off;

    const bool show_progress = ::isatty(STDERR_FILENO) == 1;
    client::LoadProgress last;
    bool shown = false;
    std::function<void(const client::LoadProgress&)> progress;
    if (show_progress)
        progress = [&](const client::LoadProgress& p) {
            const double dt = (p.elapsed - last.elapsed).count();
            const double rate = dt > 0 ? static_cast<double>(p.done - last.done) / dt : 0.0;
            std::cerr << "\r\033[K" << progress_line(p, load.requests, rate) << std::flush;
            last = p;
            shown = true;
        };
    auto result = client::run_load(*context, load, progress);
    if (shown) std::cerr << "\r\033[K" << std::flush;
    if (!result) return print_error(result.error()), 2;

    if (o.json)
        std::cout << json_text(load_json(*result, load), 2) << '\n';
    else
        write_load_text(std::cout, *result, load);

    if (result->responses == 0 && result->error_count() > 0) {
        // The text summary above has the hint already; JSON has no hints.
        const auto& [kind, first] = *result->errors.begin();
        print_error("no response: " + (o.json ? with_hint(kind, first.first_message) : first.first_message));
        return 2;
    }
    int code = result->error_count() > 0 ? 1 : 0;
    if (given(cmd, "--expect")) {
        for (const auto& [status, count] : result->by_status)
            if (status != o.expect) {
                print_warning(std::to_string(count) + " responses with status " + std::to_string(status) +
                              ", expected " + std::to_string(o.expect));
                code = 1;
            }
    }
    if (given(cmd, "--expect-reason")) {
        const auto it = result->by_reason.find(o.expect_reason);
        const std::uint64_t matching = it == result->by_reason.end() ? 0 : it->second;
        if (matching != result->responses) {
            print_warning(std::to_string(result->responses - matching) + " responses without reason " +
                          o.expect_reason);
            code = 1;
        }
    }
    return code;
}

int run_scenarios(const ProbeOptions& o) {
    if (o.report != "text" && o.report != "json" && o.report != "junit")
        return print_error("--report " + o.report + ": expected text, json or junit"), 2;
    if (!o.scenario_url.empty()) {
        auto url = client::parse_url(o.scenario_url);
        if (!url) return print_error("--url: " + url.error().message), 2;
    }
    auto file = client::load_scenarios(o.scenarios);
    if (!file) return print_error(file.error()), 2;
    const client::ScenarioRun run = client::run_scenarios(*file, o.scenario_url);

    std::ostringstream report;
    if (o.report == "json")
        report << json_text(json_report(run), 2) << '\n';
    else if (o.report == "junit")
        write_junit_report(report, run);
    else
        write_text_report(report, run, Colour::off);

    if (!o.output.empty()) {
        errno = 0;
        std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
        if (!out.is_open())
            return print_error("cannot write the report to " + o.output + ": " +
                               (errno != 0 ? std::strerror(errno) : "cannot open it")),
                   2;
        out << report.str();
        out.flush();
        if (!out) return print_error("cannot write the report to " + o.output + ": the write failed"), 2;
    }
    // stdout: the chosen report when it has no file, else the text table.
    if (o.output.empty() && o.report != "text")
        std::cout << report.str();
    else
        write_text_report(std::cout, run, use_colour(STDOUT_FILENO) ? Colour::on : Colour::off);

    if (run.count(client::CaseOutcome::error) > 0) return 2;
    return run.all_passed() ? 0 : 1;
}

int run_probe(const CLI::App& root, const CLI::App& cmd, ProbeOptions o) {
    // Options from the configuration file's [probe] section are defaults for
    // whichever mode runs; only the command line can ask for two at once.
    const auto on_command_line = [&](const std::string& name) { return set_on_command_line(root, cmd, name); };
    const bool has_url = given(cmd, "URL");
    if (has_url && !on_command_line("--scenarios")) o.scenarios.clear(); // the file's gives way to a URL
    const bool scenarios = given(cmd, "--scenarios") && !o.scenarios.empty();
    if (scenarios && has_url) return print_error("give either a URL or --scenarios FILE, not both"), 2;
    if (!scenarios && !has_url) return print_error("probe needs a URL or --scenarios FILE (see --help)"), 2;

    const std::vector<std::string> scenario_only{"--url", "--report", "--output"};
    const std::vector<std::string> load_only{"--requests", "--duration",        "--concurrency",
                                             "--threads",  "--new-connections", "--resume"};
    const std::vector<std::string> request_only{
        "--cert",    "--key",     "--cacert", "--insecure",      "--header", "--request", "--servername",
        "--resolve", "--timeout", "--expect", "--expect-reason", "--json",   "--load",    "--verbose"};
    if (scenarios) {
        for (const auto& name : request_only)
            if (on_command_line(name))
                return print_error(name + " does not apply to --scenarios (the scenario file sets each case)"), 2;
        for (const auto& name : load_only)
            if (on_command_line(name)) return print_error(name + " needs --load"), 2;
        return run_scenarios(o);
    }
    for (const auto& name : scenario_only)
        if (on_command_line(name)) return print_error(name + " needs --scenarios FILE"), 2;
    if (!o.load) {
        for (const auto& name : load_only)
            if (on_command_line(name)) return print_error(name + " needs --load"), 2;
        return run_single(cmd, o);
    }
    if (o.verbose) return print_error("-v does not apply to --load"), 2;
    if (o.resume && !o.new_connections)
        return print_error("--resume needs --new-connections (keep-alive connections handshake once)"), 2;
    return run_load(cmd, o);
}

} // namespace

Command add_probe_command(CLI::App& root) {
    auto options = std::make_shared<ProbeOptions>();
    ProbeOptions& o = *options;
    CLI::App* cmd = root.add_subcommand(
        "probe", "HTTPS client for mTLS deployments: one request, a scenario matrix (CI reports), or load");
    cmd->footer(k_footer);

    cmd->add_option("URL", o.url, "https://HOST[:PORT][/PATH] to request");
    auto* group = "Request";
    cmd->add_option("--cert", o.cert, "client certificate chain (PEM, leaf first; may also hold the key)")
        ->group(group);
    cmd->add_option("--key", o.key, "client private key (PEM) when not in --cert")->group(group);
    cmd->add_option("--cacert", o.cacert, "CA certificates that verify the server (default: the system store)")
        ->group(group);
    cmd->add_flag("-k,--insecure", o.insecure, "do not verify the server certificate or its name")->group(group);
    cmd->add_option("-H,--header", o.headers, "extra header 'Name: value' (repeatable; 'Name:' removes one)")
        ->allow_extra_args(false)
        ->group(group);
    cmd->add_option("-X,--request", o.method, "GET (default) or HEAD")->group(group);
    cmd->add_option("--servername", o.servername, "name sent as SNI and checked in the server certificate")
        ->group(group);
    cmd->add_option("--resolve", o.resolve, "HOST:PORT:ADDR: connect to ADDR for HOST:PORT (repeatable)")
        ->allow_extra_args(false)
        ->group(group);
    cmd->add_option("--timeout", o.timeout, "seconds for the whole request (default 10; per request with --load)")
        ->group(group);
    cmd->add_option("--expect", o.expect, "expected HTTP status (default 200)")
        ->check(count_in(100, 599))
        ->group(group);
    cmd->add_option("--expect-reason", o.expect_reason, "expected \"reason\" of certauth's JSON body")->group(group);
    cmd->add_flag("--json", o.json, "print the result as JSON")->group(group);
    cmd->add_flag("-v,--verbose", o.verbose, "also the handshake: CA names asked for, client certificate sent")
        ->group(group);

    auto* scenarios = "Scenario matrix";
    cmd->add_option("--scenarios", o.scenarios, "run the cases of a scenario file (JSON)")->group(scenarios);
    cmd->add_option("--url", o.scenario_url, "target of every case (overrides the file's url)")->group(scenarios);
    cmd->add_option("--report", o.report, "text (default), json or junit")->group(scenarios);
    cmd->add_option("--output", o.output, "write the report to FILE (stdout then shows the text table)")
        ->group(scenarios);

    auto* load = "Load";
    cmd->add_flag("--load", o.load, "generate load against URL")->group(load);
    auto* requests = cmd->add_option("--requests", o.requests, "exactly N requests")
                         ->check(count_in(1, 1'000'000'000'000))
                         ->group(load);
    auto* duration = cmd->add_option("--duration", o.duration, "or run for S seconds (default 10)")->group(load);
    requests->excludes(duration);
    cmd->add_option("--concurrency", o.concurrency, "connections, each with one request in flight (default 10)")
        ->check(CLI::Range(1u, 100000u))
        ->group(load);
    cmd->add_option("--threads", o.threads,
                    "threads (default: the number of cores; half of them against a loopback address)")
        ->check(CLI::Range(1u, 1024u))
        ->group(load);
    cmd->add_flag("--new-connections", o.new_connections, "a new TLS connection (full handshake) per request")
        ->group(load);
    cmd->add_flag("--resume", o.resume, "with --new-connections: resume the previous TLS session")->group(load);

    return {cmd, [cmd, options, &root] { return run_probe(root, *cmd, *options); }};
}

} // namespace certauth::cli
