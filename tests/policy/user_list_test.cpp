#include <certauth/policy/user_list.hpp>

#include "policy/fake_facts.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

#include "support/catch.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

using certauth::policy::UserList;
using certauth::test::fake_facts;
using certauth::test::k_fingerprint;
using nlohmann::json;

namespace {

UserList parse(const std::string& text) {
    auto list = UserList::parse(text, "users.json");
    if (!list) FAIL("parse failed: " << list.error().message);
    return std::move(*list);
}

std::string parse_error(const std::string& text) {
    auto list = UserList::parse(text, "users.json");
    REQUIRE_FALSE(list);
    return list.error().message;
}

// The user the list finds for `facts`, or null.
json user_for(const UserList& list, const certauth::x509::CertFacts& facts) {
    const std::shared_ptr<const json> user = list.find(facts);
    return user ? *user : json(nullptr);
}

bool matches(const std::string& entry, const certauth::x509::CertFacts& facts) {
    const UserList list = parse(R"({"users": [)" + entry + "]}");
    return list.find(facts) != nullptr;
}

} // namespace

TEST_CASE("a bare string is a CN and gives the user {cn}", "[policy]") {
    const UserList list = parse(R"({"users": ["joe"]})");
    CHECK(user_for(list, fake_facts("joe")) == json{{"cn", "joe"}});
    CHECK(user_for(list, fake_facts("bob")).is_null());
    CHECK(user_for(list, fake_facts("Joe")).is_null()); // CN compares exactly
    REQUIRE(list.users().size() == 1);
    CHECK(list.users()[0].cn == "joe");
    CHECK(list.users()[0].json_path == "users[0]");
}

TEST_CASE("the user object is the entry's attributes plus the certificate's CN", "[policy]") {
    const UserList list = parse(R"({"users": [{"fingerprint256": ")" + k_fingerprint +
                                R"(", "name": "Build Bot", "roles": ["ci"], "n": 3}]})");
    CHECK(user_for(list, fake_facts("bot")) == json{{"cn", "bot"}, {"name", "Build Bot"}, {"roles", {"ci"}}, {"n", 3}});
}

TEST_CASE("match key cn: only a subject with exactly one CN", "[policy]") {
    // CN=joe, CN=joe-alias: which of them is the user? Neither, for cn
    // entries; other match keys still apply.
    auto facts = fake_facts("joe");
    facts.subject.entries.push_back({"CN", "joe-alias"});
    CHECK_FALSE(matches(R"({"cn": "joe"})", facts));
    CHECK_FALSE(matches(R"({"cn": "joe-alias"})", facts));
    CHECK(matches(R"({"o": "Example"})", facts));
    CHECK(matches(R"({"fingerprint256": ")" + k_fingerprint + R"("})", facts));
    const UserList list = parse(R"({"users": [{"fingerprint256": ")" + k_fingerprint + R"(", "name": "Two"}]})");
    CHECK(user_for(list, facts) == json{{"cn", ""}, {"name", "Two"}});
    CHECK(matches(R"({"cn": "joe"})", fake_facts("joe")));
}

TEST_CASE("match key issuer_cn: only an issuer with exactly one CN", "[policy]") {
    auto facts = fake_facts("joe");
    const std::string issuer = facts.issuer_cn();
    REQUIRE_FALSE(issuer.empty());
    CHECK(matches(R"({"cn": "joe", "issuer_cn": ")" + issuer + R"("})", facts));
    facts.issuer.entries.push_back({"CN", "other"});
    CHECK_FALSE(matches(R"({"cn": "joe", "issuer_cn": ")" + issuer + R"("})", facts));
}

TEST_CASE("match key o", "[policy]") {
    CHECK(matches(R"({"o": "Example"})", fake_facts("joe")));
    CHECK_FALSE(matches(R"({"o": "example"})", fake_facts("joe")));
    CHECK_FALSE(matches(R"({"o": "certauth"})", fake_facts("joe"))); // the issuer's O is not the subject's
}

TEST_CASE("match key ou: any one of several OUs", "[policy]") {
    auto facts = fake_facts("joe");
    facts.subject.entries.insert(facts.subject.entries.begin() + 2, {{"OU", "eng"}, {"OU", "ops"}});
    CHECK(matches(R"({"ou": "eng"})", facts));
    CHECK(matches(R"({"ou": "ops"})", facts));
    CHECK_FALSE(matches(R"({"ou": "sales"})", facts));
    CHECK_FALSE(matches(R"({"ou": "eng"})", fake_facts("joe")));
}

TEST_CASE("match key email: subject emailAddress or SAN email, case-insensitive", "[policy]") {
    auto subject_mail = fake_facts("joe");
    subject_mail.subject.entries.push_back({"emailAddress", "Joe@Example.org"});
    auto san_mail = fake_facts("joe");
    san_mail.san_email = {"other@example.org", "joe@example.org"};
    CHECK(matches(R"({"email": "joe@example.org"})", subject_mail));
    CHECK(matches(R"({"email": "JOE@example.ORG"})", san_mail));
    CHECK_FALSE(matches(R"({"email": "ann@example.org"})", san_mail));
    CHECK_FALSE(matches(R"({"email": "joe@example.org"})", fake_facts("joe")));
}

TEST_CASE("match key dns: any SAN DNS name, case-insensitive", "[policy]") {
    auto facts = fake_facts("api");
    facts.san_dns = {"api.example.org", "API.internal"};
    CHECK(matches(R"({"dns": "api.example.org"})", facts));
    CHECK(matches(R"({"dns": "api.INTERNAL"})", facts));
    CHECK_FALSE(matches(R"({"dns": "example.org"})", facts));
    CHECK_FALSE(matches(R"({"dns": "api"})", facts)); // the CN is not a DNS SAN
}

TEST_CASE("match key uri: a SAN URI, exactly", "[policy]") {
    auto facts = fake_facts("api");
    facts.san_uri = {"spiffe://example.org/ns/prod/sa/api"};
    CHECK(matches(R"({"uri": "spiffe://example.org/ns/prod/sa/api"})", facts));
    CHECK_FALSE(matches(R"({"uri": "spiffe://example.org/ns/prod/sa/API"})", facts));
    CHECK_FALSE(matches(R"({"uri": "spiffe://example.org/ns/prod"})", facts));
}

TEST_CASE("match key ip: SAN IP addresses compared as addresses", "[policy]") {
    auto facts = fake_facts("host");
    facts.san_ip = {"127.0.0.1", "::1", "2001:db8::1"};
    CHECK(matches(R"({"ip": "127.0.0.1"})", facts));
    CHECK(matches(R"({"ip": "::1"})", facts));
    CHECK(matches(R"({"ip": "0:0:0:0:0:0:0:1"})", facts));
    CHECK(matches(R"({"ip": "2001:0DB8:0000::0001"})", facts));
    CHECK_FALSE(matches(R"({"ip": "127.0.0.2"})", facts));
    auto long_form = fake_facts("host");
    long_form.san_ip = {"0:0:0:0:0:0:0:1"};
    CHECK(matches(R"({"ip": "::1"})", long_form));
}

TEST_CASE("match key fingerprint256: any case, with or without colons", "[policy]") {
    const auto facts = fake_facts("dave");
    std::string bare;
    for (char c : k_fingerprint)
        if (c != ':') bare += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(matches(R"({"fingerprint256": ")" + k_fingerprint + R"("})", facts));
    CHECK(matches(R"({"fingerprint256": ")" + bare + R"("})", facts));
    const UserList list = parse(R"({"users": [{"fingerprint256": ")" + bare + R"("}]})");
    CHECK(list.users()[0].fingerprint256 == k_fingerprint); // normalised at load
    std::string other = k_fingerprint;
    other[0] = 'E';
    CHECK_FALSE(matches(R"({"fingerprint256": ")" + other + R"("})", facts));
}

TEST_CASE("match key serial: hex, any case, colons allowed, leading zeros ignored", "[policy]") {
    const auto facts = fake_facts("joe"); // serial 1A2B3C
    CHECK(matches(R"({"serial": "1A2B3C"})", facts));
    CHECK(matches(R"({"serial": "1a:2b:3c"})", facts));
    CHECK(matches(R"({"serial": "001A2B3C"})", facts));
    CHECK_FALSE(matches(R"({"serial": "1A2B3D"})", facts));
    auto padded = fake_facts("joe");
    padded.serial = "00F1";
    CHECK(matches(R"({"serial": "f1"})", padded));
}

TEST_CASE("match key issuer_cn", "[policy]") {
    CHECK(matches(R"({"issuer_cn": "certauth test CA"})", fake_facts("joe")));
    CHECK_FALSE(matches(R"({"issuer_cn": "rogue CA"})", fake_facts("joe")));
    CHECK_FALSE(matches(R"({"issuer_cn": "joe"})", fake_facts("joe")));
}

TEST_CASE("serial, ou, email and dns are not tied to an issuer, issuer_cn or fingerprint256 ties them "
          "(docs/users.md)",
          "[policy]") {
    auto from_root = fake_facts("joe");
    from_root.subject.entries.push_back({"OU", "ops"});
    from_root.subject.entries.push_back({"emailAddress", "joe@example.org"});
    from_root.san_dns = {"joe.example.org"};
    auto from_sub_ca = from_root; // same serial and fields, another (trusted) issuer
    from_sub_ca.issuer.entries = {{"O", "certauth"}, {"CN", "certauth test intermediate CA"}};
    from_sub_ca.fingerprint256 = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:"
                                 "BB:CC:DD:EE:FF";
    for (const std::string entry : {R"({"serial": "1A2B3C"})", R"({"ou": "ops"})", R"({"email": "joe@example.org"})",
                                    R"({"dns": "joe.example.org"})"}) {
        INFO(entry);
        CHECK(matches(entry, from_root));
        CHECK(matches(entry, from_sub_ca));
    }
    const std::string tied = R"({"serial": "1A2B3C", "issuer_cn": "certauth test CA"})";
    CHECK(matches(tied, from_root));
    CHECK_FALSE(matches(tied, from_sub_ca));
    const std::string by_fingerprint = R"({"fingerprint256": ")" + k_fingerprint + R"("})";
    CHECK(matches(by_fingerprint, from_root));
    CHECK_FALSE(matches(by_fingerprint, from_sub_ca));
}

TEST_CASE("an entry matches only when every match key it has matches", "[policy]") {
    CHECK(matches(R"({"cn": "joe", "o": "Example", "issuer_cn": "certauth test CA"})", fake_facts("joe")));
    CHECK_FALSE(matches(R"({"cn": "joe", "o": "Other"})", fake_facts("joe")));
    CHECK_FALSE(matches(R"({"cn": "joe", "issuer_cn": "rogue CA"})", fake_facts("joe")));
    CHECK_FALSE(matches(R"({"fingerprint256": ")" + k_fingerprint + R"(", "cn": "bob"})", fake_facts("joe")));
}

TEST_CASE("entries are tried in order and the first match wins", "[policy]") {
    const UserList list = parse(R"({"users": [
        {"o": "Example", "cn": "nobody", "n": 0},
        {"ou": "eng", "n": 1},
        {"cn": "joe", "n": 2},
        {"fingerprint256": ")" + k_fingerprint +
                                R"(", "n": 3},
        {"o": "Example", "n": 4}
    ]})");
    auto joe = fake_facts("joe");
    CHECK(user_for(list, joe)["n"] == 2);
    joe.subject.entries.push_back({"OU", "eng"});
    CHECK(user_for(list, joe)["n"] == 1);
    CHECK(user_for(list, fake_facts("ann"))["n"] == 3);
    auto other = fake_facts("ann");
    other.fingerprint256.clear();
    CHECK(user_for(list, other)["n"] == 4);
    CHECK(user_for(list, other)["cn"] == "ann");
}

TEST_CASE("UserEntry::matches agrees with find", "[policy]") {
    const UserList list = parse(R"({"users": [{"cn": "joe", "o": "Example"}, {"dns": "x.example"}]})");
    CHECK(list.users()[0].matches(fake_facts("joe")));
    CHECK_FALSE(list.users()[1].matches(fake_facts("joe")));
}

TEST_CASE("match_keys lists the keys the entries use, in spec order", "[policy]") {
    const UserList list =
        parse(R"({"users": ["joe", {"fingerprint256": ")" + k_fingerprint + R"("}, {"ip": "::1", "cn": "x"}]})");
    CHECK(list.match_keys() == std::vector<std::string>{"cn", "ip", "fingerprint256"});
}

TEST_CASE("routes: the longest segment-wise prefix covers a path", "[policy]") {
    const UserList list = parse(R"({"users": ["joe"], "routes": [
        {"path": "/admin", "roles": ["admin"]},
        {"path": "/admin/reports/", "roles": ["admin", "auditor"]},
        {"path": "/public", "public": true}
    ]})");
    REQUIRE(list.routes().size() == 3);
    CHECK(list.routes()[1].path == "/admin/reports"); // trailing slash dropped
    CHECK(list.routes()[2].is_public);
    auto covering = [&](std::string_view path) {
        const auto* route = list.route_for(path);
        return route ? route->path : std::string("none");
    };
    CHECK(covering("/admin") == "/admin");
    CHECK(covering("/admin/") == "/admin");
    CHECK(covering("/admin/users") == "/admin");
    CHECK(covering("/administrator") == "none");
    CHECK(covering("/admin/reports") == "/admin/reports");
    CHECK(covering("/admin/reports/2025") == "/admin/reports");
    CHECK(covering("/admin/reportsX") == "/admin");
    CHECK(covering("/public/x") == "/public");
    CHECK(covering("/") == "none");
    CHECK(covering("/other") == "none");

    const UserList root = parse(R"({"users": ["joe"], "routes": [{"path": "/", "roles": ["r"]}]})");
    CHECK(root.route_for("/") == &root.routes()[0]);
    CHECK(root.route_for("/anything/else") == &root.routes()[0]);
}

TEST_CASE("fixtures/users.json loads", "[policy]") {
    auto list = UserList::load(certauth::test::source_path("fixtures/users.json"));
    REQUIRE(list);
    CHECK(list->users().size() == 7);
    CHECK(user_for(*list, fake_facts("joe")) == json{{"cn", "joe"}, {"name", "Joe Example"}, {"roles", {"admin"}}});
    // dave is listed by the fingerprint of fixtures/dave.crt (new with every regeneration): read it from the file.
    const json file = json::parse(certauth::test::read_text(certauth::test::fixture("users.json")));
    std::string dave_fingerprint;
    for (const json& user : file.at("users"))
        if (user.is_object() && user.contains("fingerprint256"))
            dave_fingerprint = user.at("fingerprint256").get<std::string>();
    REQUIRE(dave_fingerprint.size() == 95);
    auto bob = fake_facts("bob");
    bob.fingerprint256 = dave_fingerprint == k_fingerprint ? "AA" + k_fingerprint.substr(2) : k_fingerprint;
    CHECK(user_for(*list, bob).is_null());
    bob.fingerprint256 = dave_fingerprint;
    CHECK(user_for(*list, bob) == json{{"cn", "bob"}, {"name", "Dave Example"}}); // by fingerprint
    REQUIRE(list->routes().size() == 2);
    CHECK(list->routes()[0].roles == std::vector<std::string>{"admin"});
    CHECK(list->routes()[1].is_public);
}

TEST_CASE("bad users files: the message names the file and position or JSON path", "[policy]") {
    auto error_of = [](const std::string& name) {
        const std::string path = certauth::test::source_path("fixtures/bad/" + name);
        auto list = UserList::load(path);
        REQUIRE_FALSE(list);
        const std::string& message = list.error().message;
        CHECK(message.rfind(path + ":", 0) == 0);
        return message.substr(path.size());
    };
    CHECK(error_of("users-syntax.json") ==
          ":4:17: syntax error while parsing array - unexpected string literal; expected ']'");
    CHECK(error_of("users-wrong-type.json") == ": users[1].cn: expected a string, got number");
    CHECK(error_of("users-no-match-key.json") ==
          ": users[1]: no match key; an entry needs at least one of cn, o, ou, email, dns, uri, ip, "
          "fingerprint256, serial, issuer_cn");
    CHECK(error_of("users-unknown-key.json") ==
          ": user: unknown key; the file holds \"users\" and optional \"routes\"");
    CHECK(error_of("users-bad-route.json") == ": routes[0].path: must start with \"/\", got \"admin\"");
}

TEST_CASE("users file errors: missing, a directory, empty", "[policy]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("certauth-users-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path empty = dir / "empty.json";
    std::ofstream(empty).close();

    auto message = [](const fs::path& path) {
        auto list = UserList::load(path);
        REQUIRE_FALSE(list);
        return list.error().message;
    };
    CHECK(message(dir / "missing.json") == (dir / "missing.json").string() + ": no such file");
    CHECK(message(dir) == dir.string() + ": is a directory, not a file");
    CHECK(message(empty) == empty.string() + ": empty file; expected a JSON object with \"users\"");
    fs::remove_all(dir);
}

TEST_CASE("syntax errors give line and column", "[policy]") {
    CHECK(parse_error("{\n  \"users\": [\"joe\",]\n}") ==
          "users.json:2:19: syntax error while parsing value - unexpected ']'; expected '[', '{', or a literal");
    CHECK(parse_error("{\"users\": [\n") ==
          "users.json:2:1: syntax error while parsing value - unexpected end of input; expected '[', '{', or a "
          "literal");
    CHECK(parse_error("   \n") ==
          "users.json:2:1: syntax error while parsing value - unexpected end of input; expected '[', '{', or a "
          "literal");
}

// JSON leaves a repeated key open and nlohmann keeps the last: a second "cn"
// would silently match another user, a second "users" replace the list.
TEST_CASE("a key repeated in one object is an error naming where", "[policy]") {
    CHECK(parse_error(R"({"users": ["joe"], "users": []})") == "users.json: (top level): duplicate key \"users\"");
    CHECK(parse_error(R"({"users": ["a", {"cn": "bob", "cn": "joe"}]})") ==
          "users.json: users[1]: duplicate key \"cn\"");
    CHECK(parse_error(R"({"users": [{"cn": "a", "x": {"y": [1, {"z": 1, "z": 2}]}}]})") ==
          "users.json: users[0].x.y[1]: duplicate key \"z\"");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/a", "roles": ["r"], "roles": []}]})") ==
          "users.json: routes[0]: duplicate key \"roles\"");
    // The same key in different objects is fine.
    CHECK(UserList::parse(R"({"users": [{"cn": "a"}, {"cn": "b"}]})", "users.json"));
}

TEST_CASE("validation errors name the JSON path and what is wrong", "[policy]") {
    CHECK(parse_error("[]") ==
          "users.json: expected a JSON object with \"users\" (and optional \"routes\"), got array");
    CHECK(parse_error("{}") == "users.json: missing \"users\" (the list of users)");
    CHECK(parse_error(R"({"users": {}})") == "users.json: users: expected an array, got object");
    CHECK(parse_error(R"({"users": ["joe", 42]})") ==
          "users.json: users[1]: expected a string (a CN) or an object, got number");
    CHECK(parse_error(R"({"users": [""]})") == "users.json: users[0]: empty string; a bare string is a CN");
    CHECK(parse_error(R"({"users": [{}]})").find("users.json: users[0]: no match key") == 0);
    CHECK(parse_error(R"({"users": ["a", "b", "c", {"cn": 1}]})") ==
          "users.json: users[3].cn: expected a string, got number");
    CHECK(parse_error(R"({"users": [{"ou": ["a"]}]})") == "users.json: users[0].ou: expected a string, got array");
    CHECK(parse_error(R"({"users": [{"cn": ""}]})") == "users.json: users[0].cn: empty string");
    CHECK(parse_error(R"({"users": [{"ip": "1.2.3"}]})") == "users.json: users[0].ip: not an IP address: \"1.2.3\"");
    CHECK(parse_error(R"({"users": [{"fingerprint256": "AB:CD"}]})") ==
          "users.json: users[0].fingerprint256: expected a SHA-256 fingerprint (64 hex digits, colons optional), "
          "got \"AB:CD\"");
    CHECK(parse_error(R"({"users": [{"serial": "xyz"}]})") ==
          "users.json: users[0].serial: expected a serial number in hex, got \"xyz\"");
    CHECK(parse_error(R"({"users": [{"cn": "a", "roles": "admin"}]})") ==
          "users.json: users[0].roles: expected an array of strings, got string");
    CHECK(parse_error(R"({"users": [{"cn": "a", "roles": ["admin", 1]}]})") ==
          "users.json: users[0].roles[1]: expected a string, got number");
    CHECK(parse_error(R"({"users": [], "routes": {}})") == "users.json: routes: expected an array, got object");
    CHECK(parse_error(R"({"users": [], "routes": ["/x"]})") ==
          "users.json: routes[0]: expected an object with \"path\" and \"roles\", got string");
    CHECK(parse_error(R"({"users": [], "routes": [{"roles": ["a"]}]})") == "users.json: routes[0]: missing \"path\"");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": 1, "roles": ["a"]}]})") ==
          "users.json: routes[0].path: expected a string, got number");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/x"}]})") ==
          "users.json: routes[0]: needs \"roles\" or \"public\": true");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/x", "public": false}]})") ==
          "users.json: routes[0]: needs \"roles\" or \"public\": true");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/x", "roles": []}]})") ==
          "users.json: routes[0].roles: empty; a route needs at least one role (or \"public\": true)");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/x", "roles": [""]}]})") ==
          "users.json: routes[0].roles[0]: empty string");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/x", "public": true, "roles": ["a"]}]})") ==
          "users.json: routes[0]: \"public\": true and \"roles\" exclude each other");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/x", "public": "yes"}]})") ==
          "users.json: routes[0].public: expected true or false, got string");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/x", "role": ["a"]}]})") ==
          "users.json: routes[0].role: unknown key; a route has \"path\" and either \"roles\" or \"public\": true");
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/a/../b", "roles": ["a"]}]})") ==
          "users.json: routes[0].path: not a plain absolute path (no \".\" or \"..\" segments, query, path "
          "parameters, fragment, NUL or backslash): \"/a/../b\"");
    for (const char* path : {"/x;y", "/x%3By", "/x%3by", "/a;b/c"}) {
        INFO(path);
        CHECK(parse_error(std::string(R"({"users": [], "routes": [{"roles": ["a"], "path": ")") + path + R"("}]})")
                  .find("routes[0].path: not a plain absolute path") != std::string::npos);
    }
    CHECK(parse_error(R"({"users": [], "routes": [{"path": "/x?y", "roles": ["a"]}]})").find("routes[0].path: not a") !=
          std::string::npos);
    CHECK(
        parse_error(R"({"users": [], "routes": [{"path": "/x", "roles": ["a"]}, {"path": "/x/", "public": true}]})") ==
        "users.json: routes[1].path: duplicate of routes[0] (/x)");
}

TEST_CASE("an empty user list is valid and matches nobody", "[policy]") {
    const UserList list = parse(R"({"users": []})");
    CHECK(list.users().empty());
    CHECK_FALSE(list.find(fake_facts("joe")));
}

TEST_CASE("an entry matching on cn hands out one shared user object, other matches build their own", "[policy]") {
    auto joe = fake_facts("joe");
    const UserList list = parse(R"({"users": [{"cn": "joe", "name": "Joe"},
                                             {"fingerprint256": ")" +
                                joe.fingerprint256 + R"(", "name": "by fingerprint"}]})");
    const auto first = list.find(joe);
    const auto second = list.find(joe);
    REQUIRE(first);
    CHECK(first == second); // the same object: connections of one user hold one copy
    CHECK(*first == json{{"cn", "joe"}, {"name", "Joe"}});
    // The fingerprint entry: the certificate's CN goes into a new object.
    auto other = fake_facts("joseph");
    other.fingerprint256 = joe.fingerprint256;
    const auto by_fingerprint = list.find(other);
    REQUIRE(by_fingerprint);
    CHECK(*by_fingerprint == json{{"cn", "joseph"}, {"name", "by fingerprint"}});
    CHECK(by_fingerprint != list.find(other));
}
