#pragma once
// Running real processes from tests: the certauth binary, openssl, curl, node.
// Every wait is bounded; a ChildProcess still running when destroyed is
// stopped (SIGTERM, then SIGKILL).

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace certauth::test {

// The repository root and the built certauth executable.
std::string source_dir();
std::string source_path(const std::string& relative); // source_dir() + "/" + relative
std::string certauth_binary();

struct RunOptions {
    std::string input;                        // written to standard input, then closed
    std::string cwd;                          // "" = inherit
    std::vector<std::string> env;             // extra NAME=value entries
    std::chrono::milliseconds timeout{60000}; // killed after this
    // (set fields one by one: designated initializers trip -Wmissing-field-initializers)
};

struct ProcessResult {
    int exit_code = -1; // -1 when killed by a signal or timed out
    bool timed_out = false;
    std::string out;
    std::string err;
};

// Runs argv[0] (searched in PATH) to completion.
ProcessResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// A process running in the background (e.g. `certauth serve`), its stdout and
// stderr collected by a reader thread.
class ChildProcess {
  public:
    ChildProcess(const std::vector<std::string>& argv, const RunOptions& options = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const noexcept { return m_pid; }

    // Waits until the combined output holds a line matching `pattern` (from
    // `from_offset` on) and returns that line's match; nullopt on timeout or
    // when the process exits first.
    std::optional<std::smatch> wait_for_line(const std::regex& pattern, std::chrono::milliseconds timeout,
                                             std::size_t from_offset = 0);
    // Combined stdout+stderr so far.
    std::string output() const;
    std::size_t output_size() const;

    void signal(int sig);
    // Waits for exit; the exit code, or nullopt on timeout (-1 for a signal).
    std::optional<int> wait(std::chrono::milliseconds timeout);
    bool running();

  private:
    void read_loop(int out_fd, int err_fd);

    pid_t m_pid = -1;
    std::optional<int> m_status;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::string m_output;
    bool m_eof = false;
    std::thread m_reader;
};

} // namespace certauth::test
