// Requests built to break the server's framing or limits, sent as an
// attacker would - over TLS without a client certificate, and as plain HTTP
// to the TLS port - against a real `certauth serve`. Each is answered (431,
// 400) and its connection closed, nothing of it reaches another
// connection, and the server keeps serving every slot.
#include "support/hostile_support.hpp"

#include "support/catch.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;

namespace {

ClientOptions no_certificate() { return ClientOptions{}; }

// Sends `request` and reads the answer; REQUIREs one, and that the server
// closes the connection after it.
HttpResponse answer_then_close(unsigned short port, const ClientOptions& options, const std::string& request) {
    auto client = HttpClient::connect(port, options);
    REQUIRE(client);
    REQUIRE(client->send(request));
    const auto response = client->read();
    REQUIRE(response);
    CHECK(response->header("connection") == "close");
    CHECK(client->closed_by_server(3000ms));
    return *response;
}

std::string chunked_with_trailer(std::size_t trailer_size) {
    return "GET / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " +
           std::string(trailer_size, 'a') + "\r\n\r\n";
}

} // namespace

TEST_CASE("security: an oversized trailer field is 431 and leaks nothing, with or without a certificate",
          "[security]") {
    // Three slots and one thread: a leaked connection or a poisoned thread
    // buffer shows within these few requests.
    ServeProcess server({"--no-access-log", "--threads", "1", "--max-connections", "3"});
    REQUIRE(server.started());
    for (int round = 0; round < 5; ++round) {
        INFO("round " << round);
        for (const auto& options : {no_certificate(), plain_tcp()}) {
            const HttpResponse response = answer_then_close(server.port(), options, chunked_with_trailer(65'600));
            CHECK(response.status == 431);
            CHECK(response.json().value("detail", "").find("trailer") != std::string::npos);
        }
        // The next client on the same thread gets its own request parsed.
        CHECK(got(fetch(server.port(), "/healthz")) == "200 ");
        CHECK(joe_status(server.port()) == "200 ");
    }
    CHECK(server.output().find("error in a connection") == std::string::npos);
}

TEST_CASE("security: trailers count against --max-header-size", "[security]") {
    ServeProcess server({"--no-access-log"});
    REQUIRE(server.started());
    SECTION("a 40 KB trailer under the default 16 KiB limit: 431") {
        CHECK(answer_then_close(server.port(), as("joe"), chunked_with_trailer(40'000)).status == 431);
    }
    SECTION("a small trailer is accepted") {
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        REQUIRE(client->send(chunked_with_trailer(100)));
        CHECK(got(client->read()) == "200 ");
        CHECK(got(client->request("GET", "/")) == "200 ");
    }
    SECTION("a trailer arriving a byte at a time is held to the limit too") {
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        REQUIRE(client->send("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: "));
        bool refused = false;
        for (int i = 0; i < 20 && !refused; ++i) { // 20 x 1 KiB > 16 KiB
            refused = !client->send(std::string(1024, 'a'));
            std::this_thread::sleep_for(5ms);
        }
        const auto response = client->read();
        REQUIRE(response);
        CHECK(response->status == 431);
    }
    CHECK(joe_status(server.port()) == "200 ");
}

TEST_CASE("security: a header field over 64 KiB is 431 when --max-header-size allows more", "[security]") {
    ServeProcess server({"--no-access-log", "--threads", "1", "--max-header-size", "1048576"});
    REQUIRE(server.started());
    for (const auto& options : {no_certificate(), as("joe")}) {
        const HttpResponse response = answer_then_close(
            server.port(), options, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70'000, 'b') + "\r\n\r\n");
        CHECK(response.status == 431);
    }
    // A trailer field of that size too.
    CHECK(answer_then_close(server.port(), as("joe"), chunked_with_trailer(70'000)).status == 431);
    // Large headers within Beast's field size are still served.
    auto client = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(client);
    CHECK(got(client->request("GET", "/", "X-Big: " + std::string(60'000, 'b') + "\r\n")) == "200 ");
    CHECK(joe_status(server.port()) == "200 ");
    CHECK(server.output().find("error in a connection") == std::string::npos);
}

TEST_CASE("security: ambiguous request framing is 400, closed, and the smuggled request never answered", "[security]") {
    ServeProcess server({"--no-access-log"});
    REQUIRE(server.started());
    // Each carries, as its "body", a second request that must not be
    // answered: were the framing read as "no body", /smuggled would be.
    const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    char size[16];
    std::snprintf(size, sizeof size, "%zx", smuggled.size());
    const std::string body = std::string(size) + "\r\n" + smuggled + "\r\n0\r\n\r\n";
    for (const std::string& framing : {
             std::string("HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n"),
             std::string("HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n"),
             std::string("HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"),
             std::string("HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n"),
             std::string("HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"),
             std::string("HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 3\r\n"),
             std::string("HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n"),
         }) {
        INFO(framing);
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        REQUIRE(client->send("POST / " + framing + "\r\n" + body));
        const auto response = client->read();
        REQUIRE(response);
        CHECK(response->status == 400);
        CHECK(response->header("connection") == "close");
        CHECK(client->closed_by_server(3000ms)); // no second answer came first
    }
    // Refused by the parser at a field, or after the header: named the same.
    for (const auto& [framing, problem] : std::vector<std::pair<std::string, std::string>>{
             {"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "both Transfer-Encoding and Content-Length"},
             {"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "both Transfer-Encoding and Content-Length"},
             {"Transfer-Encoding: xchunked\r\nContent-Length: 3\r\n", "both Transfer-Encoding and Content-Length"},
             {"Content-Length: 3\r\nContent-Length: 4\r\n", "Content-Length values that differ"},
             {"Transfer-Encoding: gzip, chunked\r\nTransfer-Encoding: identity\r\n",
              "Transfer-Encoding \"gzip, chunked\" followed by another Transfer-Encoding field: only \"chunked\" is "
              "accepted in a request"},
             {"Transfer-Encoding: chunked, identity\r\n",
              "Transfer-Encoding \"chunked, identity\": only \"chunked\" is accepted in a request"},
         }) {
        INFO(framing);
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        REQUIRE(client->send("POST / HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n" + body));
        const auto response = client->read();
        REQUIRE(response);
        CHECK(response->status == 400);
        CHECK(response->json().value("detail", "") == "ambiguous request body framing: " + problem);
    }
    // The plain chunked form is fine (a POST is 405, answered after its body).
    auto client = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(client);
    REQUIRE(client->send("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n" + body));
    CHECK(got(client->read()) == "200 ");
    CHECK(got(client->request("GET", "/")) == "200 ");
}
