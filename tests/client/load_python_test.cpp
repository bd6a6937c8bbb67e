// The load generator against a keep-alive Python HTTPS server (not certauth).
#include <certauth/client/load.hpp>

#include "client/client_servers.hpp"

#include "support/catch.hpp"

#include <algorithm>
#include <thread>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;

namespace {

client::ClientContext load_context(const std::string& cert = "", const std::string& key = "") {
    client::ClientTlsOptions options;
    if (!cert.empty()) options.cert = source_path(cert);
    if (!key.empty()) options.key = source_path(key);
    options.cacert = source_path("fixtures/ca.crt");
    auto result = client::ClientContext::create(options);
    if (!result) FAIL(result.error().message);
    return std::move(*result);
}

client::LoadOptions load_options(const TestServer& server, const std::string& path = "/") {
    client::LoadOptions options;
    options.request.url = *client::parse_url(server.url(path));
    options.request.timeout = 10s;
    options.requests = 300;
    options.concurrency = 4;
    options.threads = 2;
    return options;
}

} // namespace

TEST_CASE("load: default threads - one per core, half of them for a loopback target", "[client]") {
    CHECK(client::default_load_threads(false, 8) == 8);
    CHECK(client::default_load_threads(true, 8) == 4);
    CHECK(client::default_load_threads(true, 2) == 1);
    CHECK(client::default_load_threads(true, 1) == 1);
    CHECK(client::default_load_threads(false, 1) == 1);
    CHECK(client::default_load_threads(false, 0) == 1); // unknown core count
    CHECK(client::default_load_threads(true, 0) == 1);
}

TEST_CASE("load: exactly N keep-alive requests - counted by status and reason", "[client]") {
    auto server = start_python_server();
    SECTION("joe: all 200 over 4 connections, 4 handshakes") {
        auto result = client::run_load(load_context("fixtures/joe.crt", "fixtures/joe.key"), load_options(server));
        REQUIRE(result);
        CHECK(result->responses == 300);
        CHECK(result->error_count() == 0);
        CHECK(result->by_status == std::map<int, std::uint64_t>{{200, 300}});
        CHECK(result->by_reason.empty());
        CHECK(result->handshakes == 4);
        CHECK(result->latency.count() == 300);
        CHECK(result->latency.max() > 0);
        CHECK(result->requests_per_second() > 0);
        CHECK(result->threads == 2);
    }
    SECTION("no certificate: all 401 no_certificate") {
        auto options = load_options(server);
        options.requests = 101; // not a multiple of the connections or threads
        options.concurrency = 3;
        auto result = client::run_load(load_context(), options);
        REQUIRE(result);
        CHECK(result->responses == 101);
        CHECK(result->by_status == std::map<int, std::uint64_t>{{401, 101}});
        CHECK(result->by_reason == std::map<std::string, std::uint64_t>{{"no_certificate", 101}});
    }
    SECTION("threads by default: half of the cores against a server on this machine") {
        auto options = load_options(server);
        options.threads = 0;
        options.requests = 128;
        auto result = client::run_load(load_context(), options);
        REQUIRE(result);
        CHECK(result->responses == 128);
        CHECK(result->error_count() == 0);
        // Capped at the connections (4).
        CHECK(result->threads == std::min(options.concurrency, std::max(1u, std::thread::hardware_concurrency() / 2)));
    }
    SECTION("HEAD") {
        auto options = load_options(server);
        options.request.method = client::HttpMethod::head;
        options.requests = 50;
        auto result = client::run_load(load_context(), options);
        REQUIRE(result);
        CHECK(result->responses == 50);
        CHECK(result->by_status[401] == 50);
    }
}

TEST_CASE("load: a new connection per request makes one handshake per request", "[client]") {
    auto server = start_python_server();
    auto options = load_options(server);
    options.requests = 60;
    options.mode = client::ConnectionMode::new_connections;
    auto result = client::run_load(load_context("fixtures/joe.crt", "fixtures/joe.key"), options);
    REQUIRE(result);
    CHECK(result->responses == 60);
    CHECK(result->handshakes == 60);
    CHECK(result->error_count() == 0);
    CHECK(result->handshakes_per_second() > 0);
}

TEST_CASE("load: a server that closes after each response is followed with new connections", "[client]") {
    auto server = start_python_server();
    auto result = client::run_load(load_context(), load_options(server, "/close"));
    REQUIRE(result);
    CHECK(result->responses == 300);
    CHECK(result->error_count() == 0);
    CHECK(result->handshakes == 300);
}

TEST_CASE("load: a response whose body ends with the connection is complete", "[client]") {
    auto server = start_python_server();
    auto options = load_options(server, "/eof");
    options.requests = 40;
    auto result = client::run_load(load_context("fixtures/joe.crt", "fixtures/joe.key"), options);
    REQUIRE(result);
    CHECK(result->error_count() == 0);
    CHECK(result->by_status == std::map<int, std::uint64_t>{{200, 40}});
    CHECK(result->handshakes == 40);
    // Status line, headers and {"cn": "joe"}, each counted once.
    CHECK(result->bytes_received > 40 * std::string_view("{\"cn\": \"joe\"}").size());
    CHECK(result->bytes_received < 40 * 400);
}

TEST_CASE("load: a duration run stops on time", "[client]") {
    auto server = start_python_server();
    auto options = load_options(server);
    options.requests.reset();
    options.duration = 700ms;
    const auto start = std::chrono::steady_clock::now();
    auto result = client::run_load(load_context(), options);
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE(result);
    CHECK(result->responses > 0);
    CHECK(took >= 700ms);
    CHECK(took < 5s);
}

TEST_CASE("load: set-up failures are errors - failing requests are counted", "[client]") {
    client::LoadOptions options;
    options.request.url = *client::parse_url("https://127.0.0.1:" + std::to_string(free_port()) + "/");
    options.requests = 5;
    auto refused = client::run_load(load_context(), options);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Matchers::ContainsSubstring("connection refused"));

    options.request.url = *client::parse_url("https://nonexistent.invalid/");
    auto unresolved = client::run_load(load_context(), options);
    REQUIRE_FALSE(unresolved);
    CHECK_THAT(unresolved.error().message, Catch::Matchers::ContainsSubstring("name not resolved"));

    SilentListener listener;
    options.request.url = *client::parse_url("https://127.0.0.1:" + std::to_string(listener.port()) + "/");
    options.request.timeout = 300ms;
    options.requests = 4;
    options.concurrency = 2;
    auto timed_out = client::run_load(load_context(), options);
    REQUIRE(timed_out);
    CHECK(timed_out->responses == 0);
    CHECK(timed_out->errors["timed_out"].count == 4);
}
