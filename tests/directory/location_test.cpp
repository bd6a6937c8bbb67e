#include <certauth/directory/location.hpp>

#include "support/catch.hpp"

using certauth::directory::Kind;
using certauth::directory::parse_location;
using certauth::directory::resolve_relative;

TEST_CASE("location: --users takes a JSON file, sqlite:PATH or a postgresql:// URI", "[directory]") {
    CHECK(parse_location("users.json")->kind == Kind::json_file);
    CHECK(parse_location("users.json")->name() == "users.json");
    const auto sqlite = parse_location("sqlite:/var/lib/certauth/users.db");
    CHECK(sqlite->kind == Kind::sqlite);
    CHECK(sqlite->target == "/var/lib/certauth/users.db");
    CHECK(sqlite->name() == "sqlite:/var/lib/certauth/users.db");
    CHECK(parse_location("postgresql://db/certauth")->kind == Kind::postgresql);
    CHECK(parse_location("postgres://db/certauth")->kind == Kind::postgresql);
    CHECK(parse_location("postgres://db/certauth")->target == "postgres://db/certauth");
    CHECK_FALSE(parse_location(""));
    CHECK(parse_location("sqlite:").error().message.find("sqlite: needs a path") == 0);
}

TEST_CASE("a PostgreSQL URI is named without its password", "[directory]") {
    CHECK(parse_location("postgresql://joe:s3cret@db:5432/certauth")->name() ==
          "postgresql://joe:***@db:5432/certauth");
    CHECK(parse_location("postgresql://joe@db/certauth")->name() == "postgresql://joe@db/certauth");
    CHECK(parse_location("postgresql://db/certauth?user=joe&password=s3cret&sslmode=require")->name() ==
          "postgresql://db/certauth?user=joe&password=***&sslmode=require");
    CHECK(parse_location("postgresql:///certauth?host=/run/postgresql")->name() ==
          "postgresql:///certauth?host=/run/postgresql");
}

TEST_CASE("a configuration file's relative users path is relative to the file", "[directory]") {
    CHECK(resolve_relative("users.json", "/etc/certauth") == "/etc/certauth/users.json");
    CHECK(resolve_relative("sqlite:users.db", "/etc/certauth") == "sqlite:/etc/certauth/users.db");
    CHECK(resolve_relative("sqlite:../db/users.db", "/etc/certauth") == "sqlite:/etc/db/users.db");
    CHECK(resolve_relative("sqlite:/var/users.db", "/etc/certauth") == "sqlite:/var/users.db");
    CHECK(resolve_relative("/var/users.json", "/etc/certauth") == "/var/users.json");
    CHECK(resolve_relative("postgresql://db/certauth", "/etc/certauth") == "postgresql://db/certauth");
}
