#include <certauth/policy/user_list.hpp>

#include <certauth/json_text.hpp>
#include <certauth/x509/certificate.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>

#include <arpa/inet.h>

#include <certauth/policy/decide.hpp>

namespace certauth::policy {
namespace {

using nlohmann::json;

// The match keys, in the order the spec lists them; MatchKey indexes both
// kMatchKeys and the per-certificate value table.
enum MatchKey : std::size_t { cn, o, ou, email, dns, uri, ip, fingerprint256, serial, issuer_cn, key_count };

struct MatchKeyInfo {
    std::string_view name;
    std::optional<std::string> UserEntry::*member;
};

constexpr std::array<MatchKeyInfo, key_count> k_match_keys{{
    {"cn", &UserEntry::cn},
    {"o", &UserEntry::o},
    {"ou", &UserEntry::ou},
    {"email", &UserEntry::email},
    {"dns", &UserEntry::dns},
    {"uri", &UserEntry::uri},
    {"ip", &UserEntry::ip},
    {"fingerprint256", &UserEntry::fingerprint256},
    {"serial", &UserEntry::serial},
    {"issuer_cn", &UserEntry::issuer_cn},
}};

std::optional<std::size_t> match_key_index(std::string_view name) {
    for (std::size_t i = 0; i < k_match_keys.size(); ++i)
        if (k_match_keys[i].name == name) return i;
    return std::nullopt;
}

std::string all_match_key_names() {
    std::string out;
    for (const MatchKeyInfo& key : k_match_keys) {
        if (!out.empty()) out += ", ";
        out += key.name;
    }
    return out;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Uppercase hex digits without colons; nullopt when anything else is there.
std::optional<std::string> bare_hex(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == ':') continue;
        if (!is_hex(c)) return std::nullopt;
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// "3a1f..." / "3A:1F:..." -> "3A:1F:...": 32 bytes, uppercase, colon-separated.
std::optional<std::string> normalise_fingerprint(std::string_view text) {
    std::optional<std::string> hex = bare_hex(text);
    if (!hex || hex->size() != 64) return std::nullopt;
    std::string out;
    out.reserve(95);
    for (std::size_t i = 0; i < hex->size(); i += 2) {
        if (i) out += ':';
        out.append(*hex, i, 2);
    }
    return out;
}

// Serial numbers compare as numbers: uppercase hex, no colons, no leading zeros.
std::optional<std::string> normalise_serial(std::string_view text) {
    std::optional<std::string> hex = bare_hex(text);
    if (!hex) return std::nullopt;
    const std::size_t first = hex->find_first_not_of('0');
    return first == std::string::npos ? std::string("0") : hex->substr(first);
}

// IP addresses compare as addresses: the canonical text form of inet_ntop.
std::optional<std::string> normalise_ip(std::string_view text) {
    const std::string input(text);
    char buffer[INET6_ADDRSTRLEN] = {};
    unsigned char v4[4];
    if (::inet_pton(AF_INET, input.c_str(), v4) == 1) {
        if (::inet_ntop(AF_INET, v4, buffer, sizeof buffer) == nullptr) return std::nullopt;
        return std::string(buffer);
    }
    unsigned char v6[16];
    if (::inet_pton(AF_INET6, input.c_str(), v6) == 1) {
        if (::inet_ntop(AF_INET6, v6, buffer, sizeof buffer) == nullptr) return std::nullopt;
        return std::string(buffer);
    }
    return std::nullopt;
}

// The comparable form of one value of match key `key`, from the user list or
// from a certificate; nullopt when the value cannot be one of that kind.
std::optional<std::string> normalise(std::size_t key, std::string_view value) {
    switch (key) {
    case dns:
    case email: return lower(value);
    case ip: return normalise_ip(value);
    case fingerprint256: return normalise_fingerprint(value);
    case serial: return normalise_serial(value);
    default: return std::string(value);
    }
}

// Every value a certificate has for each match key, normalised.
using CertValues = std::array<std::vector<std::string>, key_count>;

CertValues cert_values(const x509::CertFacts& facts) {
    CertValues values;
    auto add = [&](std::size_t key, std::string_view value) {
        if (std::optional<std::string> n = normalise(key, value)) values[key].push_back(std::move(*n));
    };
    // cn and issuer_cn only from a name with exactly one CN (CertFacts::cn):
    // an entry for joe must not match CN=bob, CN=joe.
    if (const std::string name = facts.cn(); !name.empty()) add(cn, name);
    for (const x509::NameEntry& entry : facts.subject.entries) {
        if (entry.key == "O")
            add(o, entry.value);
        else if (entry.key == "OU")
            add(ou, entry.value);
        else if (entry.key == "emailAddress")
            add(email, entry.value);
    }
    for (const std::string& value : facts.san_email)
        add(email, value);
    for (const std::string& value : facts.san_dns)
        add(dns, value);
    for (const std::string& value : facts.san_uri)
        add(uri, value);
    for (const std::string& value : facts.san_ip)
        add(ip, value);
    if (!facts.fingerprint256.empty()) add(fingerprint256, facts.fingerprint256);
    if (!facts.serial.empty()) add(serial, facts.serial);
    if (const std::string name = facts.issuer_cn(); !name.empty()) add(issuer_cn, name);
    return values;
}

bool entry_matches(const UserEntry& entry, const CertValues& values) {
    for (std::size_t key = 0; key < key_count; ++key) {
        const std::optional<std::string>& wanted = entry.*k_match_keys[key].member;
        if (!wanted) continue;
        const std::vector<std::string>& have = values[key];
        if (std::find(have.begin(), have.end(), *wanted) == have.end()) return false;
    }
    return true;
}

// The most selective match key an entry has: the one it is indexed under.
std::size_t primary_key(const UserEntry& entry) {
    for (std::size_t key : {fingerprint256, serial, uri, dns, email, ip, cn, ou, o, issuer_cn})
        if (entry.*k_match_keys[key].member) return key;
    return key_count;
}

std::string index_key(std::size_t key, std::string_view value) {
    std::string out;
    out.reserve(value.size() + 1);
    out += static_cast<char>('a' + key);
    out += value;
    return out;
}

std::string got(const json& value) { return std::string("got ") + value.type_name(); }

class Parser {
  public:
    explicit Parser(std::string_view origin) : m_origin(origin) {}

    Error error(const std::string& where, const std::string& what) const {
        return Error{m_origin + ": " + (where.empty() ? what : where + ": " + what)};
    }

    Result<UserEntry> entry(const json& value, std::size_t index) const {
        UserEntry entry;
        entry.json_path = "users[" + std::to_string(index) + "]";
        if (value.is_string()) {
            const auto& name = value.get_ref<const std::string&>();
            if (name.empty()) return error(entry.json_path, "empty string; a bare string is a CN");
            entry.cn = name;
            return entry;
        }
        if (!value.is_object()) return error(entry.json_path, "expected a string (a CN) or an object, " + got(value));

        bool has_match_key = false;
        for (const auto& [key, item] : value.items()) {
            const std::string where = entry.json_path + "." + key;
            const std::optional<std::size_t> match = match_key_index(key);
            if (!match) {
                if (key == "roles") {
                    if (Result<void> r = roles(item, where, RolesUse::attribute); !r) return r.error();
                }
                entry.attributes[key] = item;
                continue;
            }
            if (!item.is_string()) return error(where, "expected a string, " + got(item));
            const auto& text = item.get_ref<const std::string&>();
            if (text.empty()) return error(where, "empty string");
            std::optional<std::string> normal = normalise(*match, text);
            if (!normal) {
                switch (*match) {
                case ip: return error(where, "not an IP address: " + json_text(item));
                case fingerprint256:
                    return error(where, "expected a SHA-256 fingerprint (64 hex digits, colons optional), got " +
                                            json_text(item));
                case serial: return error(where, "expected a serial number in hex, got " + json_text(item));
                default: return error(where, "invalid value " + json_text(item));
                }
            }
            entry.*k_match_keys[*match].member = std::move(*normal);
            has_match_key = true;
        }
        if (!has_match_key)
            return error(entry.json_path, "no match key; an entry needs at least one of " + all_match_key_names());
        return entry;
    }

    enum class RolesUse { attribute, route };

    Result<void> roles(const json& value, const std::string& where, RolesUse use) const {
        if (!value.is_array()) return error(where, "expected an array of strings, " + got(value));
        if (use == RolesUse::route && value.empty())
            return error(where, "empty; a route needs at least one role (or \"public\": true)");
        for (std::size_t i = 0; i < value.size(); ++i) {
            const std::string at = where + "[" + std::to_string(i) + "]";
            if (!value[i].is_string()) return error(at, "expected a string, " + got(value[i]));
            if (value[i].get_ref<const std::string&>().empty()) return error(at, "empty string");
        }
        return {};
    }

    Result<Route> route(const json& value, std::size_t index) const {
        const std::string path = "routes[" + std::to_string(index) + "]";
        if (!value.is_object()) return error(path, "expected an object with \"path\" and \"roles\", " + got(value));
        Route route;
        bool has_path = false;
        bool has_roles = false;
        for (const auto& [key, item] : value.items()) {
            const std::string where = path + "." + key;
            if (key == "path") {
                if (!item.is_string()) return error(where, "expected a string, " + got(item));
                const auto& text = item.get_ref<const std::string&>();
                if (text.empty() || text.front() != '/')
                    return error(where, "must start with \"/\", got " + json_text(item));
                std::optional<std::string> normal;
                if (text.find('?') == std::string::npos) normal = normalise_path(text);
                if (!normal)
                    return error(where,
                                 "not a plain absolute path (no \".\" or \"..\" segments, query, fragment, NUL or "
                                 "backslash): " +
                                     json_text(item));
                while (normal->size() > 1 && normal->back() == '/')
                    normal->pop_back();
                route.path = std::move(*normal);
                has_path = true;
            } else if (key == "roles") {
                if (Result<void> r = roles(item, where, RolesUse::route); !r) return r.error();
                route.roles = item.get<std::vector<std::string>>();
                has_roles = true;
            } else if (key == "public") {
                if (!item.is_boolean()) return error(where, "expected true or false, " + got(item));
                route.is_public = item.get<bool>();
            } else {
                return error(where, "unknown key; a route has \"path\" and either \"roles\" or \"public\": true");
            }
        }
        if (!has_path) return error(path, "missing \"path\"");
        if (route.is_public && has_roles) return error(path, "\"public\": true and \"roles\" exclude each other");
        if (!route.is_public && !has_roles) return error(path, "needs \"roles\" or \"public\": true");
        return route;
    }

  private:
    std::string m_origin;
};

// What a match hands out: the entry's attributes plus "cn".
std::shared_ptr<const nlohmann::json> user_object(const UserEntry& entry, const std::string& cn) {
    auto object = std::make_shared<nlohmann::json>(entry.attributes);
    (*object)["cn"] = cn;
    return object;
}

} // namespace

bool UserEntry::matches(const x509::CertFacts& facts) const { return entry_matches(*this, cert_values(facts)); }

Result<UserList> UserList::parse(std::string_view text, std::string_view origin) {
    const Parser parser(origin);
    Result<json> parsed = parse_json(text, origin, DuplicateKeys::refused);
    if (!parsed) return parsed.error();
    const json document = std::move(*parsed);

    if (!document.is_object())
        return parser.error("", "expected a JSON object with \"users\" (and optional \"routes\"), " + got(document));
    for (const auto& [key, item] : document.items())
        if (key != "users" && key != "routes")
            return parser.error(key, "unknown key; the file holds \"users\" and optional \"routes\"");
    const auto users = document.find("users");
    if (users == document.end()) return parser.error("", "missing \"users\" (the list of users)");
    if (!users->is_array()) return parser.error("users", "expected an array, " + got(*users));

    UserList list;
    list.m_users.reserve(users->size());
    for (std::size_t i = 0; i < users->size(); ++i) {
        Result<UserEntry> entry = parser.entry((*users)[i], i);
        if (!entry) return entry.error();
        if (entry->cn) entry->object = user_object(*entry, *entry->cn);
        list.m_users.push_back(std::move(*entry));
    }

    if (const auto routes = document.find("routes"); routes != document.end()) {
        if (!routes->is_array()) return parser.error("routes", "expected an array, " + got(*routes));
        for (std::size_t i = 0; i < routes->size(); ++i) {
            Result<Route> route = parser.route((*routes)[i], i);
            if (!route) return route.error();
            for (std::size_t j = 0; j < list.m_routes.size(); ++j)
                if (list.m_routes[j].path == route->path)
                    return parser.error("routes[" + std::to_string(i) + "].path",
                                        "duplicate of routes[" + std::to_string(j) + "] (" + route->path + ")");
            list.m_routes.push_back(std::move(*route));
        }
    }

    // Index every entry under its most selective match key, so that find()
    // costs a few lookups per certificate however long the list is.
    std::array<bool, key_count> used{};
    for (std::size_t i = 0; i < list.m_users.size(); ++i) {
        const UserEntry& entry = list.m_users[i];
        const std::size_t key = primary_key(entry);
        list.m_index[index_key(key, *(entry.*k_match_keys[key].member))].push_back(i);
        for (std::size_t k = 0; k < key_count; ++k)
            if (entry.*k_match_keys[k].member) used[k] = true;
    }
    for (std::size_t k = 0; k < key_count; ++k)
        if (used[k]) list.m_match_keys.emplace_back(k_match_keys[k].name);

    // A serial number is unique within one CA only: with several trusted
    // CAs (or an intermediate), an entry on serial alone matches each CA's
    // certificate with that serial.
    for (const UserEntry& entry : list.m_users)
        if (entry.serial && primary_key(entry) == serial && !entry.cn && !entry.o && !entry.ou && !entry.email &&
            !entry.dns && !entry.uri && !entry.ip && !entry.issuer_cn)
            list.m_warnings.push_back(std::string(origin) + ": " + entry.json_path + ": matches on serial " +
                                      *entry.serial +
                                      " alone; serial numbers are unique only within one CA, so a certificate of "
                                      "another trusted CA or intermediate with that serial matches too: add "
                                      "issuer_cn, or match on fingerprint256");
    return list;
}

Result<UserList> UserList::load(const std::filesystem::path& file) {
    const std::string name = file.string();
    Result<std::string> text = x509::read_file(file); // size-capped, regular files only
    if (!text) return text.error();
    if (text->empty()) return Error{name + ": empty file; expected a JSON object with \"users\""};
    return parse(*text, name);
}

std::shared_ptr<const nlohmann::json> UserList::find(const x509::CertFacts& facts) const {
    const CertValues values = cert_values(facts);
    std::size_t best = m_users.size();
    for (std::size_t key = 0; key < key_count; ++key)
        for (const std::string& value : values[key]) {
            const auto it = m_index.find(index_key(key, value));
            if (it == m_index.end()) continue;
            for (std::size_t i : it->second) {
                if (i >= best) break; // indices are ascending
                if (entry_matches(m_users[i], values)) {
                    best = i;
                    break;
                }
            }
        }
    if (best == m_users.size()) return nullptr;
    const UserEntry& entry = m_users[best];
    const std::string cn = facts.cn();
    if (entry.object && entry.cn == cn) return entry.object;
    return user_object(entry, cn);
}

const Route* UserList::route_for(std::string_view path) const {
    const Route* best = nullptr;
    for (const Route& route : m_routes) {
        const std::string& prefix = route.path;
        const bool covers = path.substr(0, prefix.size()) == prefix &&
                            (path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/');
        if (covers && (best == nullptr || prefix.size() > best->path.size())) best = &route;
    }
    return best;
}

} // namespace certauth::policy
