#include <certauth/client/url.hpp>

#include <certauth/client/client.hpp>

#include "support/catch.hpp"

using namespace certauth::client;

TEST_CASE("parse_method takes GET and HEAD in any case, and nothing else", "[client]") {
    CHECK(parse_method("GET") == HttpMethod::get);
    CHECK(parse_method("head") == HttpMethod::head);
    CHECK(parse_method("HeAd") == HttpMethod::head);
    CHECK_FALSE(parse_method("POST"));
    CHECK_FALSE(parse_method("GETS"));
    CHECK_FALSE(parse_method(""));
    CHECK(to_string(*parse_method("get")) == "GET");
}

TEST_CASE("parse_url reads https URLs as curl does", "[client]") {
    auto u = parse_url("https://localhost:3443/admin?x=1#frag");
    REQUIRE(u);
    CHECK(u->host == "localhost");
    CHECK(u->port == 3443);
    CHECK(u->target == "/admin?x=1");
    CHECK(u->authority() == "localhost:3443");
    CHECK(u->to_string() == "https://localhost:3443/admin?x=1");

    u = parse_url("HTTPS://example.org");
    REQUIRE(u);
    CHECK(u->port == 443);
    CHECK(u->target == "/");
    CHECK(u->authority() == "example.org");

    u = parse_url("https://[::1]:8443/x");
    REQUIRE(u);
    CHECK(u->host == "::1");
    CHECK(u->host_is_ip());
    CHECK(u->authority() == "[::1]:8443");

    u = parse_url("https://h?q");
    REQUIRE(u);
    CHECK(u->target == "/?q");
}

TEST_CASE("parse_url explains bad URLs", "[client]") {
    CHECK_THAT(parse_url("http://localhost/").error().message, Catch::Matchers::ContainsSubstring("only https://"));
    CHECK_THAT(parse_url("localhost:3443").error().message, Catch::Matchers::ContainsSubstring("expected https://"));
    CHECK_THAT(parse_url("https://localhost:0/").error().message, Catch::Matchers::ContainsSubstring("invalid port"));
    CHECK_THAT(parse_url("https://localhost:99999/").error().message,
               Catch::Matchers::ContainsSubstring("invalid port"));
    CHECK_THAT(parse_url("https://localhost:/").error().message, Catch::Matchers::ContainsSubstring("empty port"));
    CHECK_THAT(parse_url("https:///x").error().message, Catch::Matchers::ContainsSubstring("no host"));
    CHECK_THAT(parse_url("https://[::1/").error().message, Catch::Matchers::ContainsSubstring("unterminated"));
    CHECK_THAT(parse_url("https://u@h/").error().message, Catch::Matchers::ContainsSubstring("user information"));
    CHECK_THAT(parse_url("https://h/a b").error().message, Catch::Matchers::ContainsSubstring("space"));
}

TEST_CASE("parse_resolve and connect_host follow curl's --resolve", "[client]") {
    auto r = parse_resolve("localhost:3443:127.0.0.1");
    REQUIRE(r);
    CHECK(r->host == "localhost");
    CHECK(r->port == 3443);
    CHECK(r->address == "127.0.0.1");
    auto v6 = parse_resolve("example.org:443:[::1]");
    REQUIRE(v6);
    CHECK(v6->address == "::1");
    CHECK_FALSE(parse_resolve("localhost:3443"));
    // The text as given and what is wrong with it; the CLI names the flag.
    CHECK(parse_resolve("localhost:3443:somewhere").error().message ==
          "'localhost:3443:somewhere': 'somewhere' is not a numeric IP address");

    Url url = *parse_url("https://LocalHost:3443/");
    CHECK(connect_host(url, {*r}) == "127.0.0.1");
    url.port = 4443;
    CHECK(connect_host(url, {*r}) == "LocalHost");
}

TEST_CASE("parse_header takes 'Name: value'", "[client]") {
    auto h = parse_header("X-Test:  hello world ");
    REQUIRE(h);
    CHECK(h->name == "X-Test");
    CHECK(h->value == "hello world");
    auto empty = parse_header("Accept:");
    REQUIRE(empty);
    CHECK(empty->value.empty());
    CHECK_FALSE(parse_header("no colon"));
    CHECK_FALSE(parse_header("Bad Name: x"));
    CHECK_FALSE(parse_header(": x"));
}

TEST_CASE("body_reason finds certauth's reason without a JSON parser", "[client]") {
    CHECK(body_reason(R"({"error":"unauthorized","reason":"unknown_user","detail":"x"})") == "unknown_user");
    CHECK(body_reason(R"({ "reason" : "expired" })") == "expired");
    CHECK(body_reason(R"({"cn":"joe"})").empty());
    CHECK(body_reason(R"({"reason":42})").empty());
    CHECK(body_reason(R"({"reason":"unterminated)").empty());
    CHECK(body_reason("").empty());
}
