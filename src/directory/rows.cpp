#include <certauth/directory/rows.hpp>

#include <certauth/json_text.hpp>
#include <certauth/policy/match_key.hpp>

namespace certauth::directory {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string column_of(std::string_view where, std::string_view column) {
    std::string out(where);
    out += '.';
    out += column;
    return out;
}

// A JSON column's text, parsed; errors name the row and column
// ("ORIGIN: users[id=4].attributes:1:10: syntax error ..."), a name built
// only for an error (a million rows are parsed on a load).
Result<json> parse_column(std::string_view origin, const std::string& column, std::string_view text) {
    Result<json> parsed = parse_json(text, "", DuplicateKeys::refused);
    if (parsed) return parsed;
    return Error{std::string(origin) + ": " + column + parsed.error().message};
}

Result<bool> parse_boolean(std::string_view origin, const std::string& column, std::optional<std::string_view> text) {
    if (!text) return false;
    if (*text == "1" || *text == "t" || *text == "true") return true;
    if (*text == "0" || *text == "f" || *text == "false") return false;
    return policy::located_error(origin, column,
                                 "expected true or false (1 or 0), got " + json_text(json(std::string(*text))));
}

// A routes row as the JSON users.json would hold: {"path", "roles"} or {"path", "public": true}.
Result<json> route_json(std::string_view origin, const std::string& where, std::optional<std::string_view> path,
                        std::optional<std::string_view> roles, std::optional<std::string_view> is_public) {
    if (!path) return policy::located_error(origin, column_of(where, "path"), "missing (NULL)");
    json route = json::object();
    route["path"] = std::string(*path);
    if (roles) {
        Result<json> parsed = parse_column(origin, column_of(where, "roles"), *roles);
        if (!parsed) return parsed.error();
        route["roles"] = std::move(*parsed);
    }
    Result<bool> public_route = parse_boolean(origin, column_of(where, "is_public"), is_public);
    if (!public_route) return public_route.error();
    if (*public_route) route["public"] = true;
    return route;
}

} // namespace

std::string row_where(std::string_view table, std::string_view id) {
    std::string out(table);
    out += "[id=";
    out += id;
    out += ']';
    return out;
}

Result<json> parse_attributes(std::string_view origin, std::string_view where, std::optional<std::string_view> text) {
    if (!text || text->empty()) return json::object();
    const std::string column = column_of(where, "attributes");
    Result<json> parsed = parse_column(origin, column, *text);
    if (!parsed) return parsed.error();
    if (!parsed->is_object())
        return policy::located_error(origin, column, "expected a JSON object, " + json_type_found(*parsed));
    for (const auto& item : parsed->items())
        if (policy::match_key_named(item.key()))
            return policy::located_error(origin, column_of(column, item.key()),
                                         "a match key; it has a column of its own");
    return parsed;
}

Result<void> add_user_row(policy::UserListBuilder& builder, std::string_view id, const policy::MatchTexts& match,
                          std::optional<std::string_view> attributes) {
    const std::string where = row_where("users", id);
    Result<json> parsed = parse_attributes(builder.origin(), where, attributes);
    if (!parsed) return parsed.error();
    return builder.add_user(match, *parsed, where);
}

Result<void> add_route_row(policy::UserListBuilder& builder, std::string_view id, std::optional<std::string_view> path,
                           std::optional<std::string_view> roles, std::optional<std::string_view> is_public) {
    const std::string where = row_where("routes", id);
    Result<json> route = route_json(builder.origin(), where, path, roles, is_public);
    if (!route) return route.error();
    return builder.add_route(*route, where);
}

Result<ordered_json> user_entry(std::string_view origin, std::string_view id, const policy::MatchTexts& match,
                                std::optional<std::string_view> attributes) {
    Result<json> parsed = parse_attributes(origin, row_where("users", id), attributes);
    if (!parsed) return parsed.error();
    std::size_t keys = 0;
    for (const std::optional<std::string_view>& value : match)
        keys += value ? 1 : 0;
    const std::optional<std::string_view>& cn = match[policy::index_of(policy::MatchKey::cn)];
    if (keys == 1 && cn && parsed->empty()) return ordered_json(std::string(*cn));
    ordered_json entry = ordered_json::object();
    for (policy::MatchKey key : policy::k_match_keys)
        if (const std::optional<std::string_view>& value = match[policy::index_of(key)])
            entry[std::string(policy::name_of(key))] = std::string(*value);
    for (const auto& item : parsed->items())
        entry[item.key()] = ordered_json(item.value());
    return entry;
}

Result<ordered_json> route_entry(std::string_view origin, std::string_view id, std::optional<std::string_view> path,
                                 std::optional<std::string_view> roles, std::optional<std::string_view> is_public) {
    Result<json> route = route_json(origin, row_where("routes", id), path, roles, is_public);
    if (!route) return route.error();
    ordered_json entry = ordered_json::object();
    for (const char* key : {"path", "roles", "public"})
        if (const auto it = route->find(key); it != route->end()) entry[key] = ordered_json(*it);
    return entry;
}

} // namespace certauth::directory
