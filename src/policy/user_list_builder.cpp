#include <certauth/policy/user_list_builder.hpp>

#include <certauth/ascii.hpp>
#include <certauth/json_text.hpp>
#include <certauth/policy/decide.hpp>

#include "user_storage.hpp"

#include <limits>
#include <utility>

namespace certauth::policy {
namespace {

using nlohmann::json;

std::string joined(std::string_view where, std::string_view key) {
    std::string out(where);
    out += '.';
    out += key;
    return out;
}

// The key an entry is indexed under: its most selective one.
std::uint8_t primary_key(std::uint16_t keys) {
    for (MatchKey key : {MatchKey::fingerprint256, MatchKey::serial, MatchKey::uri, MatchKey::dns, MatchKey::email,
                         MatchKey::ip, MatchKey::cn, MatchKey::ou, MatchKey::o, MatchKey::issuer_cn})
        if ((keys >> index_of(key)) & 1U) return static_cast<std::uint8_t>(index_of(key));
    return 0; // not reached: an entry has a match key
}

enum class RolesUse { attribute, route };

// A list of a million entries on serial alone says so in a few lines.
constexpr std::size_t k_warnings_kept = 20;

} // namespace

UserListBuilder::UserListBuilder(std::string origin)
    : m_origin(std::move(origin)), m_storage(std::make_unique<UserStorage>()) {}
UserListBuilder::~UserListBuilder() = default;
UserListBuilder::UserListBuilder(UserListBuilder&&) noexcept = default;
UserListBuilder& UserListBuilder::operator=(UserListBuilder&&) noexcept = default;

std::size_t UserListBuilder::user_count() const noexcept { return m_storage->entries.size(); }

Error located_error(std::string_view origin, std::string_view where, std::string_view what) {
    std::string message(origin);
    message += ": ";
    if (!where.empty()) {
        message += where;
        message += ": ";
    }
    message += what;
    return Error{std::move(message)};
}

namespace {

// The common case, checked without building a message: an array of
// non-empty strings (not empty for a route).
bool plain_roles(const json& value, RolesUse use) {
    if (!value.is_array() || (use == RolesUse::route && value.empty())) return false;
    for (const json& role : value)
        if (!role.is_string() || role.get_ref<const std::string&>().empty()) return false;
    return true;
}

Result<void> check_roles(const UserListBuilder& builder, const json& value, const std::string& where, RolesUse use) {
    if (plain_roles(value, use)) return {};
    if (!value.is_array()) return builder.error(where, "expected an array of strings, " + json_type_found(value));
    if (use == RolesUse::route && value.empty())
        return builder.error(where, "empty; a route needs at least one role (or \"public\": true)");
    for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string at = where + "[" + std::to_string(i) + "]";
        if (!value[i].is_string()) return builder.error(at, "expected a string, " + json_type_found(value[i]));
        if (value[i].get_ref<const std::string&>().empty()) return builder.error(at, "empty string");
    }
    return {};
}

} // namespace

Result<void> UserListBuilder::add_user(const json& entry, std::string_view where) {
    static const json k_no_attributes = json::object();
    if (entry.is_string()) {
        const auto& name = entry.get_ref<const std::string&>();
        if (name.empty()) return error(where, "empty string; a bare string is a CN");
        MatchTexts match;
        match[index_of(MatchKey::cn)] = name;
        return add_user(match, k_no_attributes, where);
    }
    if (!entry.is_object()) return error(where, "expected a string (a CN) or an object, " + json_type_found(entry));
    MatchTexts match;
    json attributes = json::object();
    for (const auto& [key, item] : entry.items()) {
        if (const std::optional<MatchKey> match_key = match_key_named(key)) {
            if (!item.is_string()) return error(joined(where, key), "expected a string, " + json_type_found(item));
            match[index_of(*match_key)] = item.get_ref<const std::string&>();
        } else {
            attributes[key] = item;
        }
    }
    return add_user(match, attributes, where);
}

Result<void> UserListBuilder::add_user(const MatchTexts& match, const json& attributes, std::string_view where) {
    std::array<std::string, k_match_key_count> normal;
    std::uint16_t keys = 0;
    for (MatchKey key : k_match_keys) {
        const std::optional<std::string_view>& text = match[index_of(key)];
        if (!text) continue;
        if (text->empty()) return error(joined(where, name_of(key)), "empty string");
        std::optional<std::string> value = normalise_match_value(key, *text);
        if (!value) {
            const std::string at = joined(where, name_of(key));
            const std::string shown = json_text(json(std::string(*text)));
            switch (key) {
            case MatchKey::ip: return error(at, "not an IP address: " + shown);
            case MatchKey::fingerprint256:
                return error(at, "expected a SHA-256 fingerprint (64 hex digits, colons optional), got " + shown);
            case MatchKey::serial: return error(at, "expected a serial number in hex, got " + shown);
            default: return error(at, "invalid value " + shown);
            }
        }
        normal[index_of(key)] = std::move(*value);
        keys = static_cast<std::uint16_t>(keys | (1U << index_of(key)));
    }
    if (!attributes.is_object()) return error(where, "attributes: expected an object, " + json_type_found(attributes));
    if (const auto roles = attributes.find("roles");
        roles != attributes.end() && !plain_roles(*roles, RolesUse::attribute))
        if (Result<void> r = check_roles(*this, *roles, joined(where, "roles"), RolesUse::attribute); !r) return r;
    if (keys == 0) return error(where, "no match key; an entry needs at least one of " + match_key_names());

    UserStorage& storage = *m_storage;
    // A serial number is unique within one CA only: with several trusted
    // CAs (or an intermediate), an entry on serial alone matches each CA's
    // certificate with that serial.
    if (keys == (1U << index_of(MatchKey::serial))) {
        if (storage.warnings.size() < k_warnings_kept)
            storage.warnings.push_back(
                error(where, "matches on serial " + normal[index_of(MatchKey::serial)] +
                                 " alone; serial numbers are unique only within one CA, so a certificate of another "
                                 "trusted CA or intermediate with that serial matches too: add issuer_cn, or match "
                                 "on fingerprint256")
                    .message);
        else
            ++m_unsaid_warnings;
    }
    const std::string attributes_text = attributes.empty() ? std::string() : json_text(attributes);
    std::size_t adding = attributes_text.size();
    for (const std::string& value : normal)
        adding += value.size();
    if (storage.text.size() + adding > std::numeric_limits<std::uint32_t>::max() ||
        storage.entries.size() + 1 >= k_no_entry)
        return error(where, "the list is too large (more than 4 GiB of match values and attributes)");

    auto append = [&storage](std::string_view piece) {
        const TextRef ref{static_cast<std::uint32_t>(storage.text.size()), static_cast<std::uint32_t>(piece.size())};
        storage.text.append(piece);
        return ref;
    };
    StoredEntry stored;
    stored.first_value = static_cast<std::uint32_t>(storage.values.size());
    stored.keys = keys;
    stored.primary = primary_key(keys);
    for (std::size_t key = 0; key < k_match_key_count; ++key)
        if (UserStorage::has(stored, key)) storage.values.push_back(append(normal[key]));
    stored.attributes = append(attributes_text);
    storage.entries.push_back(stored);
    return {};
}

Result<void> UserListBuilder::add_route(const json& value, std::string_view where_text) {
    const std::string where(where_text);
    if (!value.is_object())
        return error(where, "expected an object with \"path\" and \"roles\", " + json_type_found(value));
    Route route;
    bool has_path = false;
    bool has_roles = false;
    for (const auto& [key, item] : value.items()) {
        const std::string at = joined(where, key);
        if (key == "path") {
            if (!item.is_string()) return error(at, "expected a string, " + json_type_found(item));
            const auto& text = item.get_ref<const std::string&>();
            if (text.empty() || text.front() != '/') return error(at, "must start with \"/\", got " + json_text(item));
            // Path parameters, raw or encoded, are not part of routing (normalise_path cuts them).
            const std::string lower = ascii::lowered(text);
            std::optional<std::string> normal;
            if (lower.find_first_of("?;") == std::string::npos && lower.find("%3b") == std::string::npos)
                normal = normalise_path(text);
            if (!normal)
                return error(at, "not a plain absolute path (no \".\" or \"..\" segments, query, path parameters, "
                                 "fragment, NUL or backslash): " +
                                     json_text(item));
            while (normal->size() > 1 && normal->back() == '/')
                normal->pop_back();
            route.path = std::move(*normal);
            has_path = true;
        } else if (key == "roles") {
            if (Result<void> r = check_roles(*this, item, at, RolesUse::route); !r) return r;
            route.roles = item.get<std::vector<std::string>>();
            has_roles = true;
        } else if (key == "public") {
            if (!item.is_boolean()) return error(at, "expected true or false, " + json_type_found(item));
            route.is_public = item.get<bool>();
        } else {
            return error(at, "unknown key; a route has \"path\" and either \"roles\" or \"public\": true");
        }
    }
    if (!has_path) return error(where, "missing \"path\"");
    if (route.is_public && has_roles) return error(where, "\"public\": true and \"roles\" exclude each other");
    if (!route.is_public && !has_roles) return error(where, "needs \"roles\" or \"public\": true");
    std::vector<Route>& routes = m_storage->routes;
    for (std::size_t j = 0; j < routes.size(); ++j)
        if (routes[j].path == route.path)
            return error(joined(where, "path"), "duplicate of " + m_route_where[j] + " (" + route.path + ")");
    routes.push_back(std::move(route));
    m_route_where.push_back(where);
    return {};
}

void UserListBuilder::add_document(const json& document, const ProblemHandler& problem) {
    if (!document.is_object()) {
        problem(
            error("", "expected a JSON object with \"users\" (and optional \"routes\"), " + json_type_found(document)));
        return;
    }
    for (const auto& item : document.items())
        if (item.key() != "users" && item.key() != "routes" &&
            !problem(error(item.key(), "unknown key; the file holds \"users\" and optional \"routes\"")))
            return;
    const auto users = document.find("users");
    if (users == document.end()) {
        if (!problem(error("", "missing \"users\" (the list of users)"))) return;
    } else if (!users->is_array()) {
        if (!problem(error("users", "expected an array, " + json_type_found(*users)))) return;
    } else {
        for (std::size_t i = 0; i < users->size(); ++i)
            if (Result<void> added = add_user((*users)[i], "users[" + std::to_string(i) + "]");
                !added && !problem(added.error()))
                return;
    }
    const auto routes = document.find("routes");
    if (routes == document.end()) return;
    if (!routes->is_array()) {
        problem(error("routes", "expected an array, " + json_type_found(*routes)));
        return;
    }
    for (std::size_t i = 0; i < routes->size(); ++i)
        if (Result<void> added = add_route((*routes)[i], "routes[" + std::to_string(i) + "]");
            !added && !problem(added.error()))
            return;
}

UserList UserListBuilder::build() && {
    UserStorage& storage = *m_storage;
    if (m_unsaid_warnings > 0)
        storage.warnings.push_back(m_origin + ": and " + std::to_string(m_unsaid_warnings) +
                                   " more entries match on serial alone");
    storage.text.shrink_to_fit();
    storage.entries.shrink_to_fit();
    storage.values.shrink_to_fit();
    storage.build_index();
    std::uint16_t used = 0;
    for (const StoredEntry& entry : storage.entries)
        used = static_cast<std::uint16_t>(used | entry.keys);
    storage.used_keys = used;
    for (MatchKey key : k_match_keys)
        if ((used >> index_of(key)) & 1U) storage.match_keys.emplace_back(name_of(key));
    return UserList(std::shared_ptr<const UserStorage>(std::move(m_storage)));
}

} // namespace certauth::policy
