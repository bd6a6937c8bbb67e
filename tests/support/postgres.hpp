#pragma once
// A throwaway PostgreSQL cluster for one test: initdb into a temporary
// folder, a server that listens only on a unix socket in that folder (no TCP
// port), stopped and removed with the object, even when the test fails.
// initdb refuses root: as root, it and pg_ctl run as the postgres user.

#include "support/files.hpp"
#include "support/process.hpp"

#include <string>
#include <vector>

namespace certauth::test {

class PostgresCluster {
  public:
    PostgresCluster(); // initdb and start; REQUIREs that both work
    ~PostgresCluster();
    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;

    // postgresql:///postgres?host=SOCKET_DIR&port=PORT&user=postgres
    std::string uri() const;
    // The same server as libpq's keyword/value form, for another role:
    // "host=SOCKET_DIR port=PORT dbname=postgres user=ROLE".
    std::string keywords_for(const std::string& role) const;
    // pg_ctl stop -m fast / start -w: the server goes away and comes back
    // with the same data and socket.
    void stop();
    void start();
    // SIGSTOP to the server and every process it started, or SIGCONT: a
    // server that stops answering with its connections open (a frozen
    // host, a partition). The destructor thaws it before it stops it.
    void freeze();
    void thaw();

  private:
    ProcessResult pg_ctl(const std::vector<std::string>& arguments) const;
    void signal_server(int signal) const;
    std::vector<std::string> as_postgres(const std::string& program) const;

    TempDir m_dir;
    std::string m_bin;
    std::string m_data;
    int m_port = 0;
    bool m_running = false;
    bool m_frozen = false;
};

} // namespace certauth::test
