// Running a scenario file: one client context and one request per case.
#include <certauth/client/scenario.hpp>

namespace certauth::client {

ScenarioRun run_scenarios(const ScenarioFile& file, std::string_view override_url) {
    using Clock = std::chrono::steady_clock;
    ScenarioRun run;
    run.file = file.file.string();
    run.started = std::chrono::system_clock::now();
    const Clock::time_point start = Clock::now();
    for (const ScenarioCase& scenario : file.cases) {
        auto error_result = [&](std::string message, std::string setting = {}) {
            CaseResult result;
            result.name = scenario.name;
            result.method = std::string(to_string(scenario.method));
            result.outcome = CaseOutcome::error;
            result.expected = expected_text(scenario);
            result.got = "setup";
            result.message = std::move(message);
            result.setting = std::move(setting);
            return result;
        };
        auto url = case_url(scenario, override_url);
        if (!url) {
            run.results.push_back(error_result(url.error().message, url.error().setting));
            continue;
        }
        ClientTlsOptions tls;
        tls.cert = scenario.cert;
        tls.key = scenario.key;
        tls.cacert = scenario.cacert;
        tls.insecure = scenario.insecure;
        auto context = ClientContext::create(tls);
        if (!context) {
            // The settings of ClientTlsOptions have the names of the case's keys.
            const Error& error = context.error();
            CaseResult result =
                error_result(error.setting.empty() ? error.message : "\"" + error.setting + "\": " + error.message);
            result.url = url->to_string();
            run.results.push_back(std::move(result));
            continue;
        }
        ClientRequest request;
        request.url = *url;
        request.method = scenario.method;
        request.headers = scenario.headers;
        request.timeout = scenario.timeout;
        const Exchange exchange = fetch(*context, request);
        CaseResult result = judge(scenario, exchange);
        result.url = url->to_string();
        run.results.push_back(std::move(result));
    }
    run.time = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    return run;
}

} // namespace certauth::client
