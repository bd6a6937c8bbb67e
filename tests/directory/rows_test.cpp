#include <certauth/directory/rows.hpp>

#include "policy/fake_facts.hpp"

#include "support/catch.hpp"

using certauth::directory::add_route_row;
using certauth::directory::add_user_row;
using certauth::directory::route_entry;
using certauth::directory::user_entry;
using certauth::policy::MatchKey;
using certauth::policy::MatchTexts;
using certauth::policy::UserListBuilder;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

MatchTexts cn(std::string_view value) {
    MatchTexts texts;
    texts[certauth::policy::index_of(MatchKey::cn)] = value;
    return texts;
}

std::string row_error_of(certauth::Result<void> result) {
    REQUIRE_FALSE(result);
    return result.error().message;
}

} // namespace

TEST_CASE("a users row: match key columns and an attributes object", "[directory]") {
    UserListBuilder builder("sqlite:u.db");
    REQUIRE(add_user_row(builder, "1", cn("joe"), R"({"name": "Joe", "roles": ["admin"]})"));
    REQUIRE(add_user_row(builder, "2", cn("ann"), std::nullopt)); // NULL: no attributes
    REQUIRE(add_user_row(builder, "3", cn("bob"), ""));
    const auto list = std::move(builder).build();
    CHECK(*list.find(certauth::test::fake_facts("joe")) == json{{"cn", "joe"}, {"name", "Joe"}, {"roles", {"admin"}}});
    CHECK(*list.find(certauth::test::fake_facts("ann")) == json{{"cn", "ann"}});
}

TEST_CASE("a bad users row is an error naming the table, the row id and the column", "[directory]") {
    UserListBuilder builder("sqlite:u.db");
    CHECK(row_error_of(add_user_row(builder, "4", cn("joe"), "{\"name\": ")) ==
          "sqlite:u.db: users[id=4].attributes:1:10: syntax error while parsing value - unexpected end of input; "
          "expected '[', '{', or a literal");
    CHECK(row_error_of(add_user_row(builder, "5", cn("joe"), "[1]")) ==
          "sqlite:u.db: users[id=5].attributes: expected a JSON object, got array");
    CHECK(row_error_of(add_user_row(builder, "6", cn("joe"), R"({"cn": "other"})")) ==
          "sqlite:u.db: users[id=6].attributes.cn: a match key; it has a column of its own");
    CHECK(row_error_of(add_user_row(builder, "7", cn("joe"), R"({"roles": "admin"})")) ==
          "sqlite:u.db: users[id=7].roles: expected an array of strings, got string");
    CHECK(row_error_of(add_user_row(builder, "8", cn("joe"), R"({"a": 1, "a": 2})")) ==
          "sqlite:u.db: users[id=8].attributes: (top level): duplicate key \"a\"");
    MatchTexts ip;
    ip[certauth::policy::index_of(MatchKey::ip)] = "1.2.3";
    CHECK(row_error_of(add_user_row(builder, "9", ip, std::nullopt)) ==
          "sqlite:u.db: users[id=9].ip: not an IP address: \"1.2.3\"");
    CHECK(row_error_of(add_user_row(builder, "10", MatchTexts{}, std::nullopt))
              .find("sqlite:u.db: users[id=10]: no match key") == 0);
}

TEST_CASE("a routes row: path, roles (a JSON array) or is_public", "[directory]") {
    UserListBuilder builder("pg");
    REQUIRE(add_route_row(builder, "1", "/admin", R"(["admin"])", "f"));
    REQUIRE(add_route_row(builder, "2", "/public", std::nullopt, "1"));
    const auto list = std::move(builder).build();
    REQUIRE(list.routes().size() == 2);
    CHECK(list.routes()[0].roles == std::vector<std::string>{"admin"});
    CHECK(list.routes()[1].is_public);

    UserListBuilder bad("pg");
    CHECK(row_error_of(add_route_row(bad, "3", "/x", std::nullopt, "0")) ==
          "pg: routes[id=3]: needs \"roles\" or \"public\": true");
    CHECK(row_error_of(add_route_row(bad, "4", "/x", R"(["a"])", "yes")) ==
          "pg: routes[id=4].is_public: expected true or false (1 or 0), got \"yes\"");
    CHECK(row_error_of(add_route_row(bad, "5", "/x", "[", "0")).find("pg: routes[id=5].roles:1:2: syntax error") == 0);
    CHECK(row_error_of(add_route_row(bad, "6", std::nullopt, R"(["a"])", "0")) ==
          "pg: routes[id=6].path: missing (NULL)");
    CHECK(row_error_of(add_route_row(bad, "7", "/x", R"(["a"])", "t")) ==
          "pg: routes[id=7]: \"public\": true and \"roles\" exclude each other");
}

TEST_CASE("rows as users.json writes entries: a bare CN, or match keys then attributes", "[directory]") {
    CHECK(*user_entry("o", "1", cn("joe"), std::nullopt) == ordered_json("joe"));
    CHECK(*user_entry("o", "1", cn("joe"), "{}") == ordered_json("joe"));
    MatchTexts two = cn("joe");
    two[certauth::policy::index_of(MatchKey::issuer_cn)] = "CA";
    const ordered_json entry = *user_entry("o", "1", two, R"({"name": "Joe"})");
    CHECK(entry.dump() == R"({"cn":"joe","issuer_cn":"CA","name":"Joe"})");
    CHECK(route_entry("o", "1", "/p", std::nullopt, "t")->dump() == R"({"path":"/p","public":true})");
    CHECK(route_entry("o", "1", "/a", R"(["x"])", "0")->dump() == R"({"path":"/a","roles":["x"]})");
    CHECK(user_entry("o", "9", cn("joe"), "nope").error().message.find("o: users[id=9].attributes:1:") == 0);
}

TEST_CASE("a users row on serial alone is warned about, naming the row", "[directory]") {
    UserListBuilder builder("sqlite:u.db");
    MatchTexts serial;
    serial[certauth::policy::index_of(MatchKey::serial)] = "10:04";
    REQUIRE(add_user_row(builder, "5", serial, std::nullopt));
    const auto list = std::move(builder).build();
    REQUIRE(list.warnings().size() == 1);
    CHECK(list.warnings()[0].rfind("sqlite:u.db: users[id=5]: matches on serial 1004 alone; ", 0) == 0);
}
