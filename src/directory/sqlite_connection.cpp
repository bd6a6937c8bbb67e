#include "sqlite_connection.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include <sys/stat.h>

namespace certauth::directory {
namespace {

class SqliteRow final : public Row {
  public:
    explicit SqliteRow(sqlite3_stmt* statement) : m_statement(statement) {}
    std::optional<std::string_view> text(int column) const override {
        if (sqlite3_column_type(m_statement, column) == SQLITE_NULL) return std::nullopt;
        const unsigned char* bytes = sqlite3_column_text(m_statement, column);
        const int size = sqlite3_column_bytes(m_statement, column);
        if (bytes == nullptr) return std::string_view();
        return std::string_view(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size));
    }

  private:
    sqlite3_stmt* m_statement;
};

} // namespace

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(const std::string& path, OpenMode mode,
                                                                 std::chrono::milliseconds busy_timeout) {
    const std::string name = "sqlite:" + path;
    struct stat before {};
    if (::stat(path.c_str(), &before) != 0) {
        if (errno != ENOENT || mode == OpenMode::existing)
            return Error{name + ": " + (errno == ENOENT ? std::string("no such file") : std::strerror(errno))};
    } else if (S_ISDIR(before.st_mode)) {
        return Error{name + ": is a directory, not an SQLite database file"};
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (mode == OpenMode::create) flags |= SQLITE_OPEN_CREATE;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Ptr<sqlite3> db(raw);
    if (rc != SQLITE_OK) return Error{name + ": cannot open: " + (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc))};
    sqlite3_extended_result_codes(db.get(), 1);
    const auto timeout = busy_timeout.count();
    sqlite3_busy_timeout(db.get(), timeout > INT_MAX ? INT_MAX : static_cast<int>(timeout));
    std::unique_ptr<SqliteConnection> connection(new SqliteConnection(std::move(db), name));
    struct stat opened {};
    if (::stat(path.c_str(), &opened) == 0) {
        connection->m_device = opened.st_dev;
        connection->m_inode = opened.st_ino;
    }
    return connection;
}

Error SqliteConnection::failure(std::string_view doing) const {
    return database_error(*this, std::string(doing) + ": " + sqlite3_errmsg(m_db.get()));
}

Result<Ptr<sqlite3_stmt>> SqliteConnection::prepare(std::string_view sql, const char** tail) {
    sqlite3_stmt* raw = nullptr;
    if (sql.size() > INT_MAX) return database_error(*this, "statement too long");
    const int rc = sqlite3_prepare_v2(m_db.get(), sql.data(), static_cast<int>(sql.size()), &raw, tail);
    Ptr<sqlite3_stmt> statement(raw);
    if (rc != SQLITE_OK) return failure("cannot prepare a statement");
    return statement;
}

Result<void> SqliteConnection::execute(std::string_view sql) {
    while (!sql.empty()) {
        const char* tail = nullptr;
        Result<Ptr<sqlite3_stmt>> statement = prepare(sql, &tail);
        if (!statement) return statement.error();
        sql.remove_prefix(static_cast<std::size_t>(tail - sql.data()));
        if (!*statement) continue; // only whitespace or a comment was left
        int rc = SQLITE_ROW;
        while (rc == SQLITE_ROW)
            rc = sqlite3_step(statement->get());
        if (rc != SQLITE_DONE) return failure("statement failed");
    }
    return {};
}

namespace {

// Binds `params` to `statement`'s placeholders as text (or NULL).
int bind_all(sqlite3_stmt* statement, const Params& params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
        const int index = static_cast<int>(i) + 1;
        const int rc = params[i] ? sqlite3_bind_text64(statement, index, params[i]->data(), params[i]->size(),
                                                       SQLITE_TRANSIENT, SQLITE_UTF8)
                                 : sqlite3_bind_null(statement, index);
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

} // namespace

Result<void> SqliteConnection::query(std::string_view sql, const Params& params, const RowCallback& each_row) {
    Result<Ptr<sqlite3_stmt>> statement = prepare(sql);
    if (!statement) return statement.error();
    sqlite3_stmt* raw = statement->get();
    if (bind_all(raw, params) != SQLITE_OK) return failure("cannot bind a parameter");
    const SqliteRow row(raw);
    for (;;) {
        const int rc = sqlite3_step(raw);
        if (rc == SQLITE_DONE) return {};
        if (rc != SQLITE_ROW) return failure("query failed");
        if (Result<void> handled = each_row(row); !handled) return handled;
    }
}

Result<void> SqliteConnection::insert_rows(std::string_view table, const std::vector<std::string_view>& columns,
                                           const RowSource& next_row) {
    std::string sql = "INSERT INTO " + std::string(table) + " (";
    std::string placeholders;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        sql += (i ? ", " : "") + std::string(columns[i]);
        placeholders += i ? ", ?" : "?";
    }
    sql += ") VALUES (" + placeholders + ")";
    Result<Ptr<sqlite3_stmt>> statement = prepare(sql);
    if (!statement) return statement.error();
    sqlite3_stmt* raw = statement->get();
    Params row;
    while (next_row(row)) {
        if (bind_all(raw, row) != SQLITE_OK) return failure("cannot bind a parameter");
        if (sqlite3_step(raw) != SQLITE_DONE) return failure("cannot insert into " + std::string(table));
        sqlite3_reset(raw);
        sqlite3_clear_bindings(raw);
    }
    return {};
}

Result<std::int64_t> SqliteConnection::data_version() {
    std::int64_t version = 0;
    Result<void> read = query("PRAGMA data_version", {}, [&version](const Row& row) -> Result<void> {
        if (std::optional<std::string_view> text = row.text(0)) version = std::stoll(std::string(*text));
        return {};
    });
    if (!read) return read.error();
    return version;
}

} // namespace certauth::directory
