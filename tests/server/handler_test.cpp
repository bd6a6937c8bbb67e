#include <certauth/server/handler.hpp>

#include <certauth/policy/user_list.hpp>
#include <certauth/server/server_state.hpp>

#include "support/catch.hpp"

#include <variant>

#include <nlohmann/json.hpp>

using namespace certauth;
using namespace certauth::server;
using certauth::policy::Reason;

namespace {

policy::UserList users_with_routes() {
    auto users = policy::UserList::parse(R"({"users":[{"cn":"joe","roles":["admin"]},{"cn":"carol","roles":["reader"]}],
        "routes":[{"path":"/admin","roles":["admin"]},{"path":"/public","public":true}]})",
                                         "users.json");
    REQUIRE(users);
    return std::move(*users);
}

ConnectionDecision authorised(const std::string& cn, nlohmann::json user) {
    ConnectionDecision connection;
    connection.decision.verdict = policy::Verdict::authorised;
    connection.decision.reason = Reason::ok;
    connection.decision.user = std::make_shared<const nlohmann::json>(std::move(user));
    connection.cn = cn;
    connection.body = decision_body(connection.decision, cn);
    return connection;
}

ConnectionDecision denied(Reason reason, const std::string& detail) {
    ConnectionDecision connection;
    connection.decision.verdict = policy::Verdict::denied;
    connection.decision.reason = reason;
    connection.decision.detail = detail;
    connection.body = decision_body(connection.decision, "");
    return connection;
}

RequestFacts get(std::string_view target, std::string_view method = "GET") {
    RequestFacts request;
    request.method = method;
    request.target = target;
    return request;
}

nlohmann::json body_of(const Response& response) { return nlohmann::json::parse(response.body()); }

// What answer mode (no --upstream) does: always an answer.
Response respond(const RequestFacts& request, const ConnectionDecision& connection, const policy::UserList* users) {
    Action action = handle(request, connection, users, Output::answer);
    REQUIRE(std::holds_alternative<Response>(action));
    return std::get<Response>(std::move(action));
}

} // namespace

TEST_CASE("handler: an authorised connection gets its user object on any path", "[server]") {
    const auto users = users_with_routes();
    const auto joe = authorised("joe", {{"cn", "joe"}, {"roles", {"admin"}}});
    for (const char* path : {"/", "/anything", "/a/b?c=d"}) {
        const Response response = respond(get(path), joe, &users);
        CHECK(response.status == 200);
        CHECK(response.reason == "ok");
        CHECK(body_of(response)["cn"] == "joe");
        CHECK(response.keep_alive);
    }
}

TEST_CASE("handler: denials carry error, reason and detail", "[server]") {
    const auto users = users_with_routes();
    const auto bob = denied(Reason::unknown_user, "CN=bob is not in the user list");
    const Response response = respond(get("/"), bob, &users);
    CHECK(response.status == 401);
    CHECK(response.reason == "unknown_user");
    CHECK(response.body() ==
          R"({"error":"unauthorized","reason":"unknown_user","detail":"CN=bob is not in the user list"})"
          "\n");
}

TEST_CASE("handler: routes - roles give 403, public routes need no certificate", "[server]") {
    const auto users = users_with_routes();
    const auto joe = authorised("joe", {{"cn", "joe"}, {"roles", {"admin"}}});
    const auto carol = authorised("carol", {{"cn", "carol"}, {"roles", {"reader"}}});
    const auto nobody = denied(Reason::no_certificate, "no client certificate was presented");

    CHECK(respond(get("/admin"), joe, &users).status == 200);
    CHECK(respond(get("/admin/x"), joe, &users).status == 200);
    const Response forbidden = respond(get("/admin"), carol, &users);
    CHECK(forbidden.status == 403);
    CHECK(forbidden.reason == "forbidden");
    CHECK(body_of(forbidden)["error"] == "forbidden");
    // 401 before 403: who you are comes first.
    CHECK(respond(get("/admin"), nobody, &users).status == 401);

    const Response open = respond(get("/public"), nobody, &users);
    CHECK(open.status == 200);
    CHECK(open.body() == "{\"public\":true}\n");
    const Response open_joe = respond(get("/public/page"), joe, &users);
    CHECK(open_joe.status == 200);
    CHECK(body_of(open_joe)["cn"] == "joe");
}

TEST_CASE("handler: /healthz answers without a certificate", "[server]") {
    const auto users = users_with_routes();
    const auto nobody = denied(Reason::no_certificate, "none");
    const Response response = respond(get("/healthz"), nobody, &users);
    CHECK(response.status == 200);
    CHECK(response.body() == "{\"status\":\"ok\"}\n");
}

TEST_CASE("handler: on a trusted listener /healthz is a client's path, decided like any other", "[server]") {
    // An ext_authz check carries the client's own path: a 200 would let it through.
    const auto users = users_with_routes();
    RequestFacts request = get("/healthz");
    request.input = Input::header;
    const auto nobody = denied(Reason::no_certificate, "none"); // the answer's body points into it
    const Response response = respond(request, nobody, &users);
    CHECK(response.status == 401);
    CHECK(body_of(response)["reason"] == "no_certificate");
}

TEST_CASE("handler: HEAD keeps the length, other methods get 405 with Allow", "[server]") {
    const auto joe = authorised("joe", {{"cn", "joe"}});
    const Response head = respond(get("/", "HEAD"), joe, nullptr);
    CHECK(head.status == 200);
    CHECK(head.head);
    std::string out;
    serialize(head, 11, "Sun, 06 Nov 1994 08:49:37 GMT", out);
    CHECK(out.find("Content-Length: " + std::to_string(joe.body.size()) + "\r\n") != std::string::npos);
    CHECK(out.substr(out.size() - 4) == "\r\n\r\n"); // no body

    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
        const Response response = respond(get("/", method), joe, nullptr);
        CHECK(response.status == 405);
        CHECK(response.allow_header);
        std::string text;
        serialize(response, 11, "d", text);
        CHECK(text.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
    }
}

TEST_CASE("handler: a target that is not a clean absolute path is 400", "[server]") {
    const auto joe = authorised("joe", {{"cn", "joe"}});
    for (const char* target :
         {"/../etc/passwd", "/a/./b", "*", "http://example.org/", "relative", "/a%00b", "/admin#x"}) {
        const Response response = respond(get(target), joe, nullptr);
        CHECK(response.status == 400);
        CHECK_FALSE(response.keep_alive); // as every 400 (README: 400, 413 and 431 close it)
    }
}

TEST_CASE("handler: verified without a user list answers the CN", "[server]") {
    policy::Decision decision;
    decision.verdict = policy::Verdict::authenticated;
    decision.reason = Reason::ok;
    CHECK(decision_body(decision, "joe") == "{\"cn\":\"joe\"}\n");
}

TEST_CASE("handler: plain HTTP on the TLS port is 401 no_certificate pointing to https", "[server]") {
    const Response response = respond_plain_http(get("/admin?x=1"), "localhost:3443");
    CHECK(response.status == 401);
    CHECK(response.reason == "no_certificate");
    CHECK_FALSE(response.keep_alive);
    const auto body = body_of(response);
    CHECK(body["reason"] == "no_certificate");
    CHECK(body["detail"].get<std::string>().find("use https://localhost:3443/admin?x=1") != std::string::npos);
}

TEST_CASE("handler: protocol errors close the connection", "[server]") {
    for (int status : {400, 408, 413, 431}) {
        const Response response = respond_error(status, "why");
        CHECK(response.status == status);
        CHECK_FALSE(response.keep_alive);
        std::string out;
        serialize(response, 11, "d", out);
        CHECK(out.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0) == 0);
        CHECK(out.find("\r\nConnection: close\r\n") != std::string::npos);
        CHECK(body_of(response)["detail"] == "why");
    }
}

TEST_CASE("handler: serialize - Content-Length always, keep-alive spelled out for HTTP/1.0", "[server]") {
    Response response;
    response.status = 200;
    response.keep_alive = true;
    response.set_body(R"({"cn":"joe"})");
    std::string http11;
    serialize(response, 11, "Sun, 06 Nov 1994 08:49:37 GMT", http11);
    CHECK(http11 == "HTTP/1.1 200 OK\r\nServer: certauth\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                    "Content-Type: application/json\r\nContent-Length: 12\r\nCache-Control: no-store\r\n\r\n"
                    R"({"cn":"joe"})");
    std::string http10;
    serialize(response, 10, "d", http10);
    CHECK(http10.find("\r\nConnection: keep-alive\r\n") != std::string::npos);
    response.keep_alive = false;
    std::string closing;
    serialize(response, 10, "d", closing);
    CHECK(closing.find("\r\nConnection: close\r\n") != std::string::npos);
}

TEST_CASE("handler: http_date is an IMF-fixdate", "[server]") {
    CHECK(http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST_CASE("http_status: 200 for ok, 403 forbidden and untrusted_proxy, 401 every other denial", "[server]") {
    CHECK(http_status(Reason::ok) == 200);
    CHECK(http_status(Reason::forbidden) == 403);
    CHECK(http_status(Reason::untrusted_proxy) == 403);
    // A header holding no certificate is a denial an auth subrequest can pass on (nginx turns a 400 into a 500).
    CHECK(http_status(Reason::malformed) == 401);
    for (const Reason reason : {Reason::no_certificate, Reason::untrusted, Reason::expired, Reason::not_yet_valid,
                                Reason::revoked, Reason::wrong_usage, Reason::unknown_user})
        CHECK(http_status(reason) == 401);
}

TEST_CASE("handler: JSON bodies end with a newline (a terminal's prompt starts on its own line)", "[server]") {
    const auto users = users_with_routes();
    const auto joe = authorised("joe", {{"cn", "joe"}});
    const auto bob = denied(Reason::unknown_user, "CN=bob is not in the user list");
    for (const Response& response :
         {respond(get("/"), joe, &users), respond(get("/"), bob, &users),
          respond(get("/admin"), authorised("carol", {{"cn", "carol"}}), &users), respond(get("/healthz"), bob, &users),
          respond(get("/", "POST"), joe, &users), respond_error(400, "why"), respond_plain_http(get("/"), "")}) {
        INFO(response.status);
        REQUIRE_FALSE(response.body().empty());
        CHECK(response.body().back() == '\n');
    }
}

TEST_CASE("handler: answer mode sends the identity headers on 200 and X-Certauth-Reason on a denial", "[server]") {
    const auto users = users_with_routes();
    auto joe = authorised("joe", {{"cn", "joe"}, {"roles", {"admin"}}});
    joe.identity = "X-Certauth-User: {\"cn\":\"joe\"}\r\n";
    const Response ok = respond(get("/"), joe, &users);
    CHECK(ok.extra_headers == joe.identity);
    std::string out;
    serialize(ok, 11, "d", out);
    CHECK(out.find("\r\nX-Certauth-User: {\"cn\":\"joe\"}\r\n") != std::string::npos);

    const Response bob = respond(get("/"), denied(Reason::unknown_user, "no"), &users);
    CHECK(bob.extra_headers == "X-Certauth-Reason: unknown_user\r\n");
    auto carol = authorised("carol", {{"cn", "carol"}, {"roles", {"reader"}}});
    carol.identity = "X-Certauth-User: {\"cn\":\"carol\"}\r\n";
    const Response forbidden = respond(get("/admin"), carol, &users);
    CHECK(forbidden.status == 403);
    CHECK(forbidden.extra_headers == "X-Certauth-Reason: forbidden\r\n");
    // A public route without a user: the headers are there, empty.
    const Response open = respond(get("/public"), denied(Reason::no_certificate, "none"), &users);
    CHECK(open.status == 200);
    CHECK(open.extra_headers.find("X-Certauth-User: \r\n") != std::string_view::npos);
}

TEST_CASE("handler: a browser's /favicon.ico is 204 without a body in answer mode", "[server]") {
    const auto joe = authorised("joe", {{"cn", "joe"}});
    const Response response = respond(get("/favicon.ico"), joe, nullptr);
    CHECK(response.status == 204);
    std::string out;
    serialize(response, 11, "d", out);
    CHECK(out.find("Content-Length") == std::string::npos);
    CHECK(out.substr(out.size() - 4) == "\r\n\r\n");
}

TEST_CASE("handler: forward mode forwards any method of an authorised user, answers denials and /healthz", "[server]") {
    const auto users = users_with_routes();
    auto joe = authorised("joe", {{"cn", "joe"}, {"roles", {"admin"}}});
    joe.identity = "X-Certauth-CN: joe\r\n";
    for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
        const Action action = handle(get("/admin/x", method), joe, &users, Output::forward);
        REQUIRE(std::holds_alternative<Forward>(action));
        CHECK(std::get<Forward>(action).identity == joe.identity);
        CHECK(std::get<Forward>(action).with_user);
    }
    // The application's own favicon.
    CHECK(std::holds_alternative<Forward>(handle(get("/favicon.ico"), joe, &users, Output::forward)));
    // Denials and certauth's own paths never reach the application.
    const auto bob = denied(Reason::unknown_user, "no");
    const Action refused = handle(get("/", "POST"), bob, &users, Output::forward);
    REQUIRE(std::holds_alternative<Response>(refused));
    CHECK(std::get<Response>(refused).status == 401);
    auto carol = authorised("carol", {{"cn", "carol"}, {"roles", {"reader"}}});
    const Action forbidden = handle(get("/admin"), carol, &users, Output::forward);
    REQUIRE(std::holds_alternative<Response>(forbidden));
    CHECK(std::get<Response>(forbidden).status == 403);
    const Action health = handle(get("/healthz"), bob, &users, Output::forward);
    REQUIRE(std::holds_alternative<Response>(health));
    CHECK(std::get<Response>(health).status == 200);
    const Action bad = handle(get("/public/../admin"), joe, &users, Output::forward);
    REQUIRE(std::holds_alternative<Response>(bad));
    CHECK(std::get<Response>(bad).status == 400);
    // A public route forwards without a certificate, with empty identity headers.
    const Action open = handle(get("/public/page"), bob, &users, Output::forward);
    REQUIRE(std::holds_alternative<Forward>(open));
    CHECK(std::get<Forward>(open).identity.find("X-Certauth-User: \r\n") != std::string_view::npos);
    CHECK_FALSE(std::get<Forward>(open).with_user);
    // joe's on the public route carries joe.
    const Action joes = handle(get("/public/page"), joe, &users, Output::forward);
    REQUIRE(std::holds_alternative<Forward>(joes));
    CHECK(std::get<Forward>(joes).identity == joe.identity);
    CHECK(std::get<Forward>(joes).with_user);
    // Verified without a user list: the connection's identity, a user's.
    ConnectionDecision verified;
    verified.decision.verdict = policy::Verdict::authenticated;
    verified.decision.reason = Reason::ok;
    verified.identity = "X-Certauth-CN: joe\r\n";
    const Action anyone = handle(get("/x"), verified, nullptr, Output::forward);
    REQUIRE(std::holds_alternative<Forward>(anyone));
    CHECK(std::get<Forward>(anyone).identity == verified.identity);
    CHECK(std::get<Forward>(anyone).with_user);
}
