#include "process_metrics.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include <sys/resource.h>
#include <unistd.h>

namespace certauth::server::detail {
namespace {

double seconds_of(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }
double seconds_of(const timespec& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9; }

// /proc/self/statm: sizes in pages (total program size, resident).
std::optional<std::pair<double, double>> memory_bytes() {
    std::ifstream statm("/proc/self/statm");
    unsigned long long size = 0;
    unsigned long long resident = 0;
    if (!(statm >> size >> resident)) return std::nullopt;
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return std::nullopt;
    return std::pair{static_cast<double>(size) * static_cast<double>(page),
                     static_cast<double>(resident) * static_cast<double>(page)};
}

std::optional<double> open_descriptors() {
    std::error_code ec;
    std::filesystem::directory_iterator it("/proc/self/fd", ec);
    if (ec) return std::nullopt;
    double n = 0;
    for (const auto end = std::filesystem::directory_iterator(); it != end; it.increment(ec)) {
        if (ec) return std::nullopt;
        ++n;
    }
    return n - 1; // the iterator's own descriptor
}

// The process's start: its start time since boot (/proc/self/stat field 22,
// in clock ticks) placed on the wall clock through CLOCK_BOOTTIME, without
// /proc/stat (hidden by ProcSubset=pid).
std::optional<double> start_time_seconds() {
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (!std::getline(stat, line)) return std::nullopt;
    // The command name (field 2) is in parentheses and may hold spaces.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(line.substr(close + 1));
    std::string skipped;
    for (int field = 3; field < 22; ++field)
        if (!(fields >> skipped)) return std::nullopt;
    unsigned long long start_ticks = 0;
    if (!(fields >> start_ticks)) return std::nullopt;
    const long ticks = sysconf(_SC_CLK_TCK);
    timespec boot{};
    timespec real{};
    if (ticks <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0 || clock_gettime(CLOCK_REALTIME, &real) != 0)
        return std::nullopt;
    const double since_boot = static_cast<double>(start_ticks) / static_cast<double>(ticks);
    return seconds_of(real) - (seconds_of(boot) - since_boot);
}

} // namespace

void write_process_metrics(MetricsWriter& out) {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0) {
        out.family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds", MetricType::counter);
        out.sample(seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime));
    }
    if (const auto fds = open_descriptors()) {
        out.family("process_open_fds", "Number of open file descriptors", MetricType::gauge);
        out.sample(*fds);
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        out.family("process_max_fds", "Maximum number of open file descriptors", MetricType::gauge);
        out.sample(static_cast<double>(limit.rlim_cur));
    }
    if (const auto memory = memory_bytes()) {
        out.family("process_virtual_memory_bytes", "Virtual memory size in bytes", MetricType::gauge);
        out.sample(memory->first);
        out.family("process_resident_memory_bytes", "Resident memory size in bytes", MetricType::gauge);
        out.sample(memory->second);
    }
    if (const auto start = start_time_seconds()) {
        out.family("process_start_time_seconds", "Start time of the process since unix epoch in seconds",
                   MetricType::gauge);
        out.sample(*start);
    }
}

} // namespace certauth::server::detail
