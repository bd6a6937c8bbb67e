// certauth in front of a real application (serve --upstream): curl and a
// Node WebSocket client -> certauth -> tests/e2e/apps/echo_app.py, which
// answers what reached it. What the application sees is the point: the
// identity headers certauth set, never a client's own, never a refused
// request, bodies whole.
#include "support/echo_app.hpp"
#include "support/hostile_support.hpp"

#include "support/catch.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The body curl printed before `-w '\n%{http_code}'`, and the status.
struct Got {
    int status = 0;
    std::string body;
    json as_json() const { return json::parse(body, nullptr, false); }
};

// curl's answer to `path` (run with `-w '\n%{http_code}'`), checked on the
// test's thread.
Got got_from(const ProcessResult& result, const std::string& path) {
    INFO("curl " << path << ": exit " << result.exit_code << ": " << result.err);
    Got got;
    // An answer whose body never ends as framed keeps curl waiting until
    // its time limit: not an answer (said here, where curl's error is known).
    CHECK(result.exit_code == 0);
    if (result.exit_code != 0) return got;
    const std::size_t last = result.out.rfind('\n');
    if (last == std::string::npos) return got;
    got.status = std::atoi(result.out.c_str() + last + 1);
    got.body = result.out.substr(0, last);
    return got;
}

Got fetch_with(unsigned short port, const std::string& client, const std::string& path,
               std::vector<std::string> args = {}) {
    args.push_back("-w");
    args.push_back("\n%{http_code}");
    return got_from(curl(port, client, path, args), path);
}

std::string header_seen(const json& echo, const std::string& name) {
    const json& headers = echo["headers"];
    const auto it = headers.find(name);
    return it == headers.end() || !it->is_string() ? std::string("(absent)") : it->get<std::string>();
}

std::string sha256_of_file(const std::string& path) {
    const ProcessResult result = run({"sha256sum", path});
    return result.out.substr(0, 64);
}

} // namespace

TEST_CASE("upstream: joe reaches the application with identity headers, a client's own never do", "[e2e]") {
    EchoApp app;
    REQUIRE(app.started());
    ServeProcess server({"--no-access-log", "--upstream", app.upstream() + "/app"});
    REQUIRE(server.started());

    const Got joe =
        fetch_with(server.port(), "joe", "/hello?x=1",
                   {"-H", R"(X-Certauth-User: {"cn":"mallory","roles":["admin"]})", "-H",
                    "X-Forwarded-Client-Cert: Hash=00;Subject=\"CN=mallory\"", "-H", "x-certauth-cn: mallory", "-H",
                    "X-Forwarded-For: 10.9.9.9", "-H", "Client-Cert: :AAAA:",
                    // What other proxies say of the client: its address, scheme, host, prefix, certificate,
                    // or another path to route on. Only a proxy in front of certauth may say it.
                    "-H", "Forwarded: for=10.0.0.1;proto=https;host=admin.internal", "-H", "X-Real-IP: 10.0.0.1", "-H",
                    "X-Forwarded-Port: 8443", "-H", "X-Forwarded-Prefix: /admin", "-H", "X-Original-URL: /admin", "-H",
                    "X-Rewrite-URL: /admin", "-H", "X-Client-Cert: mallory", "-H", "X-SSL-Client-Cert: mallory", "-H",
                    "X-SSL-Client-Verify: SUCCESS", "-H", "X-Forwarded-Tls-Client-Cert: mallory", "-H",
                    "X-Amzn-Mtls-Clientcert-Leaf: mallory", "-H", "X-ARR-ClientCert: mallory", "-H", "X-Kept: yes"});
    REQUIRE(joe.status == 200);
    const json echo = joe.as_json();
    CHECK(echo["path"] == "/app/hello?x=1");
    CHECK(json::parse(header_seen(echo, "x-certauth-user")) ==
          json{{"cn", "joe"}, {"name", "Joe Example"}, {"roles", {"admin"}}});
    CHECK(header_seen(echo, "x-certauth-cn") == "joe");
    CHECK(header_seen(echo, "x-certauth-roles") == "admin");
    CHECK(header_seen(echo, "x-certauth-fingerprint256").size() == 95);
    const std::string xfcc = header_seen(echo, "x-forwarded-client-cert");
    CHECK(xfcc.rfind("Hash=", 0) == 0);
    CHECK(xfcc.find(";Subject=\"CN=joe\"") != std::string::npos);
    CHECK(xfcc.find("mallory") == std::string::npos);
    CHECK(header_seen(echo, "client-cert") == "(absent)"); // only with --forward-cert
    CHECK(header_seen(echo, "x-forwarded-for") == "127.0.0.1");
    CHECK(header_seen(echo, "x-forwarded-proto") == "https");
    CHECK(header_seen(echo, "x-forwarded-host") == "localhost:" + std::to_string(server.port()));
    CHECK(joe.body.find("mallory") == std::string::npos);
    for (const char* name : {"forwarded", "x-real-ip", "x-forwarded-port", "x-forwarded-prefix", "x-original-url",
                             "x-rewrite-url", "x-client-cert", "x-ssl-client-cert", "x-ssl-client-verify",
                             "x-forwarded-tls-client-cert", "x-amzn-mtls-clientcert-leaf", "x-arr-clientcert"}) {
        INFO(name);
        CHECK(header_seen(echo, name) == "(absent)");
    }
    CHECK(header_seen(echo, "x-kept") == "yes"); // other headers go on

    SECTION("bob, no certificate, carol on /admin: answered by certauth, never seen by the application") {
        const int before = app.requests_seen();
        const Got bob = fetch_with(server.port(), "bob", "/hello", {"-X", "POST", "--data", "x=1"});
        CHECK(bob.status == 401);
        CHECK(bob.as_json()["reason"] == "unknown_user");
        CHECK(fetch_with(server.port(), "", "/hello").status == 401);
        CHECK(fetch_with(server.port(), "carol", "/admin").status == 403);
        CHECK(fetch_with(server.port(), "rogue", "/hello").status == 401);
        CHECK(app.requests_seen() == before);
        // A public route goes on without a certificate, its identity headers empty.
        const Got open = fetch_with(
            server.port(), "", "/public/x",
            {"-H", "X-Certauth-User: {\"cn\":\"joe\"}", "-H", "X-Forwarded-Client-Cert: Hash=ab;Subject=\"CN=joe\""});
        REQUIRE(open.status == 200);
        CHECK(header_seen(open.as_json(), "x-certauth-user").empty());
        CHECK(header_seen(open.as_json(), "x-forwarded-client-cert").empty()); // set empty, never the client's
        CHECK(app.requests_seen() == before + 1);
        // /healthz stays certauth's.
        const Got health = fetch_with(server.port(), "", "/healthz");
        CHECK(health.body == "{\"status\":\"ok\"}\n");
        CHECK(app.requests_seen() == before + 1);
    }
    SECTION("--forward-cert sends the certificate too") {
        ServeProcess with_cert({"--no-access-log", "--upstream", app.upstream(), "--forward-cert"});
        REQUIRE(with_cert.started());
        const json echo2 = fetch_with(with_cert.port(), "carol", "/").as_json();
        const std::string client_cert = header_seen(echo2, "client-cert");
        CHECK(client_cert.size() > 100);
        CHECK(client_cert.front() == ':');
        CHECK(header_seen(echo2, "client-cert-chain").front() == ':'); // carol's intermediate
        CHECK(header_seen(echo2, "x-forwarded-client-cert").find(";Cert=\"-----BEGIN%20CERTIFICATE") !=
              std::string::npos);
    }
}

TEST_CASE("upstream: request and response bodies arrive whole, however they are framed", "[e2e]") {
    EchoApp app;
    REQUIRE(app.started());
    ServeProcess server({"--no-access-log", "--upstream", app.upstream()});
    REQUIRE(server.started());
    const TempDir dir;

    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{100} * 1024 * 1024}) {
        INFO(size << " bytes posted");
        const std::string file = (dir.path / ("body-" + std::to_string(size))).string();
        REQUIRE(run({"sh", "-c", "head -c " + std::to_string(size) + " /dev/urandom > " + file}).exit_code == 0);
        const Got posted = fetch_with(server.port(), "joe", "/upload", {"--data-binary", "@" + file});
        REQUIRE(posted.status == 200);
        const json echo = posted.as_json();
        CHECK(echo["body_size"] == size);
        CHECK(echo["body_sha256"] == sha256_of_file(file));
        CHECK(header_seen(echo, "content-length") == std::to_string(size));
    }
    SECTION("a chunked upload stays chunked") {
        const std::string file = (dir.path / "chunked").string();
        REQUIRE(run({"sh", "-c", "head -c 300000 /dev/urandom > " + file}).exit_code == 0);
        const Got posted = fetch_with(server.port(), "joe", "/upload",
                                      {"-H", "Transfer-Encoding: chunked", "--data-binary", "@" + file});
        REQUIRE(posted.status == 200);
        const json echo = posted.as_json();
        CHECK(echo["body_size"] == 300000);
        CHECK(echo["body_sha256"] == sha256_of_file(file));
        CHECK(header_seen(echo, "transfer-encoding") == "chunked");
    }
    SECTION("downloads by Content-Length, chunked and until close; HEAD; 204 and 304") {
        for (const std::string mode : {"length", "chunked", "close"}) {
            INFO(mode);
            const std::string file = (dir.path / ("download-" + mode)).string();
            const std::string headers = file + ".headers";
            const ProcessResult got = curl(server.port(), "joe", "/download?size=5000000&mode=" + mode,
                                           {"-o", file, "-D", headers, "-w", "%{http_code} %{size_download}"});
            INFO(got.err);
            CHECK(got.out == "200 5000000");
            CHECK(got.exit_code == 0); // the body ended as framed, not at curl's time limit
            const std::string head = read_text(headers);
            if (mode == "length") CHECK(head.find("Content-Length: 5000000") != std::string::npos);
            // Chunked stays chunked; a body that ends with the connection
            // is chunked to an HTTP/1.1 client, so that it stays open.
            if (mode != "length") CHECK(head.find("Transfer-Encoding: chunked") != std::string::npos);
        }
        const ProcessResult head = curl(server.port(), "joe", "/download?size=77", {"-I"});
        INFO("HEAD: " << head.err);
        CHECK(head.exit_code == 0); // an answer, not a head printed before curl's time limit
        CHECK(head.out.find("HTTP/1.1 200") != std::string::npos);
        CHECK(head.out.find("Content-Length: 77") != std::string::npos);
        CHECK(fetch_with(server.port(), "joe", "/status/304").status == 304);
        CHECK(fetch_with(server.port(), "joe", "/status/204").status == 204);
    }
    SECTION("pipelined requests are answered in order on one connection") {
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        REQUIRE(
            client->send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
                         "abcGET /c HTTP/1.1\r\nHost: x\r\n\r\n"));
        for (const std::string path : {"/a", "/b", "/c"}) {
            const auto response = client->read();
            REQUIRE(response);
            CHECK(response->status == 200);
            CHECK(response->json()["path"] == path);
        }
    }
}

TEST_CASE("upstream: ambiguous framing is 400 and never reaches the application", "[e2e][security]") {
    EchoApp app;
    REQUIRE(app.started());
    ServeProcess server({"--no-access-log", "--upstream", app.upstream()});
    REQUIRE(server.started());
    const int before = app.requests_seen();
    for (const std::string& framing :
         {std::string("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
          std::string("Content-Length: 5\r\nContent-Length: 6\r\n"), std::string("Transfer-Encoding: xchunked\r\n"),
          std::string("Host: other\r\n")}) {
        INFO(framing);
        auto client = HttpClient::connect(server.port(), as("joe"));
        REQUIRE(client);
        REQUIRE(client->send("POST /x HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n5\r\nhello\r\n0\r\n\r\n"));
        const auto response = client->read();
        REQUIRE(response);
        CHECK(response->status == 400);
    }
    // Paths a Tomcat or Spring application reads past a route: it cuts ";..." from every segment before
    // it resolves dot segments ("/public/..;/admin" is /admin there).
    for (const char* path : {"/public/..;/admin", "/public/.;/admin", "/admin;x/users", "/public/%2e%2e;/admin"}) {
        INFO(path);
        CHECK(fetch_with(server.port(), "", path).status == 400);
        CHECK(fetch_with(server.port(), "carol", path).status == 400);
    }
    CHECK(app.requests_seen() == before);
    // The last segment's parameters are routed as that application sees them.
    CHECK(fetch_with(server.port(), "carol", "/admin;jsessionid=1").status == 403);
    CHECK(app.requests_seen() == before);
    const Got jsession = fetch_with(server.port(), "carol", "/shop/cart;jsessionid=1");
    REQUIRE(jsession.status == 200);
    CHECK(jsession.as_json()["path"] == "/shop/cart;jsessionid=1");
}

TEST_CASE("upstream: a WebSocket is tunnelled both ways, bob's upgrade is refused", "[e2e]") {
    EchoApp app;
    REQUIRE(app.started());
    ServeProcess server({"--no-access-log", "--upstream", app.upstream()});
    REQUIRE(server.started());
    auto ws = [&](const std::string& who) {
        RunOptions options;
        options.timeout = 30s;
        const std::string url = "wss://localhost:" + std::to_string(server.port()) + "/ws";
        return run({"node", source_path("tests/e2e/apps/ws_echo_client.js"), url, fixture("ca.crt"),
                    fixture(who + ".crt"), fixture(who + ".key"), "5", "1000", "70000", "300000"},
                   options);
    };
    const ProcessResult joe = ws("joe");
    INFO(joe.out << joe.err);
    CHECK(joe.exit_code == 0);
    CHECK(json::parse(joe.out, nullptr, false)["echoed"] == 4);
    const ProcessResult bob = ws("bob");
    CHECK(bob.exit_code == 1);
    CHECK(json::parse(bob.out, nullptr, false)["status"] == 401);
    // Another protocol is not tunnelled (its requests would pass unread): the
    // request goes on as plain HTTP/1.1, without its Upgrade.
    const Got h2c = fetch_with(server.port(), "joe", "/h2c",
                               {"-H", "Connection: Upgrade, HTTP2-Settings", "-H", "Upgrade: h2c", "-H",
                                "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"});
    REQUIRE(h2c.status == 200);
    const json echo = h2c.as_json();
    CHECK(header_seen(echo, "upgrade") == "(absent)");
    CHECK(header_seen(echo, "http2-settings") == "(absent)");
    CHECK(header_seen(echo, "connection") != "upgrade");
}

TEST_CASE("upstream: an application that is down is 502, a slow one 504, certauth keeps serving", "[e2e]") {
    EchoApp app;
    REQUIRE(app.started());
    // A port nothing listens on: a socket bound, never listened.
    ServeProcess down({"--no-access-log", "--upstream", "http://127.0.0.1:9"});
    REQUIRE(down.started());
    const Got refused = fetch_with(down.port(), "joe", "/");
    CHECK(refused.status == 502);
    CHECK(refused.as_json()["error"] == "bad_gateway");
    CHECK(refused.as_json()["detail"].get<std::string>().find("refused") != std::string::npos);

    ServeProcess server({"--log-format", "json", "--upstream", app.upstream(), "--upstream-timeout", "1"});
    REQUIRE(server.started());
    const auto start = std::chrono::steady_clock::now();
    const Got slow = fetch_with(server.port(), "joe", "/slow?ms=3000");
    CHECK(slow.status == 504);
    CHECK(slow.as_json()["error"] == "gateway_timeout");
    CHECK(seconds_since(start) < 2.9);
    CHECK(fetch_with(server.port(), "joe", "/fast").status == 200);
    // Another request is served while a slow one waits for its answer (the
    // default timeout, 60 s): the slow one is sent, seen by the application,
    // and still unanswered when carol's answer has come.
    ServeProcess patient({"--no-access-log", "--threads", "1", "--upstream", app.upstream()}); // one worker for both
    REQUIRE(patient.started());
    const int seen = app.requests_seen();
    auto waiting = std::async(std::launch::async, [&] {
        return curl(patient.port(), "joe", "/slow?ms=4000", {"-w", "\n%{http_code}"});
    });
    const auto sent = std::chrono::steady_clock::now();
    while (app.requests_seen() == seen && std::chrono::steady_clock::now() - sent < 3s)
        std::this_thread::sleep_for(20ms);
    CHECK(app.requests_seen() == seen + 1);
    CHECK(fetch_with(patient.port(), "carol", "/meanwhile").status == 200);
    CHECK(waiting.wait_for(0s) == std::future_status::timeout);
    CHECK(got_from(waiting.get(), "/slow?ms=4000").status == 200);
    // The access log has the application's side (its line is written once
    // the answer went out: waited for, bounded).
    CHECK(server.process().wait_for_line(std::regex("\"upstream_status\":null"), std::chrono::seconds(5)));
    CHECK(server.process().wait_for_line(
        std::regex("\"upstream_status\":200,\"upstream_latency_ms\":[0-9]+(\\.[0-9]+)?\\}"), std::chrono::seconds(5)));
}

// A WebSocket of `who` opened through certauth (the 101 read); null when
// it was not.
std::unique_ptr<HttpClient> open_websocket(unsigned short port, const std::string& who, const std::string& path) {
    auto tunnel = HttpClient::connect(port, as(who));
    if (!tunnel || !upgrade_to_websocket(*tunnel, path)) return nullptr;
    return tunnel;
}

TEST_CASE("upstream: a reload re-decides kept-alive requests and open WebSockets, by user and by route",
          "[e2e][reload]") {
    EchoApp app;
    REQUIRE(app.started());
    ConfigCopy config;
    std::vector<std::string> args = config.args();
    std::erase(args, "--no-access-log"); // the text access log is read below
    // One worker: one sweep decides every tunnel again, so once one tunnel
    // is seen closed, the others' decisions are made and they are tested.
    args.insert(args.end(), {"--threads", "1", "--upstream", app.upstream()});
    ServeProcess server(args);
    REQUIRE(server.started());
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    CHECK(got(joe->request("GET", "/admin/x")) == "200 ");
    // Tunnels open across the reloads, each carrying a frame first.
    auto joe_ws = open_websocket(server.port(), "joe", "/ws");
    auto joe_admin_ws = open_websocket(server.port(), "joe", "/admin/ws");
    auto carol_ws = open_websocket(server.port(), "carol", "/ws");
    auto bob_public_ws = open_websocket(server.port(), "bob", "/public/ws"); // unknown, on a public route
    auto joe_public_ws = open_websocket(server.port(), "joe", "/public/ws"); // the application was told joe
    REQUIRE(joe_ws);
    REQUIRE(joe_admin_ws);
    REQUIRE(carol_ws);
    REQUIRE(bob_public_ws);
    REQUIRE(joe_public_ws);
    for (HttpClient* tunnel :
         {joe_ws.get(), joe_admin_ws.get(), carol_ws.get(), bob_public_ws.get(), joe_public_ws.get()})
        CHECK(websocket_echoes(*tunnel, "before"));

    // joe loses the role /admin requires: that tunnel ends, his others stay.
    write_atomically(config.users, users_with_joe_roles(json::array({"reader"})));
    REQUIRE(server.reload().find("reloaded") != std::string::npos);
    CHECK(got(joe->request("GET", "/admin/x")) == "403 forbidden");
    CHECK(got(joe->request("GET", "/x")) == "200 ");
    // The access log's text line has the application's status and latency.
    CHECK(server.process().wait_for_line(
        std::regex("\"GET /x\" 200 ok cn=joe fp=[0-9A-F:]+ [0-9]+(\\.[0-9]+)?ms upstream=200 [0-9]+(\\.[0-9]+)?ms$"),
        std::chrono::seconds(5)));
    CHECK(joe_admin_ws->closed_by_server(3000ms));
    CHECK(server.process().wait_for_line(std::regex("closed a tunnel of .*: after the reload it is forbidden"),
                                         std::chrono::seconds(5)));
    CHECK(websocket_echoes(*joe_ws, "after a role went"));
    CHECK(websocket_echoes(*joe_public_ws, "after a role went"));

    // joe is removed: his requests are refused, his tunnels end, the one on
    // the public route too (it carries joe); carol's and bob's stay open
    // through both reloads.
    write_atomically(config.users, users_without_joe());
    REQUIRE(server.reload().find("reloaded") != std::string::npos);
    CHECK(got(joe->request("GET", "/after")) == "401 unknown_user");
    CHECK(joe_ws->closed_by_server(3000ms));
    CHECK(joe_public_ws->closed_by_server(3000ms));
    CHECK(websocket_echoes(*carol_ws, "after"));
    CHECK(websocket_echoes(*bob_public_ws, "after"));
}

TEST_CASE("upstream: 16 clients for 10 s through certauth with zero errors", "[e2e]") {
    EchoApp app;
    REQUIRE(app.started());
    ServeProcess server({"--no-access-log", "--upstream", app.upstream()});
    REQUIRE(server.started());
    RunOptions options;
    options.timeout = 60s;
    const std::string url = "https://localhost:" + std::to_string(server.port()) + "/load";
    const ProcessResult load =
        run({certauth_binary(), "probe", url, "--resolve", "localhost:" + std::to_string(server.port()) + ":127.0.0.1",
             "--cacert", fixture("ca.crt"), "--cert", fixture("joe.crt"), "--key", fixture("joe.key"), "--load",
             "--duration", "10", "--concurrency", "16", "--json"},
            options);
    INFO(load.out << load.err);
    REQUIRE(load.exit_code == 0);
    const json report = json::parse(load.out, nullptr, false);
    CHECK(report["requests"].get<long>() > 100);
    CHECK(report["error_count"] == 0);
    CHECK(report["status"].size() == 1);
    CHECK(report["status"].value("200", 0) == report["requests"].get<long>());
}

TEST_CASE("upstream: a unix socket application, and the fixture scenarios as they hold in answer mode", "[e2e]") {
    const TempDir dir;
    const std::string socket = (dir.path / "app.sock").string();
    EchoApp app({"--unix", socket, "--user-body"});
    REQUIRE(app.started());
    CHECK(app.upstream() == "unix:" + socket);
    ServeProcess server({"--no-access-log", "--upstream", app.upstream()});
    REQUIRE(server.started());
    RunOptions options;
    options.timeout = 60s;
    options.cwd = fixture("");
    const ProcessResult probe = run({certauth_binary(), "probe", "--scenarios", fixture("scenarios.json"), "--url",
                                     "https://localhost:" + std::to_string(server.port())},
                                    options);
    INFO(probe.out << probe.err);
    CHECK(probe.exit_code == 0);
    CHECK(probe.out.find(" 0 failed, 0 errors") != std::string::npos);
}
