#include <certauth/directory/location.hpp>

#include <certauth/directory/handles.hpp>
#include <certauth/percent_encoding.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace certauth::directory {
namespace {

constexpr std::string_view k_sqlite_prefix = "sqlite:";

bool is_postgres_uri(std::string_view text) {
    return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The first word of `text` (spaces before it and before its '=' allowed, as
// libpq allows them) when an '=' follows it; empty otherwise.
std::string_view word_before_equals(std::string_view text) {
    std::size_t at = 0;
    while (at < text.size() && is_space(text[at]))
        ++at;
    const std::size_t start = at;
    while (at < text.size() && is_word_char(text[at]))
        ++at;
    const std::string_view word = text.substr(start, at - start);
    while (at < text.size() && is_space(text[at]))
        ++at;
    return at < text.size() && text[at] == '=' ? word : std::string_view();
}

// libpq's keyword/value form, as psql takes it ("host=/run/postgresql
// dbname=certauth"): text that begins with a keyword libpq knows and '='.
// Text that begins with another word and '=' ("usr=joe password=..."), or
// holds "password" and then '=', is taken as a connection string too, so
// that libpq names what it cannot read, unless it names a JSON file: a file
// of that name exists (in `base`, if it is relative), or it ends in ".json"
// and holds no "password" before an '=' (a file error would repeat the
// text, and "usr=joe password=s3cret.json" is no file name a person chose).
bool is_conninfo(std::string_view text, const std::filesystem::path& base) {
    const std::string_view word = word_before_equals(text);
    if (!word.empty() && Ptr<PQconninfoOption>(PQconninfoParse((std::string(word) + "=x").c_str(), nullptr)) != nullptr)
        return true;
    // Any other text with "password" and an '=' after it ("=x password=...")
    // is no file name a person chose: it is read as a connection string too.
    const std::size_t password = text.find("password");
    const bool password_given =
        password != std::string_view::npos && text.find('=', password) != std::string_view::npos;
    if (word.empty() && !password_given) return false;
    if (!password_given && text.ends_with(".json")) return false;
    std::error_code ignored;
    return !std::filesystem::exists(base / std::filesystem::path(text), ignored);
}

// Where, in a connection string libpq cannot read (its values unknown), a
// secret may begin: the first "password" (sslpassword too), since where its
// value ends is what libpq could not tell; in a URI also the password after
// the user's ':' and the first '%' of the query (an encoded key may spell
// "password"). npos: nothing in it can be a secret.
std::size_t secrets_begin(std::string_view text) {
    std::size_t begin = text.find("password");
    // A URI, or one written as a value ("dbname=postgresql://joe:s3 cret@h").
    if (const std::size_t scheme = text.find("://"); scheme != std::string_view::npos) {
        const std::size_t authority = scheme + 3;
        const std::size_t colon = text.find(':', authority);
        const std::size_t at = text.find('@', authority);
        if (at != std::string_view::npos && colon < at) begin = std::min(begin, colon);
        if (const std::size_t query = text.find('?', authority); query != std::string_view::npos)
            begin = std::min(begin, text.find('%', query));
    }
    return begin;
}

// Whether `part` is a key of `text` written before `begin` and nowhere
// after it: a word that starts the text or follows a space, '?' or '&', and
// is followed by '=', '&' or the end (spaces before them allowed).
bool is_key_before(std::string_view part, std::string_view text, std::size_t begin) {
    if (part.empty() || !std::all_of(part.begin(), part.end(), is_word_char)) return false;
    // Written after `begin` too, it may be that occurrence libpq quotes ("user=joe password=s3 user").
    if (begin != std::string_view::npos && text.find(part, begin) != std::string_view::npos) return false;
    for (std::size_t at = text.find(part); at != std::string_view::npos && at + part.size() <= begin;
         at = text.find(part, at + 1)) {
        if (at > 0 && !is_space(text[at - 1]) && text[at - 1] != '?' && text[at - 1] != '&') continue;
        std::size_t after = at + part.size();
        while (after < text.size() && is_space(text[after]))
            ++after;
        if (after == text.size() || text[after] == '=' || text[after] == '&') return true;
    }
    return false;
}

// libpq's messages about a connection string it cannot read that quote a
// piece of it: the words before the piece and after it.
constexpr std::array<std::pair<std::string_view, std::string_view>, 10> k_quoting_messages{{
    {"missing \"=\" after \"", "\" in connection info string"},
    {"invalid connection option \"", "\""},
    {"invalid URI query parameter: \"", "\""},
    {"missing key/value separator \"=\" in URI query parameter: \"", "\""},
    {"extra key/value separator \"=\" in URI query parameter: \"", "\""},
    {"invalid percent-encoded token: \"", "\""},
    {"forbidden value %00 in percent-encoded value: \"", "\""},
    {"end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"", "\""},
    {"IPv6 host address may not be empty in URI: \"", "\""},
    {"invalid URI propagated to internal parser routine: \"", "\""},
}};

// Which parts libpq quotes in a message about a connection string may show
// a secret of it. A string libpq reads: a part that holds the value of an
// option libpq marks as secret (password, sslpassword), and every part if
// such a value holds a '"'. One it cannot read: every piece but a key
// written before secrets_begin().
class SecretFinder {
  public:
    explicit SecretFinder(std::string_view text) : m_text(text) {
        const Ptr<PQconninfoOption> options(PQconninfoParse(std::string(text).c_str(), nullptr));
        if (!options) {
            m_unreadable = true;
            m_secrets_begin = secrets_begin(text);
            return;
        }
        for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option)
            if (option->val != nullptr && option->val[0] != '\0' && option->dispchar != nullptr &&
                option->dispchar[0] == '*')
                m_secrets.emplace_back(option->val);
    }

    bool has_secrets() const noexcept {
        return m_unreadable ? m_secrets_begin != std::string_view::npos : !m_secrets.empty();
    }

    bool unreadable() const noexcept { return m_unreadable; }

    bool may_show_secret(std::string_view part) const {
        if (m_unreadable) return !is_key_before(part, m_text, m_secrets_begin);
        // A secret holding a '"' may be split across quoted parts: none is shown.
        return std::any_of(m_secrets.begin(), m_secrets.end(), [part](const std::string& secret) {
            return part.find(secret) != std::string_view::npos || secret.find('"') != std::string::npos;
        });
    }

  private:
    std::string_view m_text;
    bool m_unreadable = false;
    std::size_t m_secrets_begin = std::string_view::npos;
    std::vector<std::string> m_secrets;
};

// Why libpq would read a piece of a URI's password as a host or a port,
// which messages and names then show; empty if it would not. libpq ends the
// user and password at the first '@' or '/': an '@' in the password leaves
// the rest in the host ("postgresql://joe:s3@cr@db/x" has the host
// "cr@db"); a '/' before the '@' leaves no user and password at
// all, and what followed the user's ':' is the port
// ("postgresql://joe:s3/cr@db/x" has the host "joe" and the port "s3").
std::string_view misread_password(std::string_view text) {
    const std::size_t authority = text.find("://") + 3;
    const std::size_t slash = text.find('/', authority);
    const std::size_t at = text.find('@', authority);
    if (at < slash) {
        const std::size_t host_end = text.find_first_of("/?", at + 1);
        const std::string_view host =
            text.substr(at + 1, host_end == std::string_view::npos ? host_end : host_end - at - 1);
        if (host.find('@') != std::string_view::npos) return "an '@' in its host (an '@' in a password is written %40)";
        return {};
    }
    const std::size_t end = text.find_first_of("/?", authority);
    std::string_view hosts = text.substr(authority, end == std::string_view::npos ? end : end - authority);
    while (!hosts.empty()) {
        const std::size_t comma = hosts.find(',');
        std::string_view host = hosts.substr(0, comma);
        hosts = comma == std::string_view::npos ? std::string_view() : hosts.substr(comma + 1);
        if (const std::size_t bracket = host.find(']'); !host.empty() && host.front() == '[')
            host = bracket == std::string_view::npos ? std::string_view() : host.substr(bracket + 1);
        const std::size_t colon = host.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view port = host.substr(colon + 1);
        if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return "a port that is not a number (a '/' in a password is written %2F)";
        // "postgresql://joe:123/456@db/x": a password of digits before a '/'.
        const std::size_t query = text.find('?', authority);
        if (end != std::string_view::npos && text[end] == '/' &&
            text.substr(end, query - end).find('@') != std::string_view::npos)
            return "a port and an '@' after it (an '@' in a database name is written %40, a '/' in a password %2F)";
    }
    return {};
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

namespace {

// parse_location, a relative file name being relative to `base`.
Result<Location> parse_location_in(std::string_view text, const std::filesystem::path& base) {
    if (text.empty())
        return Error{"the location of the users is empty; expected FILE.json, sqlite:PATH, postgresql://... or "
                     "\"host=... dbname=...\""};
    if (text.rfind(k_sqlite_prefix, 0) == 0) {
        const std::string_view path = text.substr(k_sqlite_prefix.size());
        if (path.empty())
            return Error{"sqlite: needs a path to the database file, e.g. sqlite:/var/lib/certauth/users.db"};
        return Location{Kind::sqlite, std::string(path)};
    }
    const bool uri = is_postgres_uri(text);
    if (uri)
        if (const std::string_view why = misread_password(text); !why.empty())
            return Error{"a PostgreSQL URI with " + std::string(why)};
    if (uri || is_conninfo(text, base)) {
        char* why_raw = nullptr;
        const Ptr<PQconninfoOption> options(PQconninfoParse(std::string(text).c_str(), &why_raw));
        const LibpqMessage why(why_raw);
        if (!options)
            return Error{"a PostgreSQL connection string libpq cannot read: " +
                         without_secrets(why ? why.get() : "out of memory", text)};
        // libpq reads a URI in place of the whole string only: as a value
        // it is a database's name, which the server's messages would repeat.
        for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option)
            if (option->val != nullptr && std::string_view(option->keyword) == "dbname" &&
                std::string_view(option->val).find("://") != std::string_view::npos)
                return Error{"a PostgreSQL connection string whose dbname is a URI, which libpq does not read "
                             "there: give the URI itself as the whole location"};
        return Location{Kind::postgresql, std::string(text)};
    }
    return Location{Kind::json_file, std::string(text)};
}

} // namespace

Result<Location> parse_location(std::string_view text) { return parse_location_in(text, {}); }

std::string without_secrets(std::string_view message, std::string_view connection) {
    constexpr std::string_view hidden = "(not shown: it may hold a secret)";
    while (!message.empty() && is_space(message.back()))
        message.remove_suffix(1);
    const SecretFinder finder(connection);
    if (!finder.has_secrets()) return std::string(message);
    if (finder.unreadable()) {
        // The piece libpq quotes may hold a '"' itself: it is what lies
        // between the words of one of libpq's messages, not between quotes.
        for (const auto& [before, after] : k_quoting_messages) {
            if (message.size() < before.size() + after.size() || message.substr(0, before.size()) != before ||
                message.substr(message.size() - after.size()) != after)
                continue;
            const std::string_view piece = message.substr(before.size(), message.size() - before.size() - after.size());
            return std::string(before) + std::string(finder.may_show_secret(piece) ? hidden : piece) +
                   std::string(after);
        }
        // Another message: its words up to the first quote.
        const std::size_t quote = message.find('"');
        if (quote == std::string_view::npos) return std::string(message);
        return std::string(message.substr(0, quote + 1)) + std::string(hidden) + '"';
    }
    std::string out;
    std::size_t from = 0;
    while (from < message.size()) {
        const std::size_t open = message.find('"', from);
        const std::size_t close = open == std::string_view::npos ? open : message.find('"', open + 1);
        if (close == std::string_view::npos) break;
        const std::string_view part = message.substr(open + 1, close - open - 1);
        out += message.substr(from, open + 1 - from);
        if (finder.may_show_secret(part)) {
            out += hidden;
            out += '"';
            return out; // what follows is not shown either
        }
        out += part;
        out += '"';
        from = close + 1;
    }
    out += message.substr(from);
    return out;
}

std::string resolve_relative(std::string_view text, const std::filesystem::path& base) {
    Result<Location> location = parse_location_in(text, base);
    if (!location || location->kind == Kind::postgresql) return std::string(text);
    const std::filesystem::path path(location->target);
    if (location->target == "-" || !path.is_relative()) return std::string(text);
    const std::string resolved = (base / path).lexically_normal().string();
    return location->kind == Kind::sqlite ? std::string(k_sqlite_prefix) + resolved : resolved;
}

} // namespace certauth::directory
