// The client against servers that are not certauth: openssl s_server and a
// Python HTTPS server, on ephemeral ports of 127.0.0.1.
#include <certauth/client/client.hpp>

#include "client/client_servers.hpp"
#include "support/files.hpp"

#include "support/catch.hpp"

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;

namespace {

client::ClientContext context(const std::string& cert = "", const std::string& key = "",
                              const std::string& cacert = "fixtures/ca.crt", bool insecure = false) {
    client::ClientTlsOptions options;
    if (!cert.empty()) options.cert = source_path(cert);
    if (!key.empty()) options.key = source_path(key);
    if (!cacert.empty()) options.cacert = source_path(cacert);
    options.insecure = insecure;
    auto result = client::ClientContext::create(options);
    if (!result) FAIL(result.error().message);
    return std::move(*result);
}

client::ClientRequest request(const std::string& url) {
    client::ClientRequest r;
    auto parsed = client::parse_url(url);
    REQUIRE(parsed);
    r.url = *parsed;
    r.timeout = 10s;
    return r;
}

std::string failure_text(const client::Exchange& e) { return e.failure ? e.failure->message : "(no failure)"; }

} // namespace

TEST_CASE("client: GET from openssl s_server -www with --cacert - no client certificate", "[client]") {
    auto server = start_s_server();
    const client::Exchange e = client::fetch(context(), request(server.url()));
    INFO(failure_text(e));
    REQUIRE(e.response);
    CHECK(e.response->status == 200);
    CHECK(e.response->body.find("<HTML>") != std::string::npos);
    CHECK(e.tls.handshake_done);
    CHECK(e.tls.version == "TLSv1.3");
    CHECK_FALSE(e.tls.cipher.empty());
    REQUIRE_FALSE(e.tls.server_chain.empty());
    CHECK(e.tls.server_chain.front().facts().cn() == "localhost");
    CHECK(e.tls.verify_result == 0);
    CHECK_FALSE(e.tls.certificate_requested);
    CHECK_FALSE(e.tls.certificate_sent);
    CHECK(e.peer == "127.0.0.1:" + std::to_string(server.port));
}

TEST_CASE("client: s_server asking for a certificate sees joe's - the CA names it asked for are reported", "[client]") {
    auto server = start_s_server({"-verify", "1", "-CAfile", source_path("fixtures/ca.crt")});
    SECTION("with joe's certificate") {
        const client::Exchange e =
            client::fetch(context("fixtures/joe.crt", "fixtures/joe.key"), request(server.url()));
        INFO(failure_text(e));
        REQUIRE(e.response);
        CHECK(e.response->status == 200);
        CHECK(e.tls.certificate_requested);
        CHECK(e.tls.certificate_sent);
        REQUIRE(e.tls.requested_cas.size() == 1);
        CHECK(e.tls.requested_cas[0].find("CN=certauth test CA") != std::string::npos);
        // s_server -www echoes the client certificate it got.
        CHECK(e.response->body.find("Client certificate") != std::string::npos);
    }
    SECTION("with a combined PEM (certificate and key in one file)") {
        const client::Exchange e = client::fetch(context("fixtures/joe.pem"), request(server.url()));
        INFO(failure_text(e));
        REQUIRE(e.response);
        CHECK(e.tls.certificate_sent);
    }
    SECTION("without a certificate: requested, none sent, still answered (optional)") {
        const client::Exchange e = client::fetch(context(), request(server.url()));
        INFO(failure_text(e));
        REQUIRE(e.response);
        CHECK(e.response->status == 200);
        CHECK(e.tls.certificate_requested);
        CHECK_FALSE(e.tls.certificate_sent);
    }
}

TEST_CASE("client: a server that requires a certificate refuses by alert - and the client says why", "[client]") {
    SECTION("TLS 1.3, none sent: certificate required") {
        auto server = start_s_server({"-Verify", "1", "-CAfile", source_path("fixtures/ca.crt")});
        const client::Exchange e = client::fetch(context(), request(server.url()));
        REQUIRE_FALSE(e.response);
        REQUIRE(e.failure);
        CHECK(e.failure->kind == client::FailureKind::client_certificate_required);
        CHECK_THAT(e.failure->message, Catch::Matchers::ContainsSubstring("requires a client certificate") &&
                                           Catch::Matchers::ContainsSubstring("tlsv13 alert certificate required"));
    }
    SECTION("TLS 1.2, none sent: handshake failure while a certificate was requested") {
        auto server = start_s_server({"-Verify", "1", "-CAfile", source_path("fixtures/ca.crt"), "-tls1_2"});
        const client::Exchange e = client::fetch(context(), request(server.url()));
        REQUIRE(e.failure);
        CHECK(e.failure->kind == client::FailureKind::client_certificate_required);
        CHECK_THAT(e.failure->message, Catch::Matchers::ContainsSubstring("requires a client certificate"));
    }
    SECTION("a certificate from an untrusted CA is refused") {
        auto server =
            start_s_server({"-Verify", "1", "-CAfile", source_path("fixtures/ca.crt"), "-verify_return_error"});
        const client::Exchange e =
            client::fetch(context("fixtures/rogue.crt", "fixtures/rogue.key"), request(server.url()));
        REQUIRE(e.failure);
        CHECK(e.failure->kind == client::FailureKind::client_certificate_refused);
        CHECK_THAT(e.failure->message,
                   Catch::Matchers::ContainsSubstring("the server refused the client certificate") &&
                       Catch::Matchers::ContainsSubstring("CN=joe") && Catch::Matchers::ContainsSubstring("alert"));
    }
}

TEST_CASE("client: an untrusted server certificate fails with the verification error - -k proceeds", "[client]") {
    auto server = start_s_server();
    SECTION("system store only") {
        const client::Exchange e = client::fetch(context("", "", ""), request(server.url()));
        REQUIRE(e.failure);
        CHECK(e.failure->kind == client::FailureKind::server_untrusted);
        CHECK_THAT(e.failure->message, Catch::Matchers::ContainsSubstring("server certificate not trusted") &&
                                           Catch::Matchers::ContainsSubstring("local issuer certificate"));
    }
    SECTION("the wrong CA") {
        const client::Exchange e = client::fetch(context("", "", "fixtures/rogue-ca.crt"), request(server.url()));
        REQUIRE(e.failure);
        CHECK(e.failure->kind == client::FailureKind::server_untrusted);
    }
    SECTION("-k") {
        const client::Exchange e = client::fetch(context("", "", "", true), request(server.url()));
        INFO(failure_text(e));
        REQUIRE(e.response);
        CHECK(e.response->status == 200);
        CHECK(e.tls.verify_result != 0);
        CHECK_THAT(e.tls.verify_error, Catch::Matchers::ContainsSubstring("local issuer"));
    }
}

TEST_CASE("client: host names are checked - --resolve and --servername", "[client]") {
    auto server = start_s_server();
    const std::string port = std::to_string(server.port);
    SECTION("a name the certificate does not hold") {
        auto r = request("https://wrong.example:" + port + "/");
        auto resolve = client::parse_resolve("wrong.example:" + port + ":127.0.0.1");
        REQUIRE(resolve);
        r.resolve.push_back(*resolve);
        const client::Exchange e = client::fetch(context(), r);
        REQUIRE(e.failure);
        CHECK(e.failure->kind == client::FailureKind::hostname_mismatch);
        CHECK_THAT(e.failure->message, Catch::Matchers::ContainsSubstring("wrong.example") &&
                                           Catch::Matchers::ContainsSubstring("DNS:localhost"));
    }
    SECTION("an IP address the certificate holds") {
        const client::Exchange e = client::fetch(context(), request("https://127.0.0.1:" + port + "/"));
        INFO(failure_text(e));
        CHECK(e.response);
    }
    SECTION("--resolve sends localhost to 127.0.0.1") {
        auto r = request("https://localhost:" + port + "/");
        r.resolve.push_back(*client::parse_resolve("localhost:" + port + ":127.0.0.1"));
        const client::Exchange e = client::fetch(context(), r);
        INFO(failure_text(e));
        REQUIRE(e.response);
        CHECK(e.peer == "127.0.0.1:" + port);
    }
    SECTION("--servername checks another name than the URL's") {
        auto r = request("https://wrong.example:" + port + "/");
        r.resolve.push_back(*client::parse_resolve("wrong.example:" + port + ":127.0.0.1"));
        r.servername = "localhost";
        const client::Exchange e = client::fetch(context(), r);
        INFO(failure_text(e));
        CHECK(e.response);
    }
}

TEST_CASE("client: connection errors are classified", "[client]") {
    SECTION("nothing listens: connection refused") {
        const std::uint16_t port = free_port();
        const client::Exchange e = client::fetch(context(), request("https://127.0.0.1:" + std::to_string(port) + "/"));
        REQUIRE(e.failure);
        CHECK(e.failure->kind == client::FailureKind::connection_refused);
        CHECK_THAT(e.failure->message, Catch::Matchers::ContainsSubstring("connection refused"));
    }
    SECTION("an unresolvable name") {
        const client::Exchange e = client::fetch(context(), request("https://nonexistent.invalid:3443/"));
        REQUIRE(e.failure);
        CHECK(e.failure->kind == client::FailureKind::name_not_resolved);
        CHECK_THAT(e.failure->message, Catch::Matchers::ContainsSubstring("nonexistent.invalid"));
    }
    SECTION("a listener that never answers: timed out") {
        SilentListener listener;
        auto r = request("https://127.0.0.1:" + std::to_string(listener.port()) + "/");
        r.timeout = 500ms;
        const auto start = std::chrono::steady_clock::now();
        const client::Exchange e = client::fetch(context(), r);
        REQUIRE(e.failure);
        CHECK(e.failure->kind == client::FailureKind::timed_out);
        CHECK_THAT(e.failure->message, Catch::Matchers::ContainsSubstring("timed out"));
        CHECK(std::chrono::steady_clock::now() - start < 5s);
    }
}

TEST_CASE("client: the chain sent is the --cert file's, or the intermediates found once in --cacert - never the "
          "root",
          "[client]") {
    // The certificates sent after the leaf: the context's chain (built at
    // creation, SSL_MODE_NO_AUTO_CHAIN: nothing is built per handshake).
    auto sent_after_leaf = [](const client::ClientContext& client) {
        STACK_OF(X509)* chain = nullptr;
        REQUIRE(SSL_CTX_get0_chain_certs(client.native(), &chain) == 1);
        std::vector<std::string> subjects;
        for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i)
            subjects.push_back(x509::Certificate(x509::share(sk_X509_value(chain, i))).facts().subject.to_string());
        CHECK((SSL_CTX_get_mode(client.native()) & SSL_MODE_NO_AUTO_CHAIN) != 0);
        return subjects;
    };
    using Subjects = std::vector<std::string>;
    // joe's issuer is the root in --cacert: the leaf goes alone.
    CHECK(sent_after_leaf(context("fixtures/joe.crt", "fixtures/joe.key")).empty());
    // carol's file holds the leaf only; her intermediate is found in a
    // --cacert bundle, the root left out.
    TempDir dir;
    const std::string bundle = dir.write("bundle.pem", read_text(source_path("fixtures/ca.crt")) +
                                                           read_text(source_path("fixtures/sub-ca.crt")));
    client::ClientTlsOptions options;
    options.cert = source_path("fixtures/carol.crt");
    options.key = source_path("fixtures/carol.key");
    options.cacert = bundle;
    auto with_bundle = client::ClientContext::create(options);
    REQUIRE(with_bundle);
    const Subjects intermediate = sent_after_leaf(*with_bundle);
    REQUIRE(intermediate.size() == 1);
    CHECK_THAT(intermediate.front(), Catch::Matchers::ContainsSubstring("CN=certauth test intermediate CA"));
    // Without it in --cacert: the leaf alone (the server will say untrusted).
    CHECK(sent_after_leaf(context("fixtures/carol.crt", "fixtures/carol.key")).empty());
    // A file with the chain: sent as it is.
    CHECK(sent_after_leaf(context("fixtures/carol-chain.pem", "fixtures/carol.key")).size() == 1);
}

TEST_CASE("client: a key that does not match the certificate is refused before connecting", "[client]") {
    client::ClientTlsOptions options;
    options.cert = source_path("fixtures/joe.crt");
    options.key = source_path("fixtures/bob.key");
    auto result = client::ClientContext::create(options);
    REQUIRE_FALSE(result);
    CHECK_THAT(result.error().message,
               Catch::Matchers::ContainsSubstring("bob.key") && Catch::Matchers::ContainsSubstring("does not match") &&
                   Catch::Matchers::ContainsSubstring("joe.crt") && Catch::Matchers::ContainsSubstring("CN=joe"));
    options.key.clear();
    result = client::ClientContext::create(options);
    REQUIRE_FALSE(result);
    CHECK_THAT(result.error().message,
               Catch::Matchers::ContainsSubstring("joe.crt") && Catch::Matchers::ContainsSubstring("no private key"));
    options.cert = source_path("fixtures/missing.crt");
    result = client::ClientContext::create(options);
    REQUIRE_FALSE(result);
    CHECK_THAT(result.error().message, Catch::Matchers::ContainsSubstring("missing.crt"));
}

TEST_CASE("client: keep-alive Python server - HEAD and custom headers", "[client]") {
    auto server = start_python_server();
    auto r = request(server.url());
    SECTION("GET with joe") {
        const client::Exchange e = client::fetch(context("fixtures/joe.crt", "fixtures/joe.key"), r);
        INFO(failure_text(e));
        REQUIRE(e.response);
        CHECK(e.response->status == 200);
        CHECK(e.response->body == R"({"cn": "joe"})");
    }
    SECTION("HEAD without a certificate") {
        r.method = client::HttpMethod::head;
        r.headers.push_back({"X-Probe", "1"});
        const client::Exchange e = client::fetch(context(), r);
        INFO(failure_text(e));
        REQUIRE(e.response);
        CHECK(e.response->status == 401);
        CHECK(e.response->body.empty());
    }
    SECTION("the reason of a denial") {
        const client::Exchange e = client::fetch(context(), r);
        REQUIRE(e.response);
        CHECK(client::body_reason(e.response->body) == "no_certificate");
    }
}
