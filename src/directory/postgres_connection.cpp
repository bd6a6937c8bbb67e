#include "postgres_connection.hpp"

#include <certauth/directory/location.hpp>

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

#include <poll.h>

namespace certauth::directory {
namespace {

using Clock = std::chrono::steady_clock;

// libpq's messages span lines ("...failed: No such file or directory\n\tIs
// the server running locally...?\n"): one line for ours.
std::string one_line(const char* message) {
    std::string out;
    for (const char* p = message; p != nullptr && *p != '\0'; ++p) {
        if (*p == '\n') {
            while (p[1] == '\t' || p[1] == ' ')
                ++p;
            if (p[1] != '\0') out += "; ";
        } else {
            out += *p;
        }
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == ';'))
        out.pop_back();
    return out;
}

// "SELECT ... WHERE a = ? AND b = ?" -> "... a = $1 AND b = $2" (no
// placeholder ever sits inside a quoted literal in our statements).
std::string numbered(std::string_view sql) {
    std::string out;
    int n = 0;
    bool quoted = false;
    for (char c : sql) {
        if (c == '\'') quoted = !quoted;
        if (c == '?' && !quoted)
            out += "$" + std::to_string(++n);
        else
            out += c;
    }
    return out;
}

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

// COPY's text format: \N for NULL, backslash escapes for the separators.
void append_copy_field(std::string& out, const std::optional<std::string>& value) {
    if (!value) {
        out += "\\N";
        return;
    }
    for (char c : *value) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
        }
    }
}

class PostgresRow final : public Row {
  public:
    explicit PostgresRow(const PGresult* result) : m_result(result) {}
    std::optional<std::string_view> text(int column) const override {
        if (PQgetisnull(m_result, 0, column)) return std::nullopt;
        return std::string_view(PQgetvalue(m_result, 0, column),
                                static_cast<std::size_t>(PQgetlength(m_result, 0, column)));
    }

  private:
    const PGresult* m_result;
};

} // namespace

Result<std::unique_ptr<PostgresConnection>>
PostgresConnection::connect(const std::string& uri, std::string name, std::chrono::milliseconds timeout, int wake_fd) {
    // Ours first: the URI's own parameters, expanded from dbname, win.
    const std::array<const char*, 4> keywords{"client_encoding", "application_name", "dbname", nullptr};
    const std::array<const char*, 4> values{"UTF8", "certauth", uri.c_str(), nullptr};
    Ptr<PGconn> connection(PQconnectStartParams(keywords.data(), values.data(), 1));
    if (!connection) return Error{name + ": cannot connect: out of memory"};
    const Clock::time_point deadline = Clock::now() + timeout;
    PostgresPollingStatusType status = PGRES_POLLING_WRITING;
    while (status != PGRES_POLLING_OK) {
        if (status == PGRES_POLLING_FAILED || PQstatus(connection.get()) == CONNECTION_BAD)
            return Error{name +
                         ": cannot connect: " + without_secrets(one_line(PQerrorMessage(connection.get())), uri)};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return Error{name + ": cannot connect: no answer within " +
                         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s"};
        std::array<pollfd, 2> fds{};
        fds[0].fd = PQsocket(connection.get());
        fds[0].events = static_cast<short>(status == PGRES_POLLING_READING ? POLLIN : POLLOUT);
        fds[1].fd = wake_fd;
        fds[1].events = POLLIN;
        const int ready =
            ::poll(fds.data(), wake_fd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left.count(), INT_MAX)));
        if (ready < 0 && errno != EINTR) return Error{name + ": cannot connect: poll: " + std::strerror(errno)};
        if (wake_fd >= 0 && (fds[1].revents & POLLIN) != 0) return Error{name + ": connecting given up"};
        if (ready > 0) status = PQconnectPoll(connection.get());
    }
    PQsetNoticeProcessor(connection.get(), ignore_notice, nullptr);
    return std::unique_ptr<PostgresConnection>(new PostgresConnection(std::move(connection), std::move(name)));
}

int PostgresConnection::socket() const noexcept { return PQsocket(m_connection.get()); }

bool PostgresConnection::connected() const noexcept {
    return !m_abandoned && PQstatus(m_connection.get()) == CONNECTION_OK;
}

Error PostgresConnection::failure(std::string_view doing) const {
    return database_error(*this, std::string(doing) + ": " + one_line(PQerrorMessage(m_connection.get())));
}

Error PostgresConnection::failure(std::string_view doing, const PGresult* result) const {
    const char* message = result ? PQresultErrorMessage(result) : "";
    if (message == nullptr || *message == '\0') return failure(doing);
    return database_error(*this, std::string(doing) + ": " + one_line(message));
}

Result<void> PostgresConnection::await_result(std::string_view doing) {
    if (m_silence.count() <= 0) return {}; // PQgetResult blocks
    int flushing = PQflush(m_connection.get());
    while (flushing != 0 || PQisBusy(m_connection.get()) != 0) {
        if (flushing < 0) return failure(doing);
        std::array<pollfd, 2> fds{};
        fds[0] = pollfd{socket(), static_cast<short>(POLLIN | (flushing == 1 ? POLLOUT : 0)), 0};
        fds[1] = pollfd{m_wake_fd, POLLIN, 0};
        const int ready = ::poll(fds.data(), m_wake_fd >= 0 ? 2 : 1,
                                 static_cast<int>(std::min<long long>(m_silence.count(), INT_MAX)));
        if (ready < 0 && errno != EINTR)
            return database_error(*this, std::string(doing) + ": poll: " + std::strerror(errno));
        if (ready < 0) continue;
        // Either way the statement is still under way on the connection:
        // it cannot carry another one, so it counts as lost (connected()).
        if (m_wake_fd >= 0 && (fds[1].revents & POLLIN) != 0) {
            m_abandoned = true;
            return database_error(*this, std::string(doing) + ": given up");
        }
        if (ready == 0) {
            m_abandoned = true;
            return database_error(*this, std::string(doing) + ": no answer from the server within " +
                                             std::to_string(m_silence.count()) + " ms");
        }
        if ((fds[0].revents & POLLOUT) != 0) flushing = PQflush(m_connection.get());
        if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0 && PQconsumeInput(m_connection.get()) == 0)
            return failure(doing);
    }
    return {};
}

Result<void> PostgresConnection::drain_results(std::string_view doing,
                                               const std::function<void(const PGresult*)>& each_result) {
    while (true) {
        if (Result<void> ready = await_result(doing); !ready) return ready;
        const Ptr<PGresult> result(PQgetResult(m_connection.get()));
        if (!result) return {};
        each_result(result.get());
    }
}

Result<void> PostgresConnection::execute(std::string_view sql) {
    if (PQsendQuery(m_connection.get(), std::string(sql).c_str()) == 0) return failure("statement failed");
    Result<void> outcome;
    Result<void> drained = drain_results("statement failed", [&](const PGresult* result) {
        const ExecStatusType status = PQresultStatus(result);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && outcome)
            outcome = failure("statement failed", result);
    });
    return drained ? outcome : drained;
}

Result<void> PostgresConnection::query(std::string_view sql, const Params& params, const RowCallback& each_row) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::optional<std::string>& param : params)
        values.push_back(param ? param->c_str() : nullptr);
    if (PQsendQueryParams(m_connection.get(), numbered(sql).c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0) == 0)
        return failure("query failed");
    PQsetSingleRowMode(m_connection.get());
    Result<void> outcome;
    bool failed = false; // the first failure is kept; later rows are skipped
    Result<void> drained = drain_results("query failed", [&](const PGresult* result) {
        if (failed) return;
        const ExecStatusType status = PQresultStatus(result);
        if (status == PGRES_SINGLE_TUPLE) {
            if (Result<void> handled = each_row(PostgresRow(result)); !handled) {
                outcome = handled;
                failed = true;
            }
        } else if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            outcome = failure("query failed", result);
            failed = true;
        }
    });
    if (!drained) return drained;
    if (!failed && !connected()) return failure("query failed");
    return outcome;
}

Result<void> PostgresConnection::insert_rows(std::string_view table, const std::vector<std::string_view>& columns,
                                             const RowSource& next_row) {
    std::string sql = "COPY " + std::string(table) + " (";
    for (std::size_t i = 0; i < columns.size(); ++i)
        sql += (i ? ", " : "") + std::string(columns[i]);
    sql += ") FROM STDIN";
    {
        const Ptr<PGresult> started(PQexec(m_connection.get(), sql.c_str()));
        if (PQresultStatus(started.get()) != PGRES_COPY_IN)
            return failure("cannot insert into " + std::string(table), started.get());
    }
    std::string buffer;
    auto flush = [&]() {
        const bool sent = PQputCopyData(m_connection.get(), buffer.data(), static_cast<int>(buffer.size())) == 1;
        buffer.clear();
        return sent;
    };
    Params row;
    bool sent = true;
    while (sent && next_row(row)) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i) buffer += '\t';
            append_copy_field(buffer, row[i]);
        }
        buffer += '\n';
        if (buffer.size() >= 256 * 1024) sent = flush();
    }
    if (sent && !buffer.empty()) sent = flush();
    const std::string doing = "cannot insert into " + std::string(table);
    if (!sent || PQputCopyEnd(m_connection.get(), nullptr) != 1) return failure(doing);
    Result<void> outcome;
    Result<void> drained = drain_results(doing, [&](const PGresult* result) {
        if (PQresultStatus(result) != PGRES_COMMAND_OK && outcome) outcome = failure(doing, result);
    });
    return drained ? outcome : drained;
}

Result<void> PostgresConnection::consume_input() {
    if (PQconsumeInput(m_connection.get()) == 0 || !connected()) return failure("connection lost");
    return {};
}

std::size_t PostgresConnection::take_notifications() {
    std::size_t count = 0;
    while (const Ptr<PGnotify> notification{PQnotifies(m_connection.get())})
        ++count;
    return count;
}

} // namespace certauth::directory
