#pragma once
// A Connection to a PostgreSQL database (src/directory/connection.hpp)
// through libpq, plus what following changes needs: the socket to wait on,
// LISTEN notifications, and whether the connection still stands.

#include <certauth/directory/handles.hpp>

#include "connection.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace certauth::directory {

class PostgresConnection final : public Connection {
  public:
    // Connects to `uri` (a libpq URI; the password from it, PGPASSFILE or
    // ~/.pgpass) within `timeout`. When `wake_fd` >= 0 becomes readable the
    // attempt is given up. `name` names the database in messages.
    static Result<std::unique_ptr<PostgresConnection>> connect(const std::string& uri, std::string name,
                                                               std::chrono::milliseconds timeout, int wake_fd = -1);

    Dialect dialect() const noexcept override { return Dialect::postgresql; }
    const std::string& name() const noexcept override { return m_name; }
    Result<void> execute(std::string_view sql) override;
    Result<void> query(std::string_view sql, const Params& params, const RowCallback& each_row) override;
    Result<void> insert_rows(std::string_view table, const std::vector<std::string_view>& columns,
                             const RowSource& next_row) override;

    // From now on a statement fails ("no answer ...") when the server sends
    // nothing for `silence` while it is awaited, and ("given up") when
    // `wake_fd` becomes readable: a server that stopped answering (a
    // partition, a frozen host) is noticed, and the waiting thread can be
    // stopped. Without it a statement waits as long as the kernel's TCP
    // timeouts (minutes). After such a failure the connection is not
    // connected() any more.
    void bound_waits(std::chrono::milliseconds silence, int wake_fd) noexcept {
        m_silence = silence;
        m_wake_fd = wake_fd;
    }

    int socket() const noexcept;
    bool connected() const noexcept;
    // Reads what the server has sent (call when the socket is readable);
    // an error when the connection is gone.
    Result<void> consume_input();
    // Removes the notifications received so far; how many there were.
    std::size_t take_notifications();

  private:
    PostgresConnection(Ptr<PGconn> connection, std::string name)
        : m_connection(std::move(connection)), m_name(std::move(name)) {}
    Error failure(std::string_view doing) const;
    Error failure(std::string_view doing, const PGresult* result) const;
    // Waits (bound_waits) until PQgetResult would not block.
    Result<void> await_result(std::string_view doing);
    // Reads every result of the statement sent last, even after an error,
    // so that the connection is ready for the next statement, each to
    // `each_result`. An error only when the connection fails meanwhile.
    Result<void> drain_results(std::string_view doing, const std::function<void(const PGresult*)>& each_result);

    Ptr<PGconn> m_connection;
    std::string m_name;
    std::chrono::milliseconds m_silence{0}; // 0: unbounded
    int m_wake_fd = -1;
    bool m_abandoned = false; // a statement given up while under way
};

} // namespace certauth::directory
