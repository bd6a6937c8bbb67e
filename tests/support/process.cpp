#include "support/process.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace certauth::test {
namespace {

using Steady = std::chrono::steady_clock;

struct Pipe {
    int read = -1;
    int write = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        read = fds[0];
        write = fds[1];
    }
};

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// Spawns argv with stdin/stdout/stderr on the given pipe ends.
pid_t spawn(const std::vector<std::string>& argv, const RunOptions& options, Pipe& in, Pipe& out, Pipe& err) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.read, 0);
    posix_spawn_file_actions_adddup2(&actions, out.write, 1);
    posix_spawn_file_actions_adddup2(&actions, err.write, 2);
    if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e)
        env_storage.emplace_back(*e);
    for (const auto& e : options.env)
        env_storage.push_back(e);
    std::vector<char*> env;
    for (auto& e : env_storage)
        env.push_back(e.data());
    env.push_back(nullptr);

    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawnp " + argv.at(0));
    return pid;
}

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

} // namespace

std::string source_dir() { return CERTAUTH_SOURCE_DIR; }
std::string source_path(const std::string& relative) { return source_dir() + "/" + relative; }
// CERTAUTH_TEST_BINARY, when set, names another build of certauth to run
// (scripts/tsan.sh runs these tests against its ThreadSanitizer build).
std::string certauth_binary() {
    const char* other = std::getenv("CERTAUTH_TEST_BINARY");
    return other != nullptr && *other != '\0' ? std::string(other) : std::string(CERTAUTH_BINARY);
}

ProcessResult run(const std::vector<std::string>& argv, const RunOptions& options) {
    Pipe in, out, err;
    const pid_t pid = spawn(argv, options, in, out, err);
    close_fd(in.read);
    close_fd(out.write);
    close_fd(err.write);

    ProcessResult result;
    std::size_t written = 0;
    if (options.input.empty())
        close_fd(in.write);
    else
        ::fcntl(in.write, F_SETFL, O_NONBLOCK);

    const auto deadline = Steady::now() + options.timeout;
    while (out.read >= 0 || err.read >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
        if (left.count() <= 0) {
            result.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        std::array<pollfd, 3> fds{{{out.read, POLLIN, 0}, {err.read, POLLIN, 0}, {in.write, POLLOUT, 0}}};
        ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(left.count(), 100)));
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0)
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            else
                close_fd(i == 0 ? out.read : err.read);
        }
        if (in.write >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t n = ::write(in.write, options.input.data() + written, options.input.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n < 0 || written == options.input.size()) close_fd(in.write);
        }
    }
    close_fd(in.write);
    close_fd(out.read);
    close_fd(err.read);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = result.timed_out ? -1 : decode_status(status);
    return result;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const RunOptions& options) {
    Pipe in, out, err;
    m_pid = spawn(argv, options, in, out, err);
    close_fd(in.read);
    close_fd(in.write);
    close_fd(out.write);
    close_fd(err.write);
    m_reader = std::thread([this, o = out.read, e = err.read] { read_loop(o, e); });
}

ChildProcess::~ChildProcess() {
    if (running()) {
        signal(SIGTERM);
        if (!wait(std::chrono::seconds(5))) {
            signal(SIGKILL);
            wait(std::chrono::seconds(5));
        }
    }
    if (m_reader.joinable()) m_reader.join();
}

void ChildProcess::read_loop(int out_fd, int err_fd) {
    std::array<int, 2> fds{out_fd, err_fd};
    while (fds[0] >= 0 || fds[1] >= 0) {
        std::array<pollfd, 2> p{{{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}}};
        if (::poll(p.data(), p.size(), 200) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[16384];
            const ssize_t n = ::read(fds[i], buf, sizeof buf);
            if (n > 0) {
                std::lock_guard lock(m_mutex);
                m_output.append(buf, static_cast<std::size_t>(n));
            } else {
                close_fd(fds[i]);
            }
            m_changed.notify_all();
        }
    }
    std::lock_guard lock(m_mutex);
    m_eof = true;
    m_changed.notify_all();
}

std::optional<std::smatch> ChildProcess::wait_for_line(const std::regex& pattern, std::chrono::milliseconds timeout,
                                                       std::size_t from_offset) {
    const auto deadline = Steady::now() + timeout;
    std::unique_lock lock(m_mutex);
    std::size_t scanned = from_offset;
    static thread_local std::string line_storage;
    for (;;) {
        // Scan complete lines not yet scanned.
        while (scanned < m_output.size()) {
            const auto end = m_output.find('\n', scanned);
            if (end == std::string::npos) break;
            line_storage = m_output.substr(scanned, end - scanned);
            scanned = end + 1;
            std::smatch m;
            if (std::regex_search(line_storage, m, pattern)) return m;
        }
        if (m_eof) return std::nullopt;
        if (m_changed.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
    }
}

std::string ChildProcess::output() const {
    std::lock_guard lock(m_mutex);
    return m_output;
}

std::size_t ChildProcess::output_size() const {
    std::lock_guard lock(m_mutex);
    return m_output.size();
}

void ChildProcess::signal(int sig) {
    if (!m_status) ::kill(m_pid, sig);
}

bool ChildProcess::running() {
    if (m_status) return false;
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_status = decode_status(status);
        return false;
    }
    return true;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
    const auto deadline = Steady::now() + timeout;
    while (running()) {
        if (Steady::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Exited: the reader thread may not have read the pipes' last bytes yet;
    // let it reach their end, so that output() is complete after wait().
    std::unique_lock lock(m_mutex);
    m_changed.wait_until(lock, std::max(deadline, Steady::now() + std::chrono::seconds(2)), [this] { return m_eof; });
    return m_status;
}

} // namespace certauth::test
