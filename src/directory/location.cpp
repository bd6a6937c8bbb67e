#include <certauth/directory/location.hpp>

namespace certauth::directory {
namespace {

constexpr std::string_view k_sqlite_prefix = "sqlite:";

bool is_postgres_uri(std::string_view text) {
    return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

// "postgresql://joe:secret@db/x?password=y" -> "postgresql://joe:***@db/x?password=***".
std::string redacted(std::string_view uri) {
    std::string out(uri);
    const std::size_t scheme_end = out.find("://") + 3;
    const std::size_t authority_end = out.find_first_of("/?", scheme_end);
    const std::size_t at = out.rfind('@', authority_end == std::string::npos ? out.size() : authority_end);
    if (at != std::string::npos && at > scheme_end) {
        const std::size_t colon = out.find(':', scheme_end);
        if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
    for (std::size_t pos = out.find("password="); pos != std::string::npos; pos = out.find("password=", pos + 1)) {
        const bool parameter = pos > 0 && (out[pos - 1] == '?' || out[pos - 1] == '&');
        if (!parameter) continue;
        const std::size_t start = pos + 9;
        const std::size_t end = out.find('&', start);
        out.replace(start, (end == std::string::npos ? out.size() : end) - start, "***");
    }
    return out;
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
    if (text.empty()) return Error{"--users: empty; expected FILE.json, sqlite:PATH or postgresql://..."};
    if (text.rfind(k_sqlite_prefix, 0) == 0) {
        const std::string_view path = text.substr(k_sqlite_prefix.size());
        if (path.empty())
            return Error{"sqlite: needs a path to the database file, e.g. sqlite:/var/lib/certauth/users.db"};
        return Location{Kind::sqlite, std::string(path)};
    }
    if (is_postgres_uri(text)) return Location{Kind::postgresql, std::string(text)};
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
