#include <certauth/policy/decide.hpp>

#include "policy/fake_facts.hpp"

#include "support/catch.hpp"

using namespace certauth;
using certauth::policy::decide;
using certauth::policy::Decision;
using certauth::policy::Reason;
using certauth::policy::UserList;
using certauth::policy::Verdict;
using certauth::test::at_date;
using certauth::test::fake_facts;
using certauth::test::k_now;
using certauth::test::verified_status;
using nlohmann::json;

namespace {

UserList users(const std::string& text) {
    auto list = UserList::parse(text, "users.json");
    if (!list) FAIL(list.error().message);
    return std::move(*list);
}

const UserList& demo_users() {
    static const UserList list = users(R"({"users": [
        {"cn": "joe", "name": "Joe Example", "roles": ["admin"]},
        {"cn": "carol", "roles": ["reader"]},
        "norole",
        {"fingerprint256": ")" + test::k_fingerprint +
                                       R"(", "name": "Dave"}
    ], "routes": [
        {"path": "/admin", "roles": ["admin"]},
        {"path": "/admin/public", "public": true},
        {"path": "/public", "public": true},
        {"path": "/reports", "roles": ["reader", "admin"]}
    ]})");
    return list;
}

x509::CertFacts without_fingerprint(const std::string& cn) {
    auto facts = fake_facts(cn);
    facts.fingerprint256 =
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
    return facts;
}

Decision authorised_as(const std::string& cn) {
    const auto facts = without_fingerprint(cn);
    return decide(&facts, verified_status(), &demo_users(), k_now);
}

} // namespace

TEST_CASE("decide: no certificate is denied no_certificate", "[policy]") {
    const Decision d = decide(nullptr, verified_status(), &demo_users(), k_now);
    CHECK(d.verdict == Verdict::denied);
    CHECK(d.reason == Reason::no_certificate);
    CHECK(d.user == nullptr);
    CHECK(d.detail == "no client certificate was presented");
    CHECK(decide(nullptr, std::nullopt, nullptr, k_now).reason == Reason::no_certificate);
}

TEST_CASE("decide: without a trust store the certificate is only inspected", "[policy]") {
    const auto facts = fake_facts("joe");
    const Decision d = decide(&facts, std::nullopt, &demo_users(), k_now);
    CHECK(d.verdict == Verdict::inspected);
    CHECK(d.reason == Reason::ok);
    CHECK(d.user == nullptr); // identity is read only from verified chains
    CHECK(d.allowed());
}

TEST_CASE("decide: an unverified chain is denied with its reason and detail", "[policy]") {
    const auto joe = fake_facts("joe"); // in the list: identity must not matter
    using x509::ChainProblem;
    for (const auto& [problem, reason] :
         {std::pair{ChainProblem::untrusted, Reason::untrusted}, std::pair{ChainProblem::expired, Reason::expired},
          std::pair{ChainProblem::not_yet_valid, Reason::not_yet_valid},
          std::pair{ChainProblem::revoked, Reason::revoked},
          std::pair{ChainProblem::wrong_usage, Reason::wrong_usage}}) {
        x509::ChainStatus status;
        status.problem = problem;
        status.error = 10;
        status.depth = 0;
        status.detail = "what OpenSSL said";
        const Decision d = decide(&joe, status, &demo_users(), k_now);
        CHECK(d.verdict == Verdict::denied);
        CHECK(d.reason == reason);
        CHECK(d.detail == "what OpenSSL said");
        CHECK(d.user == nullptr);
    }
}

TEST_CASE("decide: a status that is not verified fails closed even with an odd problem", "[policy]") {
    const auto joe = fake_facts("joe");
    x509::ChainStatus status; // default: untrusted, no detail
    const Decision d = decide(&joe, status, &demo_users(), k_now);
    CHECK(d.reason == Reason::untrusted);
    CHECK(d.detail == "CN=joe, O=Example, C=XX (issued by CN=certauth test CA, O=certauth) did not verify");
}

TEST_CASE("decide: a verified chain without a user list is authenticated", "[policy]") {
    const auto facts = fake_facts("anyone");
    const Decision d = decide(&facts, verified_status(), nullptr, k_now);
    CHECK(d.verdict == Verdict::authenticated);
    CHECK(d.reason == Reason::ok);
    CHECK(d.user == nullptr);
}

TEST_CASE("decide: a verified chain in the list is authorised with the user", "[policy]") {
    const Decision d = authorised_as("joe");
    CHECK(d.verdict == Verdict::authorised);
    CHECK(d.reason == Reason::ok);
    REQUIRE(d.user);
    CHECK(*d.user == json{{"cn", "joe"}, {"name", "Joe Example"}, {"roles", {"admin"}}});
    const auto dave = fake_facts("dave");
    const auto dave_user = decide(&dave, verified_status(), &demo_users(), k_now).user;
    REQUIRE(dave_user);
    CHECK(*dave_user == json{{"cn", "dave"}, {"name", "Dave"}});
}

TEST_CASE("decide: a verified chain not in the list is unknown_user, saying why", "[policy]") {
    const auto bob = without_fingerprint("bob");
    const Decision d = decide(&bob, verified_status(), &demo_users(), k_now);
    CHECK(d.verdict == Verdict::denied);
    CHECK(d.reason == Reason::unknown_user);
    CHECK(d.detail == "CN=bob, O=Example, C=XX (issued by CN=certauth test CA, O=certauth) is not in the user list; "
                      "entries match on cn, fingerprint256; this certificate has fingerprint256 " +
                          bob.fingerprint256);

    auto bare = fake_facts("bob");
    bare.subject.entries = {{"CN", "bob"}};
    bare.issuer.entries = {{"CN", "certauth test CA"}};
    const UserList cn_only = users(R"({"users": ["joe"]})");
    CHECK(decide(&bare, verified_status(), &cn_only, k_now).detail ==
          "CN=bob (issued by CN=certauth test CA) is not in the user list; entries match on cn");
    const UserList empty = users(R"({"users": []})");
    CHECK(decide(&bare, verified_status(), &empty, k_now).detail ==
          "CN=bob (issued by CN=certauth test CA) is not in the user list, which is empty");
}

TEST_CASE("decide: the leaf's validity at `now` is checked again (fail closed)", "[policy]") {
    const auto joe = fake_facts("joe"); // valid 2000-01-01 .. 2049-12-31
    const Decision late = decide(&joe, verified_status(), &demo_users(), at_date(2050, 1, 10));
    CHECK(late.reason == Reason::expired);
    CHECK(late.detail.find("expired 2049-12-31, 10 days before the time of the check") != std::string::npos);
    const Decision early = decide(&joe, verified_status(), &demo_users(), at_date(1999, 12, 30));
    CHECK(early.reason == Reason::not_yet_valid);
    CHECK(early.detail.find("is not valid before 2000-01-01, 2 days after the time of the check") != std::string::npos);
    CHECK(decide(&joe, verified_status(), &demo_users(), at_date(2000, 1, 1)).verdict == Verdict::authorised);
}

TEST_CASE("route: a user without any of the route's roles is forbidden (403)", "[policy]") {
    const Decision d = policy::route(authorised_as("carol"), &demo_users(), "/admin/users");
    CHECK(d.verdict == Verdict::denied);
    CHECK(d.reason == Reason::forbidden);
    CHECK(d.detail == "route /admin requires one of the roles admin; CN=carol has the roles reader");
    CHECK(policy::route(authorised_as("norole"), &demo_users(), "/admin").detail ==
          "route /admin requires one of the roles admin; CN=norole has no roles");
}

TEST_CASE("route: a user with one of the roles passes, other paths need no role", "[policy]") {
    const Decision joe = authorised_as("joe");
    const Decision at_admin = policy::route(joe, &demo_users(), "/admin");
    CHECK(at_admin.verdict == Verdict::authorised);
    CHECK(at_admin.user == joe.user);
    CHECK(policy::route(authorised_as("carol"), &demo_users(), "/reports/2025").verdict == Verdict::authorised);
    CHECK(policy::route(authorised_as("joe"), &demo_users(), "/reports").verdict == Verdict::authorised);
    CHECK(policy::route(authorised_as("carol"), &demo_users(), "/").verdict == Verdict::authorised);
    CHECK(policy::route(authorised_as("carol"), &demo_users(), "/administrator").verdict == Verdict::authorised);
}

TEST_CASE("route: the longest prefix decides (a public route inside a protected one)", "[policy]") {
    CHECK(policy::route(authorised_as("carol"), &demo_users(), "/admin/public/x").verdict == Verdict::public_route);
    CHECK(policy::route(authorised_as("carol"), &demo_users(), "/admin/publicity").reason == Reason::forbidden);
}

TEST_CASE("route: a public route needs no certificate and keeps an authorised user", "[policy]") {
    const Decision none = decide(nullptr, std::nullopt, &demo_users(), k_now);
    const Decision open = policy::route(none, &demo_users(), "/public");
    CHECK(open.verdict == Verdict::public_route);
    CHECK(open.reason == Reason::ok);
    CHECK(open.user == nullptr);
    const Decision with_user = policy::route(authorised_as("joe"), &demo_users(), "/public/page");
    CHECK(with_user.verdict == Verdict::public_route);
    REQUIRE(with_user.user);
    CHECK((*with_user.user)["cn"] == "joe");
    const auto bob = without_fingerprint("bob");
    const Decision unknown = decide(&bob, verified_status(), &demo_users(), k_now);
    CHECK(policy::route(unknown, &demo_users(), "/public").user == nullptr);
}

TEST_CASE("route: a denied connection stays denied (401 before 403)", "[policy]") {
    const Decision none = decide(nullptr, std::nullopt, &demo_users(), k_now);
    CHECK(policy::route(none, &demo_users(), "/admin").reason == Reason::no_certificate);
    CHECK(policy::route(none, &demo_users(), "/").reason == Reason::no_certificate);
    const auto bob = without_fingerprint("bob");
    const Decision unknown = decide(&bob, verified_status(), &demo_users(), k_now);
    CHECK(policy::route(unknown, &demo_users(), "/admin").reason == Reason::unknown_user);
}

TEST_CASE("route: a route with roles refuses a connection that is not an authorised user", "[policy]") {
    const auto joe = fake_facts("joe");
    const Decision authenticated = decide(&joe, verified_status(), nullptr, k_now);
    const Decision d = policy::route(authenticated, &demo_users(), "/admin");
    CHECK(d.reason == Reason::forbidden);
    CHECK(d.detail == "route /admin requires one of the roles admin, and the connection is not an authorised user");
}

TEST_CASE("route: without a user list or without routes the decision stands", "[policy]") {
    const Decision joe = authorised_as("joe");
    CHECK(policy::route(joe, nullptr, "/admin").verdict == Verdict::authorised);
    const UserList no_routes = users(R"({"users": ["carol"]})");
    CHECK(policy::route(authorised_as("carol"), &no_routes, "/admin").verdict == Verdict::authorised);
}

TEST_CASE("normalise_path: plain paths pass, the query is stripped, escapes decoded", "[policy]") {
    using policy::normalise_path;
    CHECK(normalise_path("/") == "/");
    CHECK(normalise_path("/admin") == "/admin");
    CHECK(normalise_path("/admin/") == "/admin/");
    CHECK(normalise_path("/admin?x=1&y=/../") == "/admin");
    CHECK(normalise_path("/a%20b") == "/a b");
    CHECK(normalise_path("/%61dmin") == "/admin");
    CHECK(normalise_path("/a%2Fb") == "/a/b");
    CHECK(normalise_path("/a%3Fb") == "/a?b"); // an encoded '?' is not a query
    CHECK(normalise_path("/a%23b") == "/a#b"); // nor an encoded '#' a fragment
    CHECK(normalise_path("/admin?q=#x") == "/admin");
    CHECK(normalise_path("/a.b/.c/..d/...") == "/a.b/.c/..d/...");
}

TEST_CASE("normalise_path: the last segment's path parameters are cut, parameters elsewhere refused", "[policy]") {
    using policy::normalise_path;
    // Tomcat, Jetty and Spring cut ";..." from every segment before they
    // resolve dot segments: "/public/..;/admin" is /admin to them.
    CHECK(normalise_path("/shop/cart;jsessionid=A1?x=1") == "/shop/cart");
    CHECK(normalise_path("/admin;x") == "/admin");
    CHECK(normalise_path("/admin%3Bx") == "/admin;x"); // an encoded ';' is a character, to Tomcat as to others
    CHECK(normalise_path("/admin%3Bx/users") == "/admin;x/users");
    CHECK(demo_users().route_for(*normalise_path("/public%3Bx")) == nullptr);
    CHECK(normalise_path("/;x") == "/");
    CHECK(normalise_path("/a/;x") == "/a/");
    CHECK(normalise_path("/a/b;c;d") == "/a/b");
    for (const char* target :
         {"/public/..;/admin", "/public/..;x/admin", "/public/.;/admin", "/public/..;", "/..;x", "/.;",
          "/public/%2e%2e;/admin", "/public/..%3B/admin", "/admin;x/users", "/admin;/", "/a;b/c;d"}) {
        INFO(target);
        CHECK_FALSE(normalise_path(target).has_value());
    }
    // Routed as the application that cuts parameters will see it.
    CHECK(policy::route(authorised_as("carol"), &demo_users(), *normalise_path("/admin;x")).reason ==
          Reason::forbidden);
    CHECK(policy::route(authorised_as("carol"), &demo_users(), *normalise_path("/admin/users;jsessionid=1")).reason ==
          Reason::forbidden);
    const Decision nobody = decide(nullptr, verified_status(), &demo_users(), k_now);
    CHECK(policy::route(nobody, &demo_users(), *normalise_path("/public/page;jsessionid=1")).verdict ==
          Verdict::public_route);
}

TEST_CASE("normalise_path: repeated slashes merge, so // cannot sidestep a prefix", "[policy]") {
    using policy::normalise_path;
    CHECK(normalise_path("//admin") == "/admin");
    CHECK(normalise_path("/admin//x") == "/admin/x");
    CHECK(normalise_path("/%2Fadmin") == "/admin");
    CHECK(demo_users().route_for(*normalise_path("//admin"))->path == "/admin");
}

TEST_CASE("normalise_path: dot segments, NUL, backslash, a raw # and non-absolute targets are refused", "[policy]") {
    using policy::normalise_path;
    for (const char* target : {"/public/../admin",
                               "/public/..",
                               "/./admin",
                               "/admin/.",
                               "/public/%2e%2e/admin",
                               "/public/%2E%2E/admin",
                               "/public/.%2e/admin",
                               "/public%2F..%2Fadmin",
                               "/admin%00",
                               "/a%00b",
                               "/a\\b",
                               "/a%5Cb",
                               "/a%5cb",
                               "/admin#x", // nginx would route it as /admin
                               "/#",
                               "",
                               "admin",
                               "*",
                               "http://example.org/admin",
                               "/a%",
                               "/a%2",
                               "/a%zz",
                               "/a%2g",
                               "?/admin"}) {
        INFO(target);
        CHECK_FALSE(normalise_path(target).has_value());
    }
    CHECK_FALSE(normalise_path(std::string_view("/a\0b", 4)).has_value());
}
