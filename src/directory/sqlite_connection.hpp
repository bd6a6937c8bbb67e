#pragma once
// A Connection to an SQLite database file (src/directory/connection.hpp).

#include <certauth/directory/directory.hpp>
#include <certauth/directory/handles.hpp>

#include "connection.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <sys/types.h>

namespace certauth::directory {

class SqliteConnection final : public Connection {
  public:
    // Opens `path` (creating it with OpenMode::create), waiting up to
    // `busy_timeout` for another writer's lock before a statement fails.
    static Result<std::unique_ptr<SqliteConnection>> open(const std::string& path, OpenMode mode,
                                                          std::chrono::milliseconds busy_timeout);

    Dialect dialect() const noexcept override { return Dialect::sqlite; }
    const std::string& name() const noexcept override { return m_name; }
    Result<void> execute(std::string_view sql) override;
    Result<void> query(std::string_view sql, const Params& params, const RowCallback& each_row) override;
    Result<void> insert_rows(std::string_view table, const std::vector<std::string_view>& columns,
                             const RowSource& next_row) override;

    // PRAGMA data_version: changes when another connection commits.
    Result<std::int64_t> data_version();
    // The file this connection opened (device and inode), to notice the
    // path being replaced by another file.
    dev_t device() const noexcept { return m_device; }
    ino_t inode() const noexcept { return m_inode; }

  private:
    SqliteConnection(Ptr<sqlite3> db, std::string name) : m_db(std::move(db)), m_name(std::move(name)) {}
    Result<Ptr<sqlite3_stmt>> prepare(std::string_view sql, const char** tail = nullptr);
    Error failure(std::string_view doing) const;

    Ptr<sqlite3> m_db;
    std::string m_name;
    dev_t m_device = 0;
    ino_t m_inode = 0;
};

} // namespace certauth::directory
