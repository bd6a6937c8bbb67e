// An exception anywhere in one connection's processing ends that connection
// only: its slot and memory are given back, the thread's buffers carry
// nothing of it into the next client's request, and the listener keeps
// accepting. The server runs in this process (in_process_server.hpp) so
// that a fault can be injected at each phase (ServerOptions::fault_injection)
// and the open-connection count read.
#include "support/in_process_server.hpp"

#include "support/catch.hpp"
#include "support/hostile_support.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

namespace {

// Throws once, at the next start of `phase` (armed by the test thread, run
// on the server's worker thread).
struct Fault {
    std::atomic<int> armed{-1};
    std::atomic<int> fired{0};

    void arm(server::ConnectionPhase phase) { armed.store(static_cast<int>(phase)); }
    void operator()(server::ConnectionPhase phase) {
        int expected = static_cast<int>(phase);
        if (armed.compare_exchange_strong(expected, -1)) {
            fired.fetch_add(1);
            throw std::runtime_error("injected fault");
        }
    }
};

bool connections_drop_to_zero(server::Server& server, std::chrono::milliseconds timeout) {
    const auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
        if (server.open_connections() == 0) return true;
        std::this_thread::sleep_for(10ms);
    }
    return server.open_connections() == 0;
}

const char* name_of(server::ConnectionPhase phase) {
    switch (phase) {
    case server::ConnectionPhase::detect: return "detect";
    case server::ConnectionPhase::handshake: return "handshake";
    case server::ConnectionPhase::read: return "read";
    case server::ConnectionPhase::handle: return "handle";
    case server::ConnectionPhase::write: return "write";
    }
    return "?";
}

} // namespace

TEST_CASE("security: a fault in any phase of a connection ends that connection only", "[security]") {
    Fault fault;
    // One worker thread and one connection slot: a leaked slot or a
    // poisoned thread buffer shows at the very next client.
    InProcessServer server([&](server::ServerOptions& options) {
        options.threads = 1;
        options.limits.max_connections = 1;
        options.limits.shutdown_timeout = 1s;
        options.fault_injection = [&fault](server::ConnectionPhase phase) { fault(phase); };
    });
    REQUIRE(joe_status(server.port()) == "200 ");

    for (const auto phase :
         {server::ConnectionPhase::detect, server::ConnectionPhase::handshake, server::ConnectionPhase::read,
          server::ConnectionPhase::handle, server::ConnectionPhase::write}) {
        INFO("fault at " << name_of(phase));
        // The one slot is free again before the next client comes (else it
        // is refused at accept, before any phase).
        REQUIRE(connections_drop_to_zero(server.server(), 3000ms));
        fault.arm(phase);
        {
            std::string error;
            auto client = HttpClient::connect(server.port(), as("joe"), &error);
            if (client) {
                // Half a request first, so that the thread's read buffer
                // holds bytes of this connection when the fault comes.
                (void)client->send("GET / HTTP/1.1\r\nHost: local");
                std::this_thread::sleep_for(20ms);
                (void)client->send("host\r\nX-Pad: " + std::string(3000, 'p') + "\r\n\r\n");
                const auto response = client->read();
                if (phase == server::ConnectionPhase::read || phase == server::ConnectionPhase::handle) {
                    // Not answered yet: 400 with what happened, then closed.
                    REQUIRE(response);
                    CHECK(response->status == 400);
                    CHECK(response->json().value("detail", "").find("injected fault") != std::string::npos);
                    CHECK(response->header("connection") == "close");
                } else {
                    CHECK_FALSE(response); // dropped
                }
                CHECK(client->closed_by_server(3000ms));
            }
        }
        // The server may meet the fault after the client gave up: bounded wait.
        const auto fired_by = std::chrono::steady_clock::now() + 3000ms;
        while (fault.fired.load() == 0 && std::chrono::steady_clock::now() < fired_by)
            std::this_thread::sleep_for(5ms);
        CHECK(fault.fired.load() == 1);
        fault.fired = 0;
        CHECK(connections_drop_to_zero(server.server(), 3000ms));
        // The next client, on the same thread and the one slot, is served.
        CHECK(joe_status(server.port()) == "200 ");
        CHECK(connections_drop_to_zero(server.server(), 3000ms));
    }

    SECTION("plain HTTP: a fault while reading the request is answered 400 and accepting goes on") {
        fault.arm(server::ConnectionPhase::read);
        ClientOptions plain;
        plain.tls = false;
        auto client = HttpClient::connect(server.port(), plain);
        REQUIRE(client);
        const auto response = client->request("GET", "/");
        REQUIRE(response);
        CHECK(response->status == 400);
        CHECK(fault.fired.load() == 1);
        CHECK(client->closed_by_server(3000ms));
        client.reset();
        CHECK(connections_drop_to_zero(server.server(), 3000ms));
        for (int i = 0; i < 5; ++i)
            CHECK(joe_status(server.port()) == "200 ");
    }
}
