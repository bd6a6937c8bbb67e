// The library's errors name the setting; the CLI names its flag
// (src/cli/setting_flag.hpp). Each setting a library error can name is
// produced here by the library itself, so that a setting renamed on one side
// shows as an error without a flag.
#include "cli/setting_flag.hpp"

#include "support/files.hpp"

#include "support/catch.hpp"

#include <certauth/client/client.hpp>
#include <certauth/client/load.hpp>
#include <certauth/client/scenario.hpp>
#include <certauth/client/url.hpp>
#include <certauth/server/tls_context.hpp>
#include <certauth/x509/trust_store.hpp>

#include <string>

using namespace certauth;
using certauth::test::fixture;

namespace {

Error client_error(const client::ClientTlsOptions& options) {
    auto context = client::ClientContext::create(options);
    REQUIRE_FALSE(context);
    return context.error();
}

Error server_error(const server::TlsSettings& settings) {
    x509::TrustConfig config;
    config.ca_files = {fixture("ca.crt")};
    auto trust = x509::TrustStore::load(config);
    REQUIRE(trust);
    auto context = server::TlsContext::create(settings, *trust);
    REQUIRE_FALSE(context);
    return context.error();
}

Error load_error(const client::LoadOptions& options) {
    client::ClientTlsOptions insecure;
    insecure.insecure = true;
    auto context = client::ClientContext::create(insecure);
    REQUIRE(context);
    auto result = client::run_load(*context, options, nullptr, std::chrono::milliseconds(100));
    REQUIRE_FALSE(result);
    return result.error();
}

} // namespace

TEST_CASE("a library error names its setting, and the CLI the flag that gives it", "[cli]") {
    SECTION("the client's trusted CAs, certificate and key") {
        client::ClientTlsOptions options;
        options.cacert = "/nonexistent/ca.pem";
        Error error = client_error(options);
        CHECK(error.setting == "cacert");
        CHECK(error.message.rfind("/nonexistent/ca.pem: ", 0) == 0);
        CHECK(cli::with_flag(error) == "--cacert: " + error.message);

        options = {};
        options.key = fixture("joe.key");
        error = client_error(options);
        CHECK(cli::with_flag(error) == "--cert: no client certificate given for the key " + fixture("joe.key"));

        options = {};
        options.cert = fixture("joe.crt"); // no key in it, and none given
        error = client_error(options);
        CHECK(cli::with_flag(error) == "--key: no key file given, and " + fixture("joe.crt") + " holds no private key");

        options.key = "/nonexistent/joe.key";
        error = client_error(options);
        CHECK(error.setting == "key");
        CHECK(cli::with_flag(error).rfind("--key: /nonexistent/joe.key: ", 0) == 0);
    }
    SECTION("the load's concurrency and number of requests") {
        client::LoadOptions options;
        options.request.url = *client::parse_url("https://127.0.0.1:9/");
        options.concurrency = 0;
        CHECK(cli::with_flag(load_error(options)) == "--concurrency: the concurrency must be at least 1");
        options.concurrency = 1;
        options.requests = 0;
        CHECK(cli::with_flag(load_error(options)) == "--requests: the number of requests must be at least 1");
    }
    SECTION("the server's certificate and key") {
        server::TlsSettings settings;
        CHECK(cli::with_flag(server_error(settings)) == "--cert: no server certificate given");
        settings.cert_file = fixture("server.crt");
        CHECK(cli::with_flag(server_error(settings)) == "--key: no server key given");
        settings.key_file = "/nonexistent/server.key";
        CHECK(cli::with_flag(server_error(settings)).rfind("--key: /nonexistent/server.key: ", 0) == 0);
    }
    SECTION("the trusted CAs, the known intermediates and the CRLs") {
        const auto trust_error = [](const x509::TrustConfig& config) {
            auto store = x509::TrustStore::load(config);
            REQUIRE_FALSE(store);
            return cli::with_flag(store.error());
        };
        x509::TrustConfig config;
        config.ca_files = {"/nonexistent/ca.crt"};
        CHECK(trust_error(config).rfind("--ca: /nonexistent/ca.crt: ", 0) == 0);
        config.ca_files = {fixture("ca.crt")};
        config.intermediate_files = {"/nonexistent/sub-ca.crt"};
        CHECK(trust_error(config).rfind("--intermediate: /nonexistent/sub-ca.crt: ", 0) == 0);
        config.intermediate_files = {};
        config.crl_files = {"/nonexistent/ca.crl"};
        CHECK(trust_error(config).rfind("--crl: /nonexistent/ca.crl: ", 0) == 0);
    }
    SECTION("the URL of every scenario case") {
        client::ScenarioCase no_url;
        no_url.name = "x";
        auto url = client::case_url(no_url, "");
        REQUIRE_FALSE(url);
        CHECK(cli::flag_of_setting(url.error().setting) == "--url");
    }
    SECTION("an error about no one setting, or one no flag gives, is its message alone") {
        CHECK(cli::with_flag(Error{"users.json:3:7: users[0].cn: expected a string"}) ==
              "users.json:3:7: users[0].cn: expected a string");
        CHECK(cli::with_flag(Error{"what is wrong", "no_such_setting"}) == "what is wrong");
        CHECK(cli::flag_of_setting("status") == "--status");
        CHECK(cli::flag_of_setting("").empty());
    }
}
