// Inputs fuzz/http_request (fuzz/http_request.cpp) found to crash the
// server's request handling, replayed against the real `certauth serve`; and
// deep JSON from a server, which crashed the probe.
#include "support/files.hpp"
#include "support/server_support.hpp"

#include <certauth/client/client.hpp>

#include "support/catch.hpp"
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using namespace certauth::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string regression(const std::string& name) {
    return read_text(fs::path(source_dir()) / "fuzz/regressions/http_request" / name);
}

ClientOptions joe() {
    ClientOptions options;
    options.cert = fixture("joe.crt");
    options.key = fixture("joe.key");
    return options;
}

} // namespace

// Beast 1.81 asserts that a last chunk resumed after need_more has 5 bytes;
// "0\r\n" and one more byte is valid (boostorg/beast#2861). With assertions
// on (the Debug/sanitizer build) that aborted the whole server.
TEST_CASE("serve: a chunked body whose last chunk arrives in pieces is read to the end", "[e2e]") {
    ServeProcess server({"--no-access-log"});
    REQUIRE(server.started());
    auto client = HttpClient::connect(server.port(), joe());
    REQUIRE(client);
    // The session parses the head and "0\r\n" and needs more; then one byte
    // per TLS record. The pauses make them separate reads on the server (no
    // signal says "parsed so far").
    REQUIRE(client->send("GET /admin HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"));
    std::this_thread::sleep_for(200ms);
    REQUIRE(client->send("\r"));
    std::this_thread::sleep_for(200ms);
    REQUIRE(client->send("\n"));
    const auto response = client->read();
    REQUIRE(response);
    CHECK(response->status == 200);
    const auto again = client->request("GET", "/");
    REQUIRE(again);
    CHECK(again->status == 200);
    CHECK(server.process().running());
}

TEST_CASE("serve: the fuzzer's input sent 13 bytes at a time as plain HTTP leaves the server serving", "[e2e]") {
    ServeProcess server({"--no-access-log"});
    REQUIRE(server.started());
    ClientOptions plain;
    plain.tls = false;
    auto client = HttpClient::connect(server.port(), plain);
    REQUIRE(client);
    const std::string bytes = regression("chunked-last-chunk-split.http");
    for (std::size_t at = 0; at < bytes.size(); at += 13) {
        if (!client->send(bytes.substr(at, 13))) break; // answered and closed: fine
        std::this_thread::sleep_for(20ms);
    }
    (void)client->closed_by_server(2000ms);
    CHECK(server.process().running());
    const auto health = fetch(server.port(), "/healthz", fixture("joe.crt"), fixture("joe.key"));
    REQUIRE(health);
    CHECK(health->status == 200);
}

// Found while fuzzing the user list: JSON nested 100,000 deep overflows the
// stack when copied or printed. A server's response body is such input for
// the probe (probe --json crashed on 300 KB of brackets).
TEST_CASE("probe: response bodies nested deeper than 64 levels are not JSON to it", "[e2e]") {
    const auto nested = [](std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); };
    CHECK(certauth::client::parse_body(R"({"cn":"joe","roles":["admin"]})") ==
          nlohmann::json{{"cn", "joe"}, {"roles", {"admin"}}});
    CHECK_FALSE(certauth::client::parse_body(nested(64)).is_discarded());
    CHECK(certauth::client::parse_body(nested(65)).is_discarded());
    std::string objects;
    for (int i = 0; i < 64; ++i)
        objects += R"({"a":)";
    objects += "1" + std::string(64, '}');
    CHECK_FALSE(certauth::client::parse_body(objects).is_discarded());
    CHECK(certauth::client::parse_body(R"({"a":)" + objects + "}").is_discarded());
    CHECK(certauth::client::parse_body(nested(200000)).is_discarded());
    CHECK(certauth::client::parse_body("[1e400]").is_discarded());
    CHECK(certauth::client::parse_body("not json").is_discarded());
}
