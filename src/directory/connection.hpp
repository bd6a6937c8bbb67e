#pragma once
// One open connection to a database that holds a user directory, SQLite or
// PostgreSQL, behind the few operations the directory needs: statements,
// queries whose rows are handed over one at a time (a million rows never sit
// in memory twice), and bulk inserts. SQL is written once with `?`
// placeholders; the PostgreSQL side numbers them.

#include <certauth/result.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::directory {

enum class Dialect { sqlite, postgresql };

// One row of a query: column values as text (nullopt for NULL), valid until
// the callback returns.
class Row {
  public:
    virtual ~Row() = default;
    virtual std::optional<std::string_view> text(int column) const = 0;
};

using Params = std::vector<std::optional<std::string>>;
using RowCallback = std::function<Result<void>(const Row&)>;
using RowSource = std::function<bool(Params& row)>;

class Connection {
  public:
    virtual ~Connection() = default;
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    virtual Dialect dialect() const noexcept = 0;
    // How messages name the database ("sqlite:/var/lib/users.db").
    virtual const std::string& name() const noexcept = 0;

    // One or more statements without parameters or results.
    virtual Result<void> execute(std::string_view sql) = 0;
    // One statement; `each_row` runs for every row in order. The first error
    // (the database's or the callback's) is returned and ends the query.
    virtual Result<void> query(std::string_view sql, const Params& params, const RowCallback& each_row) = 0;
    // Inserts rows into `table`'s `columns`, in order, while `next_row`
    // fills one (as many values as columns) and returns true: SQLite reuses
    // one prepared statement, PostgreSQL streams them with COPY.
    virtual Result<void> insert_rows(std::string_view table, const std::vector<std::string_view>& columns,
                                     const RowSource& next_row) = 0;
};

// An error naming the database: "NAME: what".
inline Error database_error(const Connection& connection, std::string_view what) {
    return Error{connection.name() + ": " + std::string(what)};
}

} // namespace certauth::directory
