// A server inside this process (in_process_server.hpp) answering the same
// requests to a browser (Accept prefers text/html) and to JSON clients
// (curl's */*, application/json, no Accept): the same status and reason
// header for both; a page with its Content-Security-Policy for the browser,
// and for the others exactly the JSON body a request without Accept gets.
#include "support/hostile_support.hpp"
#include "support/in_process_server.hpp"

#include "support/catch.hpp"

#include <regex>
#include <string>
#include <vector>

using namespace certauth;
using namespace certauth::test;

namespace {

// A body with the time of the check, and the days counted to it, taken out:
// the expired and not-yet-valid details name the second each request was
// decided at, and two requests may fall on either side of one.
std::string without_check_time(const std::string& body) {
    static const std::regex k_check_time(
        R"(, (less than a day|1 day|[0-9]+ days) (before|after) the time of the check \([^)]*\))");
    return std::regex_replace(body, k_check_time, ", (days) $2 the time of the check (time)");
}

// What Chromium sends when it opens a page.
const std::string k_browser = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                              "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n";

HttpResponse ask(unsigned short port, const std::string& stem, const std::string& method, const std::string& path,
                 const std::string& headers) {
    auto client = HttpClient::connect(port, as(stem));
    REQUIRE(client);
    auto response = client->request(method, path, headers);
    REQUIRE(response);
    return *response;
}

struct Case {
    std::string stem; // the fixture client ("" for none)
    std::string method;
    std::string path;
    int status;
    std::string heading; // a phrase of the page
};

} // namespace

TEST_CASE("page negotiation: browsers get a page with the same status, JSON clients today's JSON", "[server]") {
    InProcessServer server;
    const std::vector<Case> cases = {
        {"joe", "GET", "/", 200, "<h1>Joe Example</h1>"},
        {"joe", "GET", "/admin", 200, "<h1>Joe Example</h1>"},
        {"", "GET", "/", 401, "Your browser sent no certificate"},
        {"", "GET", "/public", 200, "This page is open to everyone"},
        {"bob", "GET", "/", 401, "give the administrator the fingerprint"},
        {"expired", "GET", "/", 401, "Your certificate has expired"},
        {"notyet", "GET", "/", 401, "Your certificate is not valid yet"},
        {"revoked", "GET", "/", 401, "Your certificate has been revoked"},
        {"rogue", "GET", "/", 401, "which this server does not trust"},
        {"serveronly", "GET", "/", 401, "This certificate cannot identify a person"},
        {"carol", "GET", "/admin", 403, "This page needs the role admin; you (Carol Example) have the role reader."},
        {"hostile", "GET", "/", 401, "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"joe", "GET", "/a/../..", 400, "This address is not valid here"},
        {"joe", "DELETE", "/", 405, "Your browser sent a DELETE request"},
        {"joe", "GET", "/healthz", 200, "The server is up"},
    };
    for (const Case& c : cases) {
        INFO(c.stem << " " << c.method << " " << c.path);
        const HttpResponse page = ask(server.port(), c.stem, c.method, c.path, k_browser);
        CHECK(page.status == c.status);
        CHECK(page.header("content-type") == "text/html; charset=utf-8");
        CHECK(page.header("content-security-policy").rfind("default-src 'none'; style-src 'sha256-", 0) == 0);
        CHECK(page.body.find(c.heading) != std::string::npos);
        CHECK(page.body.find("<script") == std::string::npos);

        const HttpResponse plain = ask(server.port(), c.stem, c.method, c.path, "");
        CHECK(plain.status == c.status);
        CHECK(page.header("x-certauth-reason") == plain.header("x-certauth-reason"));
        CHECK(plain.header("content-type") == "application/json");
        CHECK(plain.header("content-security-policy").empty());
        CHECK(plain.json().is_object());
        if (c.stem == "expired" || c.stem == "notyet")
            CHECK(without_check_time(plain.body).find(" the time of the check (time)") != std::string::npos);
        for (const std::string accept : {"*/*", "application/json", "text/html, application/json",
                                         "application/json, text/html;q=0.9", "text/plain"}) {
            const HttpResponse json = ask(server.port(), c.stem, c.method, c.path, "Accept: " + accept + "\r\n");
            CHECK(json.status == c.status);
            CHECK(json.header("content-type") == "application/json");
            CHECK(without_check_time(json.body) == without_check_time(plain.body));
        }
    }
}

TEST_CASE("page negotiation: HEAD of a page sends its headers and no body", "[server]") {
    InProcessServer server;
    auto client = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(client);
    REQUIRE(client->send("HEAD / HTTP/1.1\r\nHost: x\r\n" + k_browser + "\r\n"));
    const auto head = client->read(true);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->header("content-type") == "text/html; charset=utf-8");
    CHECK(std::stoul(head->header("content-length")) > 1000);
    CHECK(head->body.empty());
    const auto next = client->request("GET", "/", k_browser); // the connection goes on
    REQUIRE(next);
    CHECK(next->body.size() == std::stoul(head->header("content-length")));
}

TEST_CASE("page negotiation: plain HTTP from a browser gets a page linking to https://", "[server]") {
    InProcessServer server;
    ClientOptions plain;
    plain.tls = false;
    auto browser = HttpClient::connect(server.port(), plain);
    REQUIRE(browser);
    REQUIRE(browser->send("GET /admin?x=<b> HTTP/1.1\r\nHost: localhost:1234\r\n" + k_browser + "\r\n"));
    const auto page = browser->read();
    REQUIRE(page);
    CHECK(page->status == 401);
    CHECK(page->header("content-type") == "text/html; charset=utf-8");
    CHECK(page->body.find("This site needs a secure connection") != std::string::npos);
    CHECK(page->body.find("<a href=\"https://localhost:1234/admin?x=&lt;b&gt;\">") != std::string::npos);

    auto curl = HttpClient::connect(server.port(), plain);
    REQUIRE(curl);
    REQUIRE(curl->send("GET /admin HTTP/1.1\r\nHost: localhost:1234\r\nAccept: */*\r\n\r\n"));
    const auto json = curl->read();
    REQUIRE(json);
    CHECK(json->status == 401);
    CHECK(json->reason() == "no_certificate");
}
