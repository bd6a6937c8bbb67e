#pragma once
// Where a user list lives, as --users (and `users =` in certauth.toml) names
// it: a JSON file (PATH), an SQLite database (sqlite:PATH) or a PostgreSQL
// database (postgresql://... or postgres://..., a libpq URI, or libpq's
// keyword/value form; the password from it, PGPASSFILE or ~/.pgpass).

#include <certauth/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace certauth::directory {

enum class Kind { json_file, sqlite, postgresql };

struct Location {
    Kind kind = Kind::json_file;
    std::string target; // the file path (JSON, SQLite) or the libpq connection string

    // How messages name it: the path, "sqlite:PATH", or the URI with its
    // password (if any) replaced by "***".
    std::string name() const;
    bool is_database() const noexcept { return kind != Kind::json_file; }
};

// A PostgreSQL database is a URI (postgresql://, postgres://) or libpq's
// keyword/value form ("host=/run/postgresql dbname=certauth": text that
// begins with a libpq keyword and '='; also with another word and '=', or
// with "password" and then '=', unless the text ends in ".json" or names a
// file that exists). Errors: an empty text, "sqlite:" without a path, a
// connection string libpq cannot read (libpq's reason, without_secrets()),
// a URI whose password libpq would misread, a dbname that is a URI.
Result<Location> parse_location(std::string_view text);

// libpq's `message` about the connection string `connection`, trailing
// whitespace removed, with a quoted piece that may show a secret of
// `connection` (a password) replaced by "(not shown: it may hold a
// secret)". libpq quotes what it cannot read ('missing "=" after "cret"'
// for "password=s3 cret"): of a string it cannot read, only a key written
// before any password and not after it is shown, and a message of another
// shape than libpq's known ones is cut after its first quote. Of a string
// it reads, a quoted part holding a password is replaced and the rest of
// the message cut.
std::string without_secrets(std::string_view message, std::string_view connection);

// `text` as written in a configuration file in `base`: a relative file path
// (PATH or sqlite:PATH) becomes relative to `base`; a URI stays as it is.
std::string resolve_relative(std::string_view text, const std::filesystem::path& base);

} // namespace certauth::directory
