#include <certauth/directory/location.hpp>

#include <certauth/directory/handles.hpp>

namespace certauth::directory {
namespace {

constexpr std::string_view k_sqlite_prefix = "sqlite:";

bool is_postgres_uri(std::string_view text) {
    return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// libpq's keyword/value form, as psql takes it ("host=/run/postgresql
// dbname=certauth"): whether the first word before '=' (spaces around it
// allowed, as libpq allows them) is a keyword libpq knows.
bool begins_with_conninfo_keyword(std::string_view text) {
    std::size_t at = 0;
    while (at < text.size() && is_space(text[at]))
        ++at;
    const std::size_t start = at;
    while (at < text.size() && ((text[at] >= 'a' && text[at] <= 'z') || text[at] == '_'))
        ++at;
    const std::string keyword(text.substr(start, at - start));
    while (at < text.size() && is_space(text[at]))
        ++at;
    if (keyword.empty() || at == text.size() || text[at] != '=') return false;
    return Ptr<PQconninfoOption>(PQconninfoParse((keyword + "=x").c_str(), nullptr)) != nullptr;
}

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
        query += key;
        query += '=';
        query += value;
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
    if (!user.empty()) out += user + "@";
    out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (!port.empty()) out += ":" + port;
    if (!dbname.empty()) out += "/" + dbname;
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
    if (is_postgres_uri(text)) return Location{Kind::postgresql, std::string(text)};
    if (begins_with_conninfo_keyword(text)) {
        char* why_raw = nullptr;
        const Ptr<PQconninfoOption> options(PQconninfoParse(std::string(text).c_str(), &why_raw));
        const LibpqMessage why(why_raw);
        if (!options) {
            std::string message = why ? why.get() : "out of memory";
            while (!message.empty() && is_space(message.back()))
                message.pop_back();
            return Error{"a PostgreSQL connection string libpq cannot read: " + message};
        }
        return Location{Kind::postgresql, std::string(text)};
    }
    return Location{Kind::json_file, std::string(text)};
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
