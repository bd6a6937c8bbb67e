#include <certauth/directory/location.hpp>

#include "support/catch.hpp"
#include "support/files.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

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
    // The directory layer names no flag: the text may come from --users or
    // from `certauth users`'s DIRECTORY.
    REQUIRE_FALSE(parse_location(""));
    CHECK(parse_location("").error().message.rfind("the location of the users is empty; expected FILE.json", 0) == 0);
    CHECK(parse_location("sqlite:").error().message.find("sqlite: needs a path") == 0);
}

TEST_CASE("a PostgreSQL URI is named without its password, however it is spelled", "[directory]") {
    auto name = [](const char* uri) { return parse_location(uri)->name(); };
    CHECK(name("postgresql://joe:s3cret@db:5432/certauth") == "postgresql://joe@db:5432/certauth?password=***");
    CHECK(name("postgresql://joe@db/certauth") == "postgresql://joe@db/certauth");
    CHECK(name("postgres://db/certauth") == "postgresql://db/certauth");
    CHECK(name("postgresql://db/certauth?user=joe&password=s3cret&sslmode=require") ==
          "postgresql://joe@db/certauth?password=***&sslmode=require");
    CHECK(name("postgresql:///certauth?host=/run/postgresql") == "postgresql:///certauth?host=/run/postgresql");
    CHECK(name("postgresql://[::1]:5433/certauth") == "postgresql://[::1]:5433/certauth");
    CHECK(name("postgresql://db1:5432,db2:5433/certauth") == "postgresql:///certauth?host=db1,db2&port=5432,5433");
    // libpq reads the password up to the '@', decodes keys, and has other secrets than password.
    for (const char* uri : {"postgresql://joe:se?cret@127.0.0.1:1/db",
                            "postgresql://db/x?sslpassword=s3cret&password=pw", "postgresql://db/x?pass%77ord=s3cret",
                            "postgresql://joe:s%33cret@db/x", "postgresql://db/x?password=se%26cret"}) {
        INFO(uri);
        const std::string shown = name(uri);
        CHECK(shown.find("cret") == std::string::npos);
        CHECK(shown.find("pw") == std::string::npos);
    }
    // Values are percent-encoded: the name is a URI libpq reads back to the same values.
    const auto odd = parse_location("host=/tmp dbname='my db' user='a&b@c' sslmode=require");
    REQUIRE(odd);
    CHECK(odd->name() == "postgresql://a%26b%40c@/my%20db?host=/tmp&sslmode=require");
    const auto back = parse_location(odd->name());
    REQUIRE(back);
    CHECK(back->name() == odd->name());
    CHECK(name("postgresql://[::1]/d%2Fb") == "postgresql://[::1]/d%2Fb");
}

TEST_CASE("location: a connection string libpq cannot read is an error that shows none of its secrets", "[directory]") {
    auto error = [](const char* text) {
        const auto location = parse_location(text);
        REQUIRE_FALSE(location);
        CHECK(location.error().message.find("a PostgreSQL connection string libpq cannot read: ") == 0);
        return location.error().message;
    };
    // What libpq quotes is shown when it holds no secret.
    CHECK(error("dbname=certauth hots=db") ==
          "a PostgreSQL connection string libpq cannot read: invalid connection option \"hots\"");
    CHECK(error("postgresql://joe@db/x?nosuchoption=1").find("\"nosuchoption\"") != std::string::npos);
    // libpq quotes a piece of a password it could not read: never shown.
    for (const char* text :
         {"dbname=x password=s3 pw9q=y", "password=s3 pw9q", "dbname=x sslpassword=s3 pw9q",
          "postgresql://joe:s%ZZpw9q@db/x", "postgresql://joe@db/x?password=a%zzpw9q", "postgresql://joe:pa pw9q@[db/x",
          "postgresql://db/x?pass%77ord=se%zzpw9q",
          // A '"' in a password does not let the rest of it out.
          "password=s3 x\"pw9q", "postgresql://j:a\"pw9q@[::1/x", "postgresql://[::1/x?password=a\"pw9q",
          // Nor does an '&' in a password written in a URI's query.
          "postgresql://db/x?password=s3&pw9q", "postgresql://db/x?password=s3&pw9q=1"}) {
        INFO(text);
        const std::string message = error(text);
        CHECK(message.find("pw9q") == std::string::npos);
        CHECK(message.find("(not shown: it may hold a secret)") != std::string::npos);
    }
    // A '"' in the piece libpq quotes does not end it
    // (fuzz/regressions/connection_string/quote-in-a-key-after-the-password).
    CHECK(error(" user=joe password=x\ruser\"t33333'3333333333=3") ==
          "a PostgreSQL connection string libpq cannot read: invalid connection option "
          "\"(not shown: it may hold a secret)\"");
    CHECK(error("postgresql://h/x?user=a&password=s&user\" pw9qpw9q=1").find("pw9q") == std::string::npos);
    // A key also written after the password may be a piece of it: not shown.
    CHECK(error("user=joe password=s3 user").find("\"user\"") == std::string::npos);
    CHECK(error("postgresql://h/x?host=a&password=s3&host").find("\"host\"") == std::string::npos);
    // A URI written as a value: its password is a secret too, and such a
    // value is refused even when libpq reads it (it would be a database's name).
    CHECK(error("dbname=postgresql://joe:s3 pw9q@h/x").find("pw9q") == std::string::npos);
    const auto nested = parse_location("dbname=postgresql://joe:s3pw9q@h/x");
    REQUIRE_FALSE(nested);
    CHECK(nested.error().message.find("pw9q") == std::string::npos);
    CHECK(nested.error().message.find("dbname is a URI") != std::string::npos);
    CHECK(nested.error().message.find("--") == std::string::npos); // names no flag: see the first test case
    // Text with "password" and an '=' is read as a connection string, never echoed as a file name.
    CHECK(error("=x password=s3pw9q").find("pw9q") == std::string::npos);
    CHECK(error("host-x=h password=s3pw9q").find("pw9q") == std::string::npos);
    // A piece of a password also written before it (the "e" of certauth) is not shown.
    CHECK(error("dbname=certauth password=hunter2 e").find("\"e\"") == std::string::npos);
    // A key written before the password is shown.
    CHECK(error("dbname=x hots=y password=s3 pw9q") ==
          "a PostgreSQL connection string libpq cannot read: invalid connection option \"hots\"");
    // An '@', '/' or '?' in a URI's password that libpq would read as a host
    // or a port: refused, and the message quotes nothing.
    for (const char* text :
         {"postgresql://joe:s3@pw9q@db/x", "postgresql://joe:s3/pw9q@db/x", "postgresql://joe:s3?pw9q@cr@db/x",
          "postgresql://joe:a?b@pw9q@db:5432/x", "postgresql://joe:pw9q/x?host=z@db", "postgresql://joe:s3?pw9q/x@db/y",
          "postgresql://h1,joe:pw9q/x@db/y"}) {
        INFO(text);
        const auto location = parse_location(text);
        REQUIRE_FALSE(location);
        CHECK(location.error().message.rfind("a PostgreSQL URI with ", 0) == 0);
        CHECK(location.error().message.find("pw9q") == std::string::npos);
        CHECK(location.error().message.find("9876") == std::string::npos);
    }
    // Written as libpq asks, or an '@' elsewhere: read.
    for (const char* text : {"postgresql://joe:s3%40pw9q@db/x", "postgresql://joe:se?pw9q@db/x", "postgresql://db/x@y",
                             "postgresql:///db@x", "postgresql://joe@h/db@prod", "postgresql://joe@db/x?user=a@b",
                             "postgresql://[::1]:5432/x", "postgresql://%2Fvar%2Frun%2Fpostgresql/db",
                             "postgresql://db1:5432,[::1]:5433/x"}) {
        INFO(text);
        CHECK(parse_location(text));
    }
    // A readable string: only the quoted parts holding a secret's value go.
    CHECK(certauth::directory::without_secrets("database \"x\" does not exist; user \"ab s3cret\"\n",
                                               "dbname=x password=s3cret") ==
          "database \"x\" does not exist; user \"(not shown: it may hold a secret)\"");
    // A secret holding a '"' could be split across quoted parts: none is shown.
    CHECK(certauth::directory::without_secrets("role \"a\" or \"b\"", "dbname=x password='a\"b'") ==
          "role \"(not shown: it may hold a secret)\"");
    CHECK(certauth::directory::without_secrets("a \"x\" b \"s3\" c", "dbname=x password=s3") ==
          "a \"x\" b \"(not shown: it may hold a secret)\"");
}

TEST_CASE("location: libpq's keyword/value form is a PostgreSQL database, as psql takes it", "[directory]") {
    const auto keywords = parse_location("host=/run/postgresql dbname=certauth user=joe password=s3cret");
    REQUIRE(keywords);
    CHECK(keywords->kind == Kind::postgresql);
    CHECK(keywords->target == "host=/run/postgresql dbname=certauth user=joe password=s3cret");
    CHECK(keywords->name() == "postgresql://joe@/certauth?host=/run/postgresql&password=***");
    CHECK(parse_location(" dbname = certauth")->kind == Kind::postgresql);
    CHECK(parse_location("service=certauth")->kind == Kind::postgresql);
    // A keyword libpq knows, then something it cannot read: its reason.
    const auto unreadable = parse_location("dbname=certauth hots=db");
    REQUIRE_FALSE(unreadable);
    CHECK(unreadable.error().message.find("a PostgreSQL connection string libpq cannot read: ") == 0);
    CHECK(unreadable.error().message.find("hots") != std::string::npos);
    CHECK_FALSE(parse_location("dbname='certauth"));
    // Another word before the '=': libpq names it, unless the text ends in
    // .json (with no password in it) or names a file that exists.
    const auto misspelled = parse_location("usr=joe password=s3cret dbname=certauth");
    REQUIRE_FALSE(misspelled);
    CHECK(misspelled.error().message ==
          "a PostgreSQL connection string libpq cannot read: invalid connection option \"usr\"");
    CHECK(parse_location("users=prod.json")->kind == Kind::json_file);
    // A password and a name ending in .json: no file name, and never echoed.
    const auto json_password = parse_location("usr=joe password=pw9q.json");
    REQUIRE_FALSE(json_password);
    CHECK(json_password.error().message ==
          "a PostgreSQL connection string libpq cannot read: invalid connection option \"usr\"");
    CHECK_FALSE(parse_location("x=1 password = pw9q.json"));
    CHECK(parse_location("x=1 password = pw9q.json").error().message.find("pw9q") == std::string::npos);
    {
        const std::string name = "location_test_" + std::to_string(::getpid()) + "=users";
        std::ofstream(name) << "{}";
        CHECK(parse_location(name)->kind == Kind::json_file);
        std::filesystem::remove(name);
        CHECK_FALSE(parse_location(name));
    }
    CHECK(parse_location("./host=x.json")->kind == Kind::json_file);
    CHECK(parse_location("Host=x.json")->kind == Kind::json_file);
    CHECK(resolve_relative("host=/run/postgresql dbname=certauth", "/etc/certauth") ==
          "host=/run/postgresql dbname=certauth");
}

TEST_CASE("a configuration file's relative users path is relative to the file", "[directory]") {
    // A file name that begins with a word and '=' is a file when it exists in the file's folder.
    const certauth::test::TempDir dir;
    dir.write("users=prod", "{}");
    CHECK(resolve_relative("users=prod", dir.path) == (dir.path / "users=prod").string());
    CHECK(resolve_relative("users=test", dir.path) == "users=test");
    CHECK(resolve_relative("users.json", "/etc/certauth") == "/etc/certauth/users.json");
    CHECK(resolve_relative("sqlite:users.db", "/etc/certauth") == "sqlite:/etc/certauth/users.db");
    CHECK(resolve_relative("sqlite:../db/users.db", "/etc/certauth") == "sqlite:/etc/db/users.db");
    CHECK(resolve_relative("sqlite:/var/users.db", "/etc/certauth") == "sqlite:/var/users.db");
    CHECK(resolve_relative("/var/users.json", "/etc/certauth") == "/var/users.json");
    CHECK(resolve_relative("postgresql://db/certauth", "/etc/certauth") == "postgresql://db/certauth");
}
