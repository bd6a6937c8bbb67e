// The forwarding path in a server inside this process (in_process_server.hpp):
// requests forwarded to a real application (tests/e2e/apps/echo_app.py), the
// connection count back to zero after every kind of ending, and a fault in
// the middle of a forwarded exchange ending that connection only. The
// binary-driving tests of --upstream are tests/e2e/upstream_test.cpp.
#include "support/echo_app.hpp"
#include "support/hostile_support.hpp"
#include "support/in_process_server.hpp"

#include "support/catch.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;

namespace {

bool drops_to_zero(server::Server& server) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (server.open_connections() == 0) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

server::UpstreamOptions upstream_to(const std::string& url) {
    auto target = client::parse_upstream(url);
    REQUIRE(target);
    server::UpstreamOptions options;
    options.target = std::move(*target);
    options.timeout = 2s;
    return options;
}

} // namespace

TEST_CASE("forwarding: joe's requests reach the application, bob's do not, and connections end cleanly", "[server]") {
    EchoApp app;
    REQUIRE(app.started());
    std::atomic<int> fault_after{-1}; // throws at the Nth handle phase from now
    InProcessServer server([&](server::ServerOptions& options) {
        options.upstream = upstream_to(app.upstream());
        options.limits.shutdown_timeout = 1s;
        options.fault_injection = [&](server::ConnectionPhase phase) {
            if (phase == server::ConnectionPhase::handle && fault_after.fetch_sub(1) == 0)
                throw std::runtime_error("injected fault");
        };
    });
    {
        auto joe = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(joe);
        for (int i = 0; i < 20; ++i) {
            const auto response = joe->request("GET", "/item/" + std::to_string(i));
            REQUIRE(response);
            CHECK(response->status == 200);
            CHECK(response->json()["path"] == "/item/" + std::to_string(i));
            CHECK(response->json()["headers"]["x-certauth-cn"] == "joe");
        }
        const int seen = app.requests_seen();
        auto bob = HttpClient::connect(server.port(), as("bob"));
        REQUIRE(bob);
        CHECK(got(bob->request("GET", "/")) == "401 unknown_user");
        CHECK(app.requests_seen() == seen);
    }
    CHECK(drops_to_zero(server.server()));

    SECTION("a fault while a request is decided for forwarding is 400 for that connection only") {
        fault_after = 0;
        auto joe = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(joe);
        const auto response = joe->request("GET", "/x");
        REQUIRE(response);
        CHECK(response->status == 400);
        CHECK(joe->closed_by_server(3s));
        joe.reset();
        auto next = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(next);
        CHECK(got(next->request("GET", "/y")) == "200 ");
        next.reset();
        CHECK(drops_to_zero(server.server()));
    }
    SECTION("the application gone: 502, and the connection count still drops to zero") {
        InProcessServer orphan([&](server::ServerOptions& options) {
            options.upstream = upstream_to("http://127.0.0.1:9");
            options.limits.shutdown_timeout = 1s;
        });
        {
            auto joe = HttpClient::connect(orphan.port(), as("joe"));
            REQUIRE(joe);
            REQUIRE(joe->send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
            const auto response = joe->read();
            REQUIRE(response);
            CHECK(response->status == 502);
        }
        CHECK(drops_to_zero(orphan.server()));
    }
}
