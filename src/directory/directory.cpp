#include <certauth/directory/directory.hpp>

#include <certauth/directory/rows.hpp>
#include <certauth/json_text.hpp>
#include <certauth/policy/match_key.hpp>

#include "connection.hpp"
#include "postgres_connection.hpp"
#include "schema.hpp"
#include "sqlite_connection.hpp"

#include <utility>

namespace certauth::directory {
namespace {

using nlohmann::json;

// One transaction; rolled back unless committed.
class Transaction {
  public:
    enum class Access { read, write };

    // A write transaction serialises with every other writer: SQLite takes
    // the write lock at BEGIN IMMEDIATE, PostgreSQL locks both tables once
    // the schema is known to be there (lock_tables).
    static Result<Transaction> begin(Connection& connection, Access access) {
        const bool sqlite = connection.dialect() == Dialect::sqlite;
        const char* sql = access == Access::read
                              ? (sqlite ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                              : (sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
        if (Result<void> begun = connection.execute(sql); !begun) return begun.error();
        return Transaction(connection);
    }
    Transaction(Transaction&& other) noexcept : m_connection(std::exchange(other.m_connection, nullptr)) {}
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() {
        if (m_connection != nullptr) (void)m_connection->execute("ROLLBACK");
    }

    // A COMMIT that failed may leave the transaction open on the
    // connection (SQLite: BUSY while a reader holds its lock): it is rolled
    // back, so the connection's next transaction can begin.
    Result<void> commit() {
        Connection* connection = std::exchange(m_connection, nullptr);
        Result<void> committed = connection->execute("COMMIT");
        if (!committed) (void)connection->execute("ROLLBACK");
        return committed;
    }

  private:
    explicit Transaction(Connection& connection) : m_connection(&connection) {}
    Connection* m_connection;
};

// A write transaction on an existing directory: begun, schema checked, tables locked.
Result<Transaction> begin_write(Connection& connection) {
    Result<Transaction> transaction = Transaction::begin(connection, Transaction::Access::write);
    if (!transaction) return transaction.error();
    if (Result<void> schema = check_schema(connection); !schema) return schema.error();
    if (connection.dialect() == Dialect::postgresql)
        if (Result<void> locked = connection.execute("LOCK TABLE users, routes IN SHARE ROW EXCLUSIVE MODE"); !locked)
            return locked.error();
    return transaction;
}

Result<Transaction> begin_read(Connection& connection) {
    Result<Transaction> transaction = Transaction::begin(connection, Transaction::Access::read);
    if (!transaction) return transaction.error();
    if (Result<void> schema = check_schema(connection); !schema) return schema.error();
    return transaction;
}

// The match key columns of a users row (columns 1-10 after id).
policy::MatchTexts match_texts(const Row& row) {
    policy::MatchTexts match;
    for (std::size_t key = 0; key < policy::k_match_key_count; ++key)
        match[key] = row.text(static_cast<int>(key) + 1);
    return match;
}

const std::string& select_users() {
    static const std::string sql = "SELECT id, " + user_column_list() + " FROM users ORDER BY id";
    return sql;
}
constexpr const char* k_select_routes = "SELECT id, path, roles, is_public FROM routes ORDER BY id";

// Every row into `builder`; each bad row to `problem` (which says whether to go on).
Result<void> add_rows(Connection& connection, policy::UserListBuilder& builder, const policy::ProblemHandler& problem,
                      Counts& counts) {
    std::optional<Error> stopped;
    auto handle = [&](Result<void> added) -> Result<void> {
        if (added || problem(added.error())) return {};
        stopped = added.error();
        return added;
    };
    Result<void> users = connection.query(select_users(), {}, [&](const Row& row) -> Result<void> {
        ++counts.users;
        return handle(add_user_row(builder, row.text(0).value_or(""), match_texts(row), row.text(11)));
    });
    if (!users) return users;
    Result<void> routes = connection.query(k_select_routes, {}, [&](const Row& row) -> Result<void> {
        ++counts.routes;
        return handle(add_route_row(builder, row.text(0).value_or(""), row.text(1), row.text(2), row.text(3)));
    });
    return routes;
}

Result<std::size_t> count_rows(Connection& connection, std::string_view table) {
    std::size_t count = 0;
    Result<void> counted =
        connection.query("SELECT count(*) FROM " + std::string(table), {}, [&count](const Row& row) -> Result<void> {
            count = std::stoull(std::string(row.text(0).value_or("0")));
            return {};
        });
    if (!counted) return counted.error();
    return count;
}

// A users.json entry (validated) as a users row: match key columns, then attributes.
Params user_params(const json& entry) {
    Params row(k_user_columns.size());
    if (entry.is_string()) {
        row[policy::index_of(policy::MatchKey::cn)] = entry.get<std::string>();
        return row;
    }
    json attributes = json::object();
    for (const auto& item : entry.items()) {
        if (const std::optional<policy::MatchKey> key = policy::match_key_named(item.key()))
            row[policy::index_of(*key)] = item.value().get<std::string>();
        else
            attributes[item.key()] = item.value();
    }
    if (!attributes.empty()) row.back() = json_text(attributes);
    return row;
}

Params route_params(const json& route) {
    Params row(k_route_columns.size());
    row[0] = route.at("path").get<std::string>();
    if (const auto roles = route.find("roles"); roles != route.end()) row[1] = json_text(*roles);
    const auto is_public = route.find("public");
    row[2] = is_public != route.end() && is_public->get<bool>() ? "1" : "0";
    return row;
}

std::vector<std::string_view> columns_of(const auto& columns) { return {columns.begin(), columns.end()}; }

// How remove compares a value: as matching does, or as written when it is
// not a valid value of its key (then only the same text is the same).
std::string comparable(policy::MatchKey key, std::string_view text) {
    return policy::normalise_match_value(key, text).value_or(std::string(text));
}

} // namespace

Directory::Directory(std::unique_ptr<Connection> connection) : m_connection(std::move(connection)) {}
Directory::~Directory() = default;
Directory::Directory(Directory&&) noexcept = default;
Directory& Directory::operator=(Directory&&) noexcept = default;

const std::string& Directory::name() const noexcept { return m_connection->name(); }

Result<Directory> Directory::open(const Location& location, OpenMode mode) {
    switch (location.kind) {
    case Kind::sqlite: {
        auto connection = SqliteConnection::open(location.target, mode, k_database_timeout);
        if (!connection) return connection.error();
        return Directory(std::move(*connection));
    }
    case Kind::postgresql: {
        auto connection = PostgresConnection::connect(location.target, location.name(), k_database_timeout);
        if (!connection) return connection.error();
        return Directory(std::move(*connection));
    }
    case Kind::json_file: break;
    }
    return Error{location.name() +
                 ": a JSON file, not a database (sqlite:PATH, postgresql://... or \"host=... dbname=...\")"};
}

Result<Directory::InitOutcome> Directory::init() {
    Connection& connection = *m_connection;
    // WAL: readers (every certauth following the file) never block the
    // writer, nor it them. Persistent, and set outside a transaction.
    if (connection.dialect() == Dialect::sqlite)
        if (Result<void> wal = connection.execute("PRAGMA journal_mode=WAL"); !wal) return wal.error();
    Result<Transaction> transaction = Transaction::begin(connection, Transaction::Access::write);
    if (!transaction) return transaction.error();
    Result<bool> versioned = table_exists(connection, "certauth_schema");
    if (!versioned) return versioned.error();
    if (*versioned) {
        if (Result<void> schema = check_schema(connection); !schema) return schema.error();
        return InitOutcome::already_current;
    }
    for (std::string_view table : {"users", "routes"}) {
        Result<bool> taken = table_exists(connection, table);
        if (!taken) return taken.error();
        if (*taken)
            return database_error(connection, "a table \"" + std::string(table) +
                                                  "\" exists without certauth_schema: not a certauth directory; "
                                                  "use a database (or schema) of its own");
    }
    if (Result<void> created = connection.execute(create_schema_statements(connection.dialect())); !created)
        return created.error();
    if (Result<void> committed = transaction->commit(); !committed) return committed.error();
    return InitOutcome::created;
}

Result<policy::UserList> Directory::load() {
    Result<Transaction> transaction = begin_read(*m_connection);
    if (!transaction) return transaction.error();
    policy::UserListBuilder builder(name());
    Counts counts;
    if (Result<void> added = add_rows(
            *m_connection, builder, [](const Error&) { return false; }, counts);
        !added)
        return added.error();
    if (Result<void> committed = transaction->commit(); !committed) return committed.error();
    return std::move(builder).build();
}

Result<LintReport> Directory::lint() {
    Result<Transaction> transaction = begin_read(*m_connection);
    if (!transaction) return transaction.error();
    policy::UserListBuilder builder(name());
    LintReport report;
    auto problem = [&report](const Error& error) {
        report.problems.push_back(error.message);
        return true;
    };
    if (Result<void> added = add_rows(*m_connection, builder, problem, report.counts); !added) return added.error();
    if (Result<void> committed = transaction->commit(); !committed) return committed.error();
    return report;
}

Result<void> Directory::read_entries(const EntryCallback& each_user, const EntryCallback& each_route) {
    Connection& connection = *m_connection;
    Result<Transaction> transaction = begin_read(connection);
    if (!transaction) return transaction.error();
    Result<void> users = connection.query(select_users(), {}, [&](const Row& row) -> Result<void> {
        const std::string_view id = row.text(0).value_or("");
        Result<nlohmann::ordered_json> entry = user_entry(name(), id, match_texts(row), row.text(11));
        if (!entry) return entry.error();
        return each_user(id, *entry);
    });
    if (!users) return users;
    Result<void> routes = connection.query(k_select_routes, {}, [&](const Row& row) -> Result<void> {
        const std::string_view id = row.text(0).value_or("");
        Result<nlohmann::ordered_json> entry = route_entry(name(), id, row.text(1), row.text(2), row.text(3));
        if (!entry) return entry.error();
        return each_route(id, *entry);
    });
    if (!routes) return routes;
    return transaction->commit();
}

Result<Counts> Directory::replace(const json& document) {
    Connection& connection = *m_connection;
    Result<Transaction> transaction = begin_write(connection);
    if (!transaction) return transaction.error();
    Counts before;
    for (auto [table, count] : {std::pair{"users", &before.users}, std::pair{"routes", &before.routes}}) {
        Result<std::size_t> rows = count_rows(connection, table);
        if (!rows) return rows.error();
        *count = *rows;
    }
    if (Result<void> emptied = connection.execute("DELETE FROM users; DELETE FROM routes"); !emptied)
        return emptied.error();
    static const json k_none = json::array();
    const json& users = document.contains("users") ? document.at("users") : k_none;
    const json& routes = document.contains("routes") ? document.at("routes") : k_none;
    std::size_t next = 0;
    Result<void> inserted = connection.insert_rows("users", columns_of(k_user_columns), [&](Params& row) {
        if (next == users.size()) return false;
        row = user_params(users[next++]);
        return true;
    });
    if (!inserted) return inserted.error();
    next = 0;
    inserted = connection.insert_rows("routes", columns_of(k_route_columns), [&](Params& row) {
        if (next == routes.size()) return false;
        row = route_params(routes[next++]);
        return true;
    });
    if (!inserted) return inserted.error();
    if (Result<void> committed = transaction->commit(); !committed) return committed.error();
    return before;
}

Result<std::string> Directory::add(const json& entry) {
    Connection& connection = *m_connection;
    Result<Transaction> transaction = begin_write(connection);
    if (!transaction) return transaction.error();
    // PostgreSQL takes the id from a sequence, which rows inserted with ids
    // of their own (SQL by hand) leave behind: it is brought past the largest
    // id first, so that the entry goes last, as SQLite's rowid does.
    if (connection.dialect() == Dialect::postgresql) {
        if (Result<void> synced = connection.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), "
                                                     "COALESCE((SELECT MAX(id) FROM users), 0) + 1, false)");
            !synced)
            return synced.error();
    }
    std::string placeholders;
    for (std::size_t i = 0; i < k_user_columns.size(); ++i)
        placeholders += i ? ", ?" : "?";
    std::string id;
    Result<void> inserted =
        connection.query("INSERT INTO users (" + user_column_list() + ") VALUES (" + placeholders + ") RETURNING id",
                         user_params(entry), [&id](const Row& row) -> Result<void> {
                             id = row.text(0).value_or("");
                             return {};
                         });
    if (!inserted) return inserted.error();
    if (Result<void> committed = transaction->commit(); !committed) return committed.error();
    return id;
}

Result<std::size_t> Directory::remove(const policy::MatchTexts& match) {
    Connection& connection = *m_connection;
    Result<Transaction> transaction = begin_write(connection);
    if (!transaction) return transaction.error();
    // Candidates: the rows with exactly these match key columns set; their
    // values are compared as matching compares them.
    std::array<std::optional<std::string>, policy::k_match_key_count> wanted;
    std::string where;
    for (policy::MatchKey key : policy::k_match_keys) {
        const std::size_t k = policy::index_of(key);
        where += where.empty() ? " WHERE " : " AND ";
        where += std::string(k_user_columns[k]) + (match[k] ? " IS NOT NULL" : " IS NULL");
        if (match[k]) wanted[k] = comparable(key, *match[k]);
    }
    std::vector<std::string> ids;
    Result<void> found = connection.query("SELECT id, " + user_column_list() + " FROM users" + where, {},
                                          [&](const Row& row) -> Result<void> {
                                              const policy::MatchTexts have = match_texts(row);
                                              for (policy::MatchKey key : policy::k_match_keys) {
                                                  const std::size_t k = policy::index_of(key);
                                                  if (match[k] && comparable(key, *have[k]) != wanted[k]) return {};
                                              }
                                              ids.emplace_back(row.text(0).value_or(""));
                                              return {};
                                          });
    if (!found) return found.error();
    for (const std::string& id : ids)
        if (Result<void> removed =
                connection.query("DELETE FROM users WHERE id = ?", {id}, [](const Row&) -> Result<void> { return {}; });
            !removed)
            return removed.error();
    if (Result<void> committed = transaction->commit(); !committed) return committed.error();
    return ids.size();
}

Result<policy::UserList> load_user_list(std::string_view users) {
    Result<Location> location = parse_location(users);
    if (!location) return location.error();
    if (location->kind == Kind::json_file) return policy::UserList::load(location->target);
    Result<Directory> directory = Directory::open(*location);
    if (!directory) return directory.error();
    return directory->load();
}

} // namespace certauth::directory
