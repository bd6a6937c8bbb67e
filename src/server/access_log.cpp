#include <certauth/server/access_log.hpp>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>

#include <unistd.h>

namespace certauth::server {
namespace {

constexpr char k_hex[] = "0123456789ABCDEF";

// Request targets and methods come from the client: anything but printable
// ASCII, and the quote and the backslash, is written as \xHH in the text log
// (nginx's escape). The backslash is always escaped, so the line reads back
// unambiguously, and a target's own percent-encoding shows as it was sent.
void append_text_escaped(std::string& out, std::string_view text) {
    for (unsigned char c : text) {
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('\\');
            out.push_back('x');
            out.push_back(k_hex[c >> 4]);
            out.push_back(k_hex[c & 15]);
        }
    }
}

bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t n = 0;
        if (c < 0x80)
            n = 0;
        else if ((c & 0xE0) == 0xC0 && c >= 0xC2)
            n = 1;
        else if ((c & 0xF0) == 0xE0)
            n = 2;
        else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
            n = 3;
        else
            return false;
        if (i + n >= text.size() && n > 0) return false;
        for (std::size_t k = 1; k <= n; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

void append_json_string(std::string& out, std::string_view text) {
    const bool utf8 = valid_utf8(text);
    out.push_back('"');
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
                // Bytes that are not valid UTF-8 are possible in a target:
                // keep the log valid JSON by escaping them as \u00XX.
                out += "\\u00";
                out.push_back(k_hex[c >> 4]);
                out.push_back(k_hex[c & 15]);
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    out.push_back('"');
}

void append_int(std::string& out, long long value) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    (void)ec;
    out.append(buf, end);
}

// Milliseconds with three decimals, from microseconds.
void append_millis(std::string& out, std::chrono::microseconds latency) {
    long long us = latency.count();
    if (us < 0) us = 0;
    append_int(out, us / 1000);
    out.push_back('.');
    const long long frac = us % 1000;
    out.push_back(static_cast<char>('0' + frac / 100));
    out.push_back(static_cast<char>('0' + frac / 10 % 10));
    out.push_back(static_cast<char>('0' + frac % 10));
}

// Per thread: the formatted second, reused while the second lasts.
void append_time(std::string& out, std::chrono::system_clock::time_point time) {
    thread_local std::time_t cached_second = -1;
    thread_local char cached[24];
    const auto since = time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
    long long millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds).count();
    if (millis < 0) millis = 0;
    const auto second = static_cast<std::time_t>(seconds.count());
    if (second != cached_second) {
        std::tm tm{};
        gmtime_r(&second, &tm);
        std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_second = second;
    }
    out += cached;
    out.push_back('.');
    out.push_back(static_cast<char>('0' + millis / 100));
    out.push_back(static_cast<char>('0' + millis / 10 % 10));
    out.push_back(static_cast<char>('0' + millis % 10));
    out.push_back('Z');
}

std::string_view or_dash(std::string_view text) { return text.empty() ? std::string_view("-") : text; }

} // namespace

std::string format_time(std::chrono::system_clock::time_point time) {
    std::string out;
    append_time(out, time);
    return out;
}

void format_access(const AccessRecord& record, LogFormat format, std::string& out) {
    const std::string_view fingerprint = record.fingerprint.substr(0, k_logged_fingerprint_size);
    if (format == LogFormat::json) {
        out += "{\"time\":\"";
        append_time(out, record.time);
        out += "\",\"peer\":";
        append_json_string(out, record.peer);
        out += ",\"method\":";
        append_json_string(out, record.method);
        out += ",\"path\":";
        append_json_string(out, record.target);
        out += ",\"status\":";
        append_int(out, record.status);
        out += ",\"reason\":";
        append_json_string(out, record.reason);
        out += ",\"cn\":";
        if (record.cn.empty())
            out += "null";
        else
            append_json_string(out, record.cn);
        out += ",\"fingerprint256\":";
        if (fingerprint.empty())
            out += "null";
        else
            append_json_string(out, fingerprint);
        out += ",\"latency_ms\":";
        append_millis(out, record.latency);
        out += record.tls ? ",\"tls\":true" : ",\"tls\":false";
        if (record.forwarded) {
            out += ",\"upstream_status\":";
            if (record.upstream_status == 0)
                out += "null";
            else
                append_int(out, record.upstream_status);
            out += ",\"upstream_latency_ms\":";
            append_millis(out, record.upstream_latency);
        }
        out += "}\n";
        return;
    }
    append_time(out, record.time);
    out.push_back(' ');
    append_text_escaped(out, or_dash(record.peer));
    out += " \"";
    append_text_escaped(out, or_dash(record.method));
    out.push_back(' ');
    append_text_escaped(out, or_dash(record.target));
    out += "\" ";
    append_int(out, record.status);
    out.push_back(' ');
    append_text_escaped(out, or_dash(record.reason));
    out += " cn=";
    append_text_escaped(out, or_dash(record.cn));
    out += " fp=";
    out += or_dash(fingerprint);
    out.push_back(' ');
    append_millis(out, record.latency);
    out += record.tls ? "ms" : "ms plain-http";
    if (record.forwarded) {
        out += " upstream=";
        if (record.upstream_status == 0)
            out += '-';
        else
            append_int(out, record.upstream_status);
        out.push_back(' ');
        append_millis(out, record.upstream_latency);
        out += "ms";
    }
    out += '\n';
}

void AccessLog::write(const AccessRecord& record) const {
    if (m_format == LogFormat::none) return;
    thread_local std::string line;
    line.clear();
    format_access(record, m_format, line);
    std::size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(m_fd, line.data() + done, line.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return; // a closed or full log must not take the server down
        }
        done += static_cast<std::size_t>(n);
    }
}

} // namespace certauth::server
