// Hostile clients against a real `certauth serve`: each test
// asserts what the server answers AND that it still serves joe afterwards.
// Short timeouts (1-2 s) keep these fast. What server_serve_test.cpp
// already proves (a silent client with --threads 1, 431 for one big header,
// 413 for a large Content-Length, three pipelined requests, the excess over
// --max-connections) is not repeated; these are the harder variants.
#include "support/hostile_support.hpp"
#include "support/pki.hpp"

#include "support/catch.hpp"

#include <certauth/x509/ossl.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// Reads (and discards) what the server sends until it closes the
// connection; false when it is still open after `timeout`.
bool closes_within(HttpClient& client, std::chrono::milliseconds timeout) {
    const auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
        if (client.closed_by_server(std::max(left, 1ms))) return true;
    }
    return false;
}

// The first OpenSSL reason of the calling thread's error queue ("" when empty).
std::string openssl_reason() {
    std::string text;
    while (const unsigned long e = ERR_get_error()) {
        if (text.empty() && ERR_reason_error_string(e) != nullptr) text = ERR_reason_error_string(e);
    }
    return text;
}

std::size_t der_size(X509* cert) { return static_cast<std::size_t>(i2d_X509(cert, nullptr)); }

// A client bad in one way, driven by the test's loop: it may send one byte
// of `trickle` every `interval`; `closed_at` records when the server closed it.
struct BadClient {
    std::string name;
    std::unique_ptr<HttpClient> client;
    double expected_close = 0; // seconds after `since`: the timeout that should close it
    Steady::time_point since;
    std::string trickle;
    std::chrono::milliseconds interval{0};
    std::size_t sent = 0;
    Steady::time_point next_byte;
    std::optional<double> closed_at; // seconds after `since`
};

} // namespace

TEST_CASE("hostile: silent, half-ClientHello, byte-a-tick ClientHello, slowloris and idle clients are dropped at "
          "the timeouts while one thread serves joe",
          "[e2e][hostile]") {
    // One worker thread: a server that parked a thread per slow client
    // would not answer joe while the five bad clients hang.
    ServeProcess server({"--no-access-log", "--threads", "1", "--handshake-timeout", "2", "--request-timeout", "2",
                         "--idle-timeout", "2"});
    REQUIRE(server.started());
    const std::string hello = client_hello();
    std::vector<BadClient> bad;
    bad.reserve(5); // add() hands out references

    auto add = [&](std::string name, const ClientOptions& options, double expected_close) -> BadClient& {
        std::string error;
        auto client = HttpClient::connect(server.port(), options, &error);
        INFO(name << ": " << error);
        REQUIRE(client);
        BadClient b;
        b.name = std::move(name);
        b.client = std::move(client);
        b.expected_close = expected_close;
        b.since = Steady::now();
        bad.push_back(std::move(b));
        return bad.back();
    };
    // Connects and sends nothing: the handshake timeout.
    add("silent", plain_tcp(), 2.0);
    // Half a ClientHello, then nothing: the handshake timeout.
    BadClient& half = add("half ClientHello", plain_tcp(), 2.0);
    REQUIRE(half.client->send(hello.substr(0, hello.size() / 2)));
    // A ClientHello one byte every 200 ms: the handshake timeout counts from
    // accept, not from the last byte.
    BadClient& dribble = add("ClientHello byte by byte", plain_tcp(), 2.0);
    dribble.trickle = hello;
    dribble.interval = 200ms;
    // Slowloris: a completed handshake, then a request line and headers one
    // byte every 500 ms. The request timeout counts from the request's first
    // byte: a server that re-armed its timer per read would never drop it.
    BadClient& slowloris = add("slowloris", as("joe"), 2.0);
    slowloris.trickle = "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + std::string(64, 'a') + "\r\n\r\n";
    slowloris.interval = 500ms;
    // A request, then nothing: the idle timeout.
    BadClient& idle = add("idle after a request", as("joe"), 2.0);
    REQUIRE(got(idle.client->request("GET", "/")) == "200 ");
    idle.since = Steady::now();

    const auto start = Steady::now();
    for (BadClient& b : bad)
        b.next_byte = start;
    auto step = [&](std::chrono::milliseconds wait) {
        for (BadClient& b : bad) {
            if (b.closed_at) continue;
            if (b.sent < b.trickle.size() && Steady::now() >= b.next_byte) {
                if (b.sent == 0) b.since = Steady::now(); // the request's first byte
                (void)b.client->send(b.trickle.substr(b.sent++, 1));
                b.next_byte += b.interval;
            }
            if (b.client->closed_by_server(wait)) b.closed_at = seconds_since(b.since);
        }
    };
    step(0ms);
    // While all five hang, joe is served at once by the single thread.
    const auto joe_start = Steady::now();
    CHECK(joe_status(server.port()) == "200 ");
    const double joe_seconds = seconds_since(joe_start);
    CHECK(joe_seconds < 1.5);
    step(0ms);
    for (const BadClient& b : bad) {
        INFO(b.name << " was closed before joe was served");
        CHECK_FALSE(b.closed_at);
    }

    const auto deadline = start + 12s;
    while (Steady::now() < deadline &&
           std::any_of(bad.begin(), bad.end(), [](const BadClient& b) { return !b.closed_at; }))
        step(10ms);
    for (const BadClient& b : bad) {
        INFO(b.name << ": closed after " << (b.closed_at ? std::to_string(*b.closed_at) + " s" : "(still open)") << ", "
                    << b.sent << " bytes trickled; expected at " << b.expected_close << " s");
        REQUIRE(b.closed_at);
        CHECK(*b.closed_at >= b.expected_close - 0.3);
        CHECK(*b.closed_at <= b.expected_close + 3.0);
    }
    // The slowloris got a few bytes in, never a whole request.
    CHECK(slowloris.sent >= 3);
    CHECK(slowloris.sent < slowloris.trickle.size());
    CHECK(joe_status(server.port()) == "200 ");
}

TEST_CASE("hostile: garbage instead of a ClientHello closes the connection", "[e2e][hostile]") {
    ServeProcess server({"--no-access-log", "--handshake-timeout", "2"});
    REQUIRE(server.started());
    std::mt19937 random(6);
    auto noise = [&](std::size_t size) {
        std::string bytes(size, '\0');
        for (char& c : bytes)
            c = static_cast<char>(random() & 0xff);
        return bytes;
    };

    SECTION("a TLS record header, then noise") {
        auto client = HttpClient::connect(server.port(), plain_tcp());
        REQUIRE(client);
        REQUIRE(client->send(std::string("\x16\x03\x01\x02\x00", 5) + noise(512)));
        CHECK(closes_within(*client, 1500ms)); // at once, well before the handshake timeout
    }
    SECTION("a record announcing more than TLS allows") {
        auto client = HttpClient::connect(server.port(), plain_tcp());
        REQUIRE(client);
        REQUIRE(client->send(std::string("\x16\x03\x01\xff\xff", 5) + noise(1024)));
        CHECK(closes_within(*client, 1500ms));
    }
    SECTION("a ClientHello with its body scrambled") {
        std::string hello = client_hello();
        for (std::size_t i = 9; i < hello.size(); i += 3)
            hello[i] = static_cast<char>(hello[i] ^ 0x5a);
        auto client = HttpClient::connect(server.port(), plain_tcp());
        REQUIRE(client);
        REQUIRE(client->send(hello));
        CHECK(closes_within(*client, 1500ms));
    }
    SECTION("binary noise (not TLS: read as plain HTTP, refused)") {
        std::string bytes = noise(4096);
        bytes[0] = 'X'; // not 0x16: detected as plain HTTP
        auto client = HttpClient::connect(server.port(), plain_tcp());
        REQUIRE(client);
        REQUIRE(client->send(bytes));
        const auto response = client->read();
        if (response) CHECK((response->status == 400 || response->status == 431));
        CHECK(closes_within(*client, 1500ms));
    }
    CHECK(joe_status(server.port()) == "200 ");
}

TEST_CASE("hostile: oversized, chunked and pipelined requests", "[e2e][hostile]") {
    ServeProcess server({"--no-access-log", "--request-timeout", "2"});
    REQUIRE(server.started());

    SECTION("a 100 KiB request line: 431 (or the connection closed while the client still writes), then closed") {
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        (void)client->send("GET /" + std::string(100 * 1024, 'x') + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
        const auto response = client->read();
        if (response) {
            CHECK(response->status == 431);
            CHECK(response->header("connection") == "close");
        }
        CHECK(closes_within(*client, 3000ms));
    }
    SECTION("many small headers over the limit: 431, closed") {
        std::string headers;
        for (int i = 0; headers.size() <= 17 * 1024; ++i)
            headers += "X-H" + std::to_string(i) + ": v\r\n";
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        const auto response = client->request("GET", "/", headers);
        REQUIRE(response);
        CHECK(response->status == 431);
        CHECK(closes_within(*client, 3000ms));
    }
    SECTION("the limit holds for the whole header, however it arrives: 16384 bytes served, 16385 refused") {
        // Request line + fields + the blank line, exactly `total` bytes,
        // sent in pieces with pauses so that the server parses it in pieces.
        auto request_of = [](std::size_t total) {
            std::string head = "GET / HTTP/1.1\r\nHost: localhost\r\n";
            for (int i = 0; head.size() + 2 + 1100 < total; ++i)
                head += "X-F" + std::to_string(1000 + i) + ": " + std::string(1000, 'f') + "\r\n";
            const std::size_t pad = total - head.size() - 2 - std::string("X-Pad: \r\n").size();
            return head + "X-Pad: " + std::string(pad, 'p') + "\r\n\r\n";
        };
        for (const std::size_t total : {std::size_t{16384}, std::size_t{16385}}) {
            const std::string request = request_of(total);
            REQUIRE(request.size() == total);
            auto client = HttpClient::connect(server.port(), as("joe"));
            REQUIRE(client);
            for (std::size_t at = 0; at < request.size(); at += 3000) {
                REQUIRE(client->send(request.substr(at, 3000)));
                std::this_thread::sleep_for(20ms); // a separate read each (not a synchronisation)
            }
            INFO(total << " bytes of header");
            CHECK(got(client->read()) == (total == 16384 ? "200 " : "431 "));
        }
    }
    SECTION("headers just under the limit are served") {
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        CHECK(got(client->request("GET", "/", "X-Big: " + std::string(15 * 1024, 'a') + "\r\n")) == "200 ");
        CHECK(got(client->request("GET", "/")) == "200 ");
    }
    SECTION("a declared body beyond the limit: 413 before the body is sent, closed") {
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        const auto response = client->request("POST", "/", "Content-Length: 10485760\r\n");
        REQUIRE(response);
        CHECK(response->status == 413);
        CHECK(closes_within(*client, 3000ms));
    }
    SECTION("a chunked body growing beyond the limit: 413, closed") {
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        REQUIRE(client->send("POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"));
        const std::string chunk = "1000\r\n" + std::string(0x1000, 'b') + "\r\n";
        for (int i = 0; i < 20; ++i) // 80 KiB > 64 KiB; the server may close before the last ones
            if (!client->send(chunk)) break;
        const auto response = client->read();
        REQUIRE(response);
        CHECK(response->status == 413);
        CHECK(closes_within(*client, 3000ms));
    }
    SECTION("100 pipelined requests in one write are answered in order") {
        auto carol = HttpClient::connect(server.port(), as("carol"));
        REQUIRE(carol);
        std::string batch;
        for (int i = 0; i < 100; ++i)
            batch += std::string(i % 3 == 1 ? "GET /admin" : "GET /r" + std::to_string(i)) +
                     " HTTP/1.1\r\nHost: localhost\r\n\r\n";
        REQUIRE(carol->send(batch));
        int in_order = 0;
        for (int i = 0; i < 100; ++i)
            in_order += got(carol->read()) == (i % 3 == 1 ? "403 forbidden" : "200 ") ? 1 : 0;
        CHECK(in_order == 100);
        CHECK(got(carol->request("GET", "/")) == "200 ");
    }
    SECTION("pipelined requests before a malformed one: answered in order, then 400 and closed") {
        auto joe = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(joe);
        REQUIRE(joe->send("GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/9.9\r\n"
                          "Host: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        CHECK(got(joe->read()) == "200 ");
        const auto head = joe->read(true);
        REQUIRE(head);
        CHECK(head->status == 200);
        const auto bad = joe->read();
        REQUIRE(bad);
        CHECK(bad->status == 400);
        CHECK(closes_within(*joe, 3000ms));
    }
    CHECK(joe_status(server.port()) == "200 ");
}

TEST_CASE("hostile: TLS 1.0 and 1.1 ClientHellos are refused with a protocol_version alert", "[e2e][hostile]") {
    ServeProcess server({"--no-access-log"});
    REQUIRE(server.started());

    for (const int version : {TLS1_VERSION, TLS1_1_VERSION}) {
        INFO("client at " << (version == TLS1_VERSION ? "TLS 1.0" : "TLS 1.1") << " only");
        ClientOptions old = as("joe");
        old.configure = [version](SSL_CTX* ctx) {
            // Security level 0, so that OpenSSL 3 sends the old ClientHello at all.
            SSL_CTX_set_security_level(ctx, 0);
            REQUIRE(SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") == 1);
            REQUIRE(SSL_CTX_set_min_proto_version(ctx, version) == 1);
            REQUIRE(SSL_CTX_set_max_proto_version(ctx, version) == 1);
        };
        std::string error;
        CHECK_FALSE(HttpClient::connect(server.port(), old, &error));
        // The server's alert, not the client's refusal to try.
        CHECK(error.find("alert protocol version") != std::string::npos);
    }

    // The same with the openssl CLI, as an administrator would check it.
    for (const std::string flag : {"-tls1", "-tls1_1"}) {
        RunOptions options;
        options.timeout = 20s;
        const auto r = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(server.port()), flag,
                            "-cipher", "DEFAULT:@SECLEVEL=0"},
                           options);
        INFO("openssl s_client " << flag << ":\n" << r.out << r.err);
        CHECK(r.exit_code != 0);
        CHECK((r.out + r.err).find("alert protocol version") != std::string::npos);
    }
    ClientOptions tls12 = as("joe");
    tls12.max_version = TLS1_2_VERSION;
    auto modern = HttpClient::connect(server.port(), tls12);
    REQUIRE(modern);
    CHECK(modern->tls_version() == "TLSv1.2");
    CHECK(got(modern->request("GET", "/")) == "200 ");
    CHECK(joe_status(server.port()) == "200 ");
}

TEST_CASE("hostile: a renegotiation attempt on TLS 1.2 is refused", "[e2e][hostile]") {
    ServeProcess server({"--no-access-log"});
    REQUIRE(server.started());

    ClientOptions tls12 = as("joe");
    tls12.max_version = TLS1_2_VERSION;
    auto client = HttpClient::connect(server.port(), tls12);
    REQUIRE(client);
    REQUIRE(client->tls_version() == "TLSv1.2");
    REQUIRE(got(client->request("GET", "/")) == "200 ");
    SSL* ssl = client->native();
    ERR_clear_error();
    REQUIRE(SSL_renegotiate(ssl) == 1);
    CHECK(SSL_do_handshake(ssl) != 1);
    // The server answered the new ClientHello with a no_renegotiation alert.
    CHECK(openssl_reason() == "no renegotiation");
    CHECK(closes_within(*client, 3000ms));

    // openssl s_client's "R" command (stdin kept open: at EOF it quits).
    RunOptions in_fixtures;
    in_fixtures.cwd = source_path("fixtures");
    in_fixtures.timeout = 20s;
    const auto r =
        run({"bash", "-c",
             "(printf 'R\\n'; sleep 2) | openssl s_client -connect 127.0.0.1:" + std::to_string(server.port()) +
                 " -tls1_2 -cert joe.crt -key joe.key -CAfile ca.crt"},
            in_fixtures);
    INFO(r.out << r.err);
    CHECK((r.out + r.err).find("RENEGOTIATING") != std::string::npos);
    CHECK((r.out + r.err).find("no renegotiation") != std::string::npos);
    CHECK(joe_status(server.port()) == "200 ");
}

TEST_CASE("hostile: a client certificate chain beyond 100 KiB is refused at the handshake, in bounded memory",
          "[e2e][hostile]") {
    ServeProcess server({"--no-access-log"});
    REQUIRE(server.started());
    const pid_t pid = server.process().pid();
    const auto sub_ca = load_pem_certificate(fixture("sub-ca.crt"));
    // A chain of `copies` extra intermediates after the client's own chain.
    auto with_copies = [&](const std::string& stem, std::size_t copies) {
        ClientOptions options = as(stem);
        X509* extra = sub_ca.get();
        options.configure = [extra, copies](SSL_CTX* ctx) {
            for (std::size_t i = 0; i < copies; ++i)
                REQUIRE(SSL_CTX_add1_chain_cert(ctx, extra) == 1);
        };
        return options;
    };
    // carol + sub-ca + junk: a Certificate message of `copies` * ~860 bytes.
    auto carol_with = [&](std::size_t copies) -> std::string {
        auto client = HttpClient::connect(server.port(), with_copies("carol", copies));
        if (!client) return "refused at the handshake";
        return got(client->request("GET", "/"));
    };

    // Warm up, then the peak resident memory before the big chains.
    CHECK(joe_status(server.port()) == "200 ");
    CHECK(carol_with(80) == "200 "); // ~70 KiB: under the limit, verified as usual
    const auto before = memory_of(pid);
    REQUIRE(before);

    // ~111 KiB: over the limit.
    CHECK(carol_with(130) != "200 ");
    // 10 MiB of valid certificates: joe followed by ~12,000 copies of sub-ca.
    const std::size_t ten_mib = (10u << 20) / (der_size(sub_ca.get()) + 7);
    for (int attempt = 0; attempt < 3; ++attempt) {
        const auto start = Steady::now();
        std::string error;
        auto client = HttpClient::connect(server.port(), with_copies("joe", ten_mib), &error);
        if (client) {
            // TLS 1.3: the client's handshake completes before the server
            // reads its Certificate; the refusal comes on the first read.
            const auto response = client->request("GET", "/");
            INFO(got(response) << " " << client->last_error());
            CHECK_FALSE(response);
        } else {
            INFO(error);
            CHECK(error.find("handshake") != std::string::npos);
        }
        // Refused at the message header: not after reading 10 MiB.
        CHECK(seconds_since(start) < 5.0);
    }
    const auto after = memory_of(pid);
    REQUIRE(after);
    INFO("server peak RSS before " << before->peak_kib << " KiB, after " << after->peak_kib << " KiB");
    // The 10 MiB chains never land in the server's memory.
    CHECK(after->peak_kib < before->peak_kib + 4 * 1024);
    CHECK(joe_status(server.port()) == "200 ");
    CHECK(carol_with(0) == "200 ");
}

TEST_CASE("hostile: a chain with more intermediates than the depth limit is untrusted", "[e2e][hostile]") {
    // Twelve intermediates under fixtures/ca.key, each issuing the next, and
    // three leaves CN=joe (a name in users.json): under the 8th, 9th and
    // 12th intermediate. OpenSSL's depth counts the intermediates between
    // leaf and root: the limit is 8.
    TempDir dir;
    run_script(R"(
ca_crt=")" + fixture("ca.crt") +
                   R"(" ca_key=")" + fixture("ca.key") + R"("
cat > ext.cnf <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
make() { # name subject issuer_crt issuer_key serial extensions
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$3" -CAkey "$4" -set_serial "$5" -days 3650 -extfile ext.cnf -extensions "$6" -out "$1.crt" 2>/dev/null
}
issuer_crt=$ca_crt issuer_key=$ca_key
for i in $(seq 1 12); do
  make "i$i" "/CN=deep intermediate $i" "$issuer_crt" "$issuer_key" $((7000 + i)) ca
  issuer_crt=i$i.crt issuer_key=i$i.key
done
for n in 8 9 12; do
  make "joe$n" "/CN=joe" "i$n.crt" "i$n.key" $((7100 + n)) leaf
  { cat "joe$n.crt"; for i in $(seq "$n" -1 1); do cat "i$i.crt"; done; } > "joe$n-chain.pem"
done
)",
               dir.path.string());

    ServeProcess server({"--no-access-log"});
    REQUIRE(server.started());
    auto deep = [&](int n) {
        ClientOptions options;
        options.cert = (dir.path / ("joe" + std::to_string(n) + "-chain.pem")).string();
        options.key = (dir.path / ("joe" + std::to_string(n) + ".key")).string();
        auto client = HttpClient::connect(server.port(), options);
        REQUIRE(client);
        const auto response = client->request("GET", "/");
        REQUIRE(response);
        return *response;
    };
    // At the limit: verified, joe.
    const HttpResponse eight = deep(8);
    CHECK(eight.status == 200);
    CHECK(eight.json()["cn"] == "joe");
    for (const int n : {9, 12}) {
        INFO(n << " intermediates");
        const HttpResponse response = deep(n);
        CHECK(response.status == 401);
        CHECK(response.reason() == "untrusted");
        const std::string detail = response.json().value("detail", "");
        INFO(detail);
        CHECK(detail.find("longer than allowed") != std::string::npos);
    }
    CHECK(joe_status(server.port()) == "200 ");
}

TEST_CASE("hostile: silent connections holding every --max-connections slot are dropped at the handshake "
          "timeout, then joe is served",
          "[e2e][hostile]") {
    ServeProcess server({"--no-access-log", "--max-connections", "3", "--handshake-timeout", "1", "--threads", "1"});
    REQUIRE(server.started());
    std::vector<std::unique_ptr<HttpClient>> hogs;
    for (int i = 0; i < 3; ++i) {
        hogs.push_back(HttpClient::connect(server.port(), plain_tcp()));
        REQUIRE(hogs.back());
    }
    // The slots are taken: a fourth client is closed at accept, at once.
    std::string error;
    const auto start = Steady::now();
    CHECK_FALSE(HttpClient::connect(server.port(), as("joe"), &error));
    CHECK(seconds_since(start) < 1.0);
    // The handshake timeout frees them; joe gets in (bounded retries while
    // the server notices the closes).
    for (auto& hog : hogs)
        CHECK(hog->closed_by_server(5000ms));
    bool served = false;
    for (int i = 0; i < 50 && !served; ++i) {
        served = joe_status(server.port()) == "200 ";
        if (!served) std::this_thread::sleep_for(100ms);
    }
    CHECK(served);
}
