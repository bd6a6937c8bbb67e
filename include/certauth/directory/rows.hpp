#pragma once
// The rows of a directory's tables as user list entries (docs/directory.md):
//   users  (id, cn, o, ou, email, dns, uri, ip, fingerprint256, serial,
//           issuer_cn, attributes)   attributes: a JSON object, or NULL
//   routes (id, path, roles, is_public)   roles: a JSON array, or NULL
// A row is validated as users.json's entry is (policy::UserListBuilder), and
// its errors name the table and row id where users.json's name the index:
// "sqlite:users.db: users[id=17].fingerprint256: expected a SHA-256 ...".

#include <certauth/policy/user_list_builder.hpp>
#include <certauth/result.hpp>

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace certauth::directory {

// "users[id=17]", "routes[id=2]".
std::string row_where(std::string_view table, std::string_view id);

// Adds one users row to `builder` (whose origin names the directory).
Result<void> add_user_row(policy::UserListBuilder& builder, std::string_view id, const policy::MatchTexts& match,
                          std::optional<std::string_view> attributes);

// Adds one routes row to `builder`. is_public: "1"/"0", "t"/"f" or
// "true"/"false" (SQLite and PostgreSQL spell booleans differently).
Result<void> add_route_row(policy::UserListBuilder& builder, std::string_view id, std::optional<std::string_view> path,
                           std::optional<std::string_view> roles, std::optional<std::string_view> is_public);

// The attributes column as a JSON object (NULL or "" is none); errors name
// `origin` and the row: its syntax, a value that is not an object, a match
// key (those have columns of their own).
Result<nlohmann::json> parse_attributes(std::string_view origin, std::string_view where,
                                        std::optional<std::string_view> text);

// A users row as users.json writes the entry: the bare CN when it has only
// a cn and no attributes, else an object of its match keys (in the README's
// order) and then its attributes. Values as the row holds them.
Result<nlohmann::ordered_json> user_entry(std::string_view origin, std::string_view id, const policy::MatchTexts& match,
                                          std::optional<std::string_view> attributes);

// A routes row as users.json writes the route.
Result<nlohmann::ordered_json> route_entry(std::string_view origin, std::string_view id,
                                           std::optional<std::string_view> path, std::optional<std::string_view> roles,
                                           std::optional<std::string_view> is_public);

} // namespace certauth::directory
