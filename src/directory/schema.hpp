#pragma once
// The tables of a user directory, schema version k_schema_version
// (include/certauth/directory/directory.hpp), for SQLite and PostgreSQL.

#include <certauth/directory/directory.hpp>

#include "connection.hpp"

#include <array>
#include <string>
#include <string_view>

namespace certauth::directory {

// The users table's columns after id: the match keys in the README's order,
// then attributes.
inline constexpr std::array<std::string_view, 11> k_user_columns{
    "cn", "o", "ou", "email", "dns", "uri", "ip", "fingerprint256", "serial", "issuer_cn", "attributes"};
inline constexpr std::array<std::string_view, 3> k_route_columns{"path", "roles", "is_public"};

// The channel PostgreSQL's trigger notifies on every change.
inline constexpr std::string_view k_change_channel = "certauth_directory";

// "cn, o, ..., attributes".
std::string user_column_list();

// The statements that create the schema (inside the caller's transaction).
std::string create_schema_statements(Dialect dialect);

// Whether `table` exists (PostgreSQL: in the current schema).
Result<bool> table_exists(Connection& connection, std::string_view table);

// The directory's schema is this certauth's: errors for no schema (not
// initialised: names the init command), an unknown or a newer version.
Result<void> check_schema(Connection& connection);

} // namespace certauth::directory
