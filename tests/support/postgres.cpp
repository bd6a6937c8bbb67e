#include "support/postgres.hpp"

#include "support/catch.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <pwd.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace certauth::test {
namespace {

// The newest PostgreSQL server binaries Debian installed
// (/usr/lib/postgresql/15/bin on Debian 12).
std::string server_bin() {
    std::string best;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
        if (fs::exists(entry.path() / "bin/initdb") && entry.path().string() > best) best = entry.path().string();
    INFO("no PostgreSQL server under /usr/lib/postgresql (scripts/bootstrap.sh installs postgresql)");
    REQUIRE_FALSE(best.empty());
    return best + "/bin";
}

RunOptions with_timeout(std::chrono::seconds seconds) {
    RunOptions options;
    options.timeout = seconds;
    return options;
}

} // namespace

std::vector<std::string> PostgresCluster::as_postgres(const std::string& program) const {
    if (::geteuid() == 0) return {"runuser", "-u", "postgres", "--", m_bin + "/" + program};
    return {m_bin + "/" + program};
}

PostgresCluster::PostgresCluster() : m_bin(server_bin()), m_data((m_dir.path / "data").string()) {
    if (::geteuid() == 0) {
        const passwd* postgres = ::getpwnam("postgres");
        REQUIRE(postgres != nullptr);
        REQUIRE(::chown(m_dir.path.c_str(), postgres->pw_uid, postgres->pw_gid) == 0);
    }
    // Only the socket's name depends on the port; a port of our own keeps
    // clusters of parallel tests apart in everything else too.
    m_port = 20000 + static_cast<int>(::getpid() % 20000);
    std::vector<std::string> initdb = as_postgres("initdb");
    initdb.insert(initdb.end(), {"-D", m_data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync",
                                 "--no-instructions"});
    const ProcessResult made = run(initdb, with_timeout(std::chrono::seconds(120)));
    INFO("initdb: " << made.out << made.err);
    REQUIRE(made.exit_code == 0);
    start();
}

PostgresCluster::~PostgresCluster() {
    if (m_frozen) signal_server(SIGCONT);
    if (m_running) (void)pg_ctl({"-m", "immediate", "stop"});
}

void PostgresCluster::signal_server(int signal) const {
    std::ifstream pid_file(m_data + "/postmaster.pid");
    pid_t postmaster = 0;
    pid_file >> postmaster;
    if (postmaster <= 0) return;
    std::vector<pid_t> targets{postmaster};
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        const std::size_t after_name = line.rfind(')');
        if (after_name == std::string::npos) continue;
        std::istringstream fields(line.substr(after_name + 1));
        std::string state;
        pid_t parent = 0;
        fields >> state >> parent;
        if (parent == postmaster) targets.push_back(static_cast<pid_t>(std::stol(entry.path().filename().string())));
    }
    for (const pid_t pid : targets)
        (void)::kill(pid, signal);
}

void PostgresCluster::freeze() {
    REQUIRE(m_running);
    signal_server(SIGSTOP);
    m_frozen = true;
}

void PostgresCluster::thaw() {
    signal_server(SIGCONT);
    m_frozen = false;
}

ProcessResult PostgresCluster::pg_ctl(const std::vector<std::string>& arguments) const {
    std::vector<std::string> argv = as_postgres("pg_ctl");
    argv.insert(argv.end(), {"-D", m_data, "-w", "-t", "60"});
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return run(argv, with_timeout(std::chrono::seconds(90)));
}

void PostgresCluster::start() {
    const ProcessResult started =
        pg_ctl({"-l", (m_dir.path / "server.log").string(), "-o",
                "-k " + m_dir.path.string() + " -p " + std::to_string(m_port) +
                    " -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "start"});
    INFO("pg_ctl start: " << started.out << started.err);
    REQUIRE(started.exit_code == 0);
    m_running = true;
}

void PostgresCluster::stop() {
    const ProcessResult stopped = pg_ctl({"-m", "fast", "stop"});
    INFO("pg_ctl stop: " << stopped.out << stopped.err);
    REQUIRE(stopped.exit_code == 0);
    m_running = false;
}

std::string PostgresCluster::uri() const {
    return "postgresql:///postgres?host=" + m_dir.path.string() + "&port=" + std::to_string(m_port) + "&user=postgres";
}

std::string PostgresCluster::keywords_for(const std::string& role) const {
    return "host='" + m_dir.path.string() + "' port=" + std::to_string(m_port) + " dbname=postgres user=" + role;
}

} // namespace certauth::test
