#pragma once
// The access log: one line per request on standard output, as text or JSON
// (docs/serve.md: time, peer address, method, path, status, reason, CN,
// fingerprint256 prefix, latency). Each line goes out in one write(2), so
// lines from several threads never interleave and no lock is taken.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace certauth::server {

enum class LogFormat { text, json, none };

// How much of the fingerprint256 a line shows: its first 8 bytes,
// colon-separated ("F8:38:B2:63:B4:88:B6:CA").
constexpr std::size_t k_logged_fingerprint_size = 23;

struct AccessRecord {
    std::chrono::system_clock::time_point time; // when the request was answered
    std::string_view peer;                      // "127.0.0.1:50412", "[::1]:50412"
    std::string_view method;                    // "-" when the request did not parse
    std::string_view target;                    // as sent; "-" when the request did not parse
    int status = 0;
    std::string_view reason;      // "ok", "unknown_user", ... or "-"
    std::string_view cn;          // "" without a verified certificate
    std::string_view fingerprint; // fingerprint256, whole or its first k_logged_fingerprint_size characters
    std::chrono::microseconds latency{0};
    bool tls = true; // false for plain HTTP sent to the TLS port
    // Forwarded requests (--upstream): the application's status (0 when it
    // gave none: refused, reset, timed out) and the time from connecting (or
    // taking a kept-alive connection) to its response header.
    bool forwarded = false;
    int upstream_status = 0;
    std::chrono::microseconds upstream_latency{0};
};

// Appends one line (with '\n') to `out`:
// text: 2024-05-01T12:00:00.123Z 127.0.0.1:50412 "GET /admin" 200 ok cn=joe fp=F8:38:B2:63:B4:88:B6:CA 0.412ms
//       (forwarded: ... 0.412ms upstream=200 0.301ms)
// json: {"time":"...","peer":"...","method":"GET","path":"/admin","status":200,"reason":"ok","cn":"joe",
//        "fingerprint256":"F8:38:B2:63:B4:88:B6:CA","latency_ms":0.412,"tls":true}
//       (forwarded: ...,"tls":true,"upstream_status":200,"upstream_latency_ms":0.301})
void format_access(const AccessRecord& record, LogFormat format, std::string& out);

// RFC 3339 UTC with milliseconds: "2024-05-01T12:00:00.123Z".
std::string format_time(std::chrono::system_clock::time_point time);

class AccessLog {
  public:
    explicit AccessLog(LogFormat format, int fd = 1) : m_format(format), m_fd(fd) {}
    LogFormat format() const noexcept { return m_format; }
    bool enabled() const noexcept { return m_format != LogFormat::none; }
    // Formats into a per-thread buffer and writes the line with one write(2).
    void write(const AccessRecord& record) const;

  private:
    LogFormat m_format;
    int m_fd;
};

} // namespace certauth::server
