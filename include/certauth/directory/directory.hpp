#pragma once
// A user directory in a database (docs/directory.md): SQLite or PostgreSQL
// tables holding the entries and routes a users.json holds, under a
// versioned schema. Every read is one consistent snapshot (one transaction);
// every write is one transaction that serialises with other writers, so
// that concurrent writers never lose each other's entries.

#include <certauth/directory/location.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/policy/user_list_builder.hpp>
#include <certauth/result.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace certauth::directory {

class Connection; // src/directory/connection.hpp

// The schema version this certauth reads and writes.
inline constexpr int k_schema_version = 1;

enum class OpenMode { existing, create };

// How long a command waits for the database: connecting (PostgreSQL), and
// another writer's lock (SQLite).
inline constexpr std::chrono::milliseconds k_database_timeout{10'000};

struct Counts {
    std::size_t users = 0;
    std::size_t routes = 0;
};

// What lint found: every problem, not only the first.
struct LintReport {
    Counts counts;                     // rows (entries) read
    std::vector<std::string> problems; // one message per bad row (or entry), in order
};

class Directory {
  public:
    // Opens the database `location` names (not a JSON file). With
    // OpenMode::create a missing SQLite file is created (init).
    static Result<Directory> open(const Location& location, OpenMode mode = OpenMode::existing);
    // Over a connection already open (the watcher's).
    explicit Directory(std::unique_ptr<Connection> connection);
    ~Directory();
    Directory(Directory&&) noexcept;
    Directory& operator=(Directory&&) noexcept;

    // "sqlite:/var/lib/certauth/users.db", or the URI without its password.
    const std::string& name() const noexcept;
    Connection& connection() noexcept { return *m_connection; }

    enum class InitOutcome { created, already_current };
    // Creates the tables, the schema version row and (PostgreSQL) the
    // trigger that notifies listeners of every change. A directory already
    // at this version is left as it is; tables of the same names that
    // certauth did not create are an error.
    Result<InitOutcome> init();

    // A snapshot: every row, validated as users.json is; the first bad row
    // is the error.
    Result<policy::UserList> load();
    // The same validation, reporting every bad row.
    Result<LintReport> lint();

    using EntryCallback = std::function<Result<void>(std::string_view id, const nlohmann::ordered_json& entry)>;
    // Every users row, then every routes row, as users.json writes them
    // (rows::user_entry, rows::route_entry), in order, from one snapshot.
    Result<void> read_entries(const EntryCallback& each_user, const EntryCallback& each_route);

    // Replaces every entry and route with `document`'s (a users.json the
    // caller has validated), in one transaction; the counts it replaced.
    Result<Counts> replace(const nlohmann::json& document);
    // Appends one entry (as users.json writes it); its id.
    Result<std::string> add(const nlohmann::json& entry);
    // Removes the entries whose match keys are exactly `match`'s (compared as
    // matching compares them: fingerprints in any case, ...); how many.
    Result<std::size_t> remove(const policy::MatchTexts& match);

  private:
    std::unique_ptr<Connection> m_connection;
};

// The user list --users names: a users.json file, sqlite:PATH or
// postgresql://... (serve at start-up and reload, check).
Result<policy::UserList> load_user_list(std::string_view users);

// Directory::read_entries and Directory::lint for any location, a users.json
// file too (its entries' ids are their indexes; it is validated first).
Result<void> read_entries(const Location& location, const Directory::EntryCallback& each_user,
                          const Directory::EntryCallback& each_route);
Result<LintReport> lint(const Location& location);

} // namespace certauth::directory
