#include <certauth/policy/user_list_builder.hpp>

#include "policy/fake_facts.hpp"

#include "support/catch.hpp"

#include <random>
#include <string>
#include <vector>

using certauth::Error;
using certauth::policy::MatchKey;
using certauth::policy::MatchTexts;
using certauth::policy::UserList;
using certauth::policy::UserListBuilder;
using certauth::test::fake_facts;
using certauth::test::k_fingerprint;
using nlohmann::json;

namespace {

MatchTexts match(MatchKey key, std::string_view value) {
    MatchTexts texts;
    texts[certauth::policy::index_of(key)] = value;
    return texts;
}

std::string error_of(certauth::Result<void> result) {
    REQUIRE_FALSE(result);
    return result.error().message;
}

} // namespace

TEST_CASE("builder: an entry given as parts is validated and matched as a users.json entry is", "[policy]") {
    UserListBuilder builder("sqlite:users.db");
    std::string lower;
    for (char c : k_fingerprint)
        if (c != ':') lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    REQUIRE(builder.add_user(match(MatchKey::fingerprint256, lower), json{{"name", "Dave"}}, "users[id=7]"));
    CHECK(error_of(builder.add_user(match(MatchKey::fingerprint256, "xyz"), json::object(), "users[id=8]")) ==
          "sqlite:users.db: users[id=8].fingerprint256: expected a SHA-256 fingerprint (64 hex digits, colons "
          "optional), got \"xyz\"");
    CHECK(error_of(builder.add_user(match(MatchKey::cn, ""), json::object(), "users[id=9]")) ==
          "sqlite:users.db: users[id=9].cn: empty string");
    CHECK(error_of(builder.add_user(MatchTexts{}, json{{"name", "x"}}, "users[id=10]"))
              .find("sqlite:users.db: users[id=10]: no match key; an entry needs at least one of cn, o, ou") == 0);
    CHECK(error_of(builder.add_user(match(MatchKey::cn, "a"), json{{"roles", {"ok", 1}}}, "users[id=11]")) ==
          "sqlite:users.db: users[id=11].roles[1]: expected a string, got number");
    // Rejected entries were not added; the builder goes on (lint).
    REQUIRE(builder.add_user(match(MatchKey::cn, "joe"), json::object(), "users[id=12]"));
    CHECK(builder.user_count() == 2);
    const UserList list = std::move(builder).build();
    REQUIRE(list.users().size() == 2);
    CHECK(list.users()[0].fingerprint256 == k_fingerprint);                        // normalised
    CHECK(*list.find(fake_facts("joe")) == json{{"cn", "joe"}, {"name", "Dave"}}); // first match: the fingerprint
}

TEST_CASE("builder: a duplicate route names where the first came from", "[policy]") {
    UserListBuilder builder("pg");
    REQUIRE(builder.add_route(json{{"path", "/x"}, {"roles", {"a"}}}, "routes[id=3]"));
    CHECK(error_of(builder.add_route(json{{"path", "/x/"}, {"public", true}}, "routes[id=5]")) ==
          "pg: routes[id=5].path: duplicate of routes[id=3] (/x)");
}

TEST_CASE("builder: add_document reports every problem when asked to go on", "[policy]") {
    UserListBuilder builder("users.json");
    std::vector<std::string> problems;
    builder.add_document(json::parse(R"({"users": ["joe", 1, {"cn": ""}, "ann"], "routes": [{"path": "x"}]})"),
                         [&problems](const Error& problem) {
                             problems.push_back(problem.message);
                             return true;
                         });
    CHECK(problems ==
          std::vector<std::string>{"users.json: users[1]: expected a string (a CN) or an object, got number",
                                   "users.json: users[2].cn: empty string",
                                   "users.json: routes[0].path: must start with \"/\", got \"x\""});
    CHECK(std::move(builder).build().users().size() == 2);
}

// The compact index must find what trying every entry in order finds: lists
// with many entries sharing values (chains), several keys per entry, and
// certificates with several values per key.
TEST_CASE("find() agrees with a first-match scan over a large list", "[policy]") {
    std::mt19937 random(12345);
    auto pick = [&random](int n) { return std::to_string(std::uniform_int_distribution<int>(0, n - 1)(random)); };
    json users = json::array();
    for (int i = 0; i < 3000; ++i) {
        json entry = json::object();
        switch (i % 4) {
        case 0: entry["cn"] = "user" + pick(400); break;
        case 1:
            entry["cn"] = "user" + pick(400);
            entry["o"] = "org" + pick(3);
            break;
        case 2: entry["ou"] = "unit" + pick(20); break;
        default: entry["dns"] = "host" + pick(200) + ".example"; break;
        }
        entry["n"] = i;
        users.push_back(entry);
    }
    auto list = UserList::parse(json{{"users", users}}.dump(), "users.json");
    REQUIRE(list);
    for (int trial = 0; trial < 500; ++trial) {
        auto facts = fake_facts("user" + pick(450));
        facts.subject.entries = {
            {"O", "org" + pick(4)}, {"OU", "unit" + pick(25)}, {"OU", "unit" + pick(25)}, {"CN", "user" + pick(450)}};
        facts.san_dns = {"HOST" + pick(220) + ".example", "host" + pick(220) + ".example"};
        std::optional<json> expected;
        for (const auto& entry : list->users())
            if (entry.matches(facts)) {
                expected = entry.attributes;
                (*expected)["cn"] = facts.cn();
                break;
            }
        const auto found = list->find(facts);
        INFO("trial " << trial);
        REQUIRE((found != nullptr) == expected.has_value());
        if (found) CHECK(*found == *expected);
    }
}

TEST_CASE("a copied list shares its entries and stays valid after the original goes", "[policy]") {
    std::optional<UserList> original = *UserList::parse(R"({"users": [{"cn": "joe", "name": "Joe"}]})", "u.json");
    const UserList copy = *original;
    const auto before = copy.find(fake_facts("joe"));
    original.reset();
    REQUIRE(before);
    CHECK(copy.find(fake_facts("joe")) == before);
    CHECK(copy.users().size() == 1);
    CHECK(UserList().users().empty());
    CHECK(UserList().find(fake_facts("joe")) == nullptr);
}

TEST_CASE("builder: warnings about entries on serial alone name the first 20 and count the rest", "[policy]") {
    UserListBuilder builder("users.json");
    std::vector<std::string> serials;
    for (int i = 0; i < 25; ++i)
        serials.push_back(std::to_string(1000 + i));
    for (int i = 0; i < 25; ++i)
        REQUIRE(
            builder.add_user(match(MatchKey::serial, serials[i]), json::object(), "users[" + std::to_string(i) + "]"));
    REQUIRE(builder.add_user(json{{"serial", "99"}, {"issuer_cn", "CA"}}, "users[25]")); // tied to an issuer
    const UserList list = std::move(builder).build();
    REQUIRE(list.warnings().size() == 21);
    CHECK(list.warnings()[0].rfind("users.json: users[0]: matches on serial 1000 alone; ", 0) == 0);
    CHECK(list.warnings()[19].rfind("users.json: users[19]: ", 0) == 0);
    CHECK(list.warnings()[20] == "users.json: and 5 more entries match on serial alone");
}
