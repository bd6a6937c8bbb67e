#include <certauth/directory/location.hpp>

#include <certauth/directory/handles.hpp>
#include <certauth/percent_encoding.hpp>

#include <algorithm>
#include <optional>
#include <system_error>
#include <vector>

namespace certauth::directory {
namespace {

constexpr std::string_view k_sqlite_prefix = "sqlite:";

bool is_postgres_uri(std::string_view text) {
    return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The first word of `text` (spaces before it and before its '=' allowed, as
// libpq allows them) when an '=' follows it; empty otherwise.
std::string_view word_before_equals(std::string_view text) {
    std::size_t at = 0;
    while (at < text.size() && is_space(text[at]))
        ++at;
    const std::size_t start = at;
    while (at < text.size() && ((text[at] >= 'a' && text[at] <= 'z') || (text[at] >= 'A' && text[at] <= 'Z') ||
                                (text[at] >= '0' && text[at] <= '9') || text[at] == '_'))
        ++at;
    const std::string_view word = text.substr(start, at - start);
    while (at < text.size() && is_space(text[at]))
        ++at;
    return at < text.size() && text[at] == '=' ? word : std::string_view();
}

// libpq's keyword/value form, as psql takes it ("host=/run/postgresql
// dbname=certauth"): text that begins with a keyword libpq knows and '='.
// Text that begins with another word and '=' ("usr=joe password=...") is
// taken as a connection string too, so that libpq names the word it does
// not know, unless it names a JSON file: it ends in ".json" or a file of
// that name exists.
bool is_conninfo(std::string_view text) {
    const std::string_view word = word_before_equals(text);
    if (word.empty()) return false;
    if (Ptr<PQconninfoOption>(PQconninfoParse((std::string(word) + "=x").c_str(), nullptr)) != nullptr) return true;
    constexpr std::string_view json = ".json";
    if (text.size() >= json.size() && text.substr(text.size() - json.size()) == json) return false;
    std::error_code ignored;
    return !std::filesystem::exists(std::filesystem::path(text), ignored);
}

// `text` with every part that may hold a secret blanked ('\0'), for a
// connection string libpq cannot read, whose values are not known: in a
// URI, the password before the '@' and every query value; in the
// keyword/value form, everything from the first "password" (sslpassword
// too) on, since where its value ends is what libpq could not tell.
std::string blanked_secrets(std::string_view text) {
    std::string out(text);
    auto blank = [&out](std::size_t from, std::size_t to) {
        std::fill(out.begin() + static_cast<std::ptrdiff_t>(from),
                  out.begin() + static_cast<std::ptrdiff_t>(std::min(to, out.size())), '\0');
    };
    if (!is_postgres_uri(text)) {
        if (const std::size_t password = text.find("password"); password != std::string_view::npos)
            blank(password, text.size());
        return out;
    }
    const std::size_t authority = text.find("://") + 3;
    const std::size_t colon = text.find(':', authority);
    const std::size_t at = text.rfind('@');
    if (at != std::string_view::npos && colon < at) blank(colon + 1, at);
    for (std::size_t from = text.find('?'); from != std::string_view::npos; from = text.find('&', from + 1)) {
        const std::size_t end = text.find('&', from + 1);
        const std::size_t equals = text.find('=', from + 1);
        if (equals < end) blank(equals + 1, end);
    }
    return out;
}

// Whether `part`, quoted in libpq's message about `text`, may show a secret
// of it: it holds the value of an option libpq marks as secret (password,
// sslpassword) or, when libpq cannot read `text`, it is not found outside
// the parts blanked_secrets() blanks.
class SecretFinder {
  public:
    explicit SecretFinder(std::string_view text) {
        const Ptr<PQconninfoOption> options(PQconninfoParse(std::string(text).c_str(), nullptr));
        if (!options) {
            m_blanked = blanked_secrets(text);
            return;
        }
        for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option)
            if (option->val != nullptr && option->val[0] != '\0' && option->dispchar != nullptr &&
                option->dispchar[0] == '*')
                m_secrets.emplace_back(option->val);
    }

    bool may_show_secret(std::string_view part) const {
        if (m_blanked) return m_blanked->find(part) == std::string::npos;
        return std::any_of(m_secrets.begin(), m_secrets.end(),
                           [part](const std::string& secret) { return part.find(secret) != std::string_view::npos; });
    }

  private:
    std::optional<std::string> m_blanked;
    std::vector<std::string> m_secrets;
};

// A PostgreSQL URI as libpq reads it, rebuilt without its secrets: every
// option libpq marks as one (password, sslpassword) is "***", however the
// URI spelled it (a '?' or an '@' in the password, an encoded key).
// "postgresql://joe:s3cret@db:5432/x?sslmode=require" ->
// "postgresql://joe@db:5432/x?password=***&sslmode=require".
std::string redacted(const std::string& uri) {
    const Ptr<PQconninfoOption> options(PQconninfoParse(uri.c_str(), nullptr));
    if (!options) return "postgresql://(a URI libpq cannot read)";
    std::string user;
    std::string host;
    std::string port;
    std::string dbname;
    std::string query;
    auto add = [&query](std::string_view key, std::string_view value) {
        query += query.empty() ? '?' : '&';
        query += percent_encoded(key);
        query += '=';
        query += percent_encoded(value, "/,:*");
    };
    for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
        if (option->val == nullptr) continue;
        const std::string_view key = option->keyword;
        const std::string_view value = option->val;
        if (option->dispchar != nullptr && option->dispchar[0] == '*')
            add(key, "***");
        else if (key == "user")
            user = value;
        else if (key == "host")
            host = value;
        else if (key == "port")
            port = value;
        else if (key == "dbname")
            dbname = value;
        else
            add(key, value);
    }
    // A socket folder or a list of hosts is clearer as a parameter.
    if (host.find_first_of("/,") != std::string::npos || port.find(',') != std::string::npos) {
        std::string rest = std::move(query);
        query.clear();
        add("host", host);
        if (!port.empty()) add("port", port);
        if (!rest.empty()) query += "&" + rest.substr(1);
        host.clear();
        port.clear();
    }
    std::string out = "postgresql://";
    if (!user.empty()) out += percent_encoded(user) + "@";
    out += host.find(':') != std::string::npos ? "[" + percent_encoded(host, ":") + "]" : percent_encoded(host);
    if (!port.empty()) out += ":" + percent_encoded(port);
    if (!dbname.empty()) out += "/" + percent_encoded(dbname);
    return out + query;
}

} // namespace

std::string Location::name() const {
    switch (kind) {
    case Kind::json_file: return target;
    case Kind::sqlite: return std::string(k_sqlite_prefix) + target;
    case Kind::postgresql: return redacted(target);
    }
    return target;
}

Result<Location> parse_location(std::string_view text) {
    if (text.empty())
        return Error{"--users: empty; expected FILE.json, sqlite:PATH, postgresql://... or \"host=... dbname=...\""};
    if (text.rfind(k_sqlite_prefix, 0) == 0) {
        const std::string_view path = text.substr(k_sqlite_prefix.size());
        if (path.empty())
            return Error{"sqlite: needs a path to the database file, e.g. sqlite:/var/lib/certauth/users.db"};
        return Location{Kind::sqlite, std::string(path)};
    }
    if (is_postgres_uri(text) || is_conninfo(text)) {
        char* why_raw = nullptr;
        const Ptr<PQconninfoOption> options(PQconninfoParse(std::string(text).c_str(), &why_raw));
        const LibpqMessage why(why_raw);
        if (!options)
            return Error{"a PostgreSQL connection string libpq cannot read: " +
                         without_secrets(why ? why.get() : "out of memory", text)};
        return Location{Kind::postgresql, std::string(text)};
    }
    return Location{Kind::json_file, std::string(text)};
}

std::string without_secrets(std::string_view message, std::string_view connection) {
    const SecretFinder finder(connection);
    std::string out;
    std::size_t from = 0;
    while (from < message.size()) {
        const std::size_t open = message.find('"', from);
        const std::size_t close = open == std::string_view::npos ? open : message.find('"', open + 1);
        if (close == std::string_view::npos) {
            out += message.substr(from);
            break;
        }
        const std::string_view part = message.substr(open + 1, close - open - 1);
        out += message.substr(from, open + 1 - from);
        out += finder.may_show_secret(part) ? "(not shown: it may hold a secret)" : part;
        out += '"';
        from = close + 1;
    }
    while (!out.empty() && is_space(out.back()))
        out.pop_back();
    return out;
}

std::string resolve_relative(std::string_view text, const std::filesystem::path& base) {
    Result<Location> location = parse_location(text);
    if (!location || location->kind == Kind::postgresql) return std::string(text);
    const std::filesystem::path path(location->target);
    if (location->target == "-" || !path.is_relative()) return std::string(text);
    const std::string resolved = (base / path).lexically_normal().string();
    return location->kind == Kind::sqlite ? std::string(k_sqlite_prefix) + resolved : resolved;
}

} // namespace certauth::directory
