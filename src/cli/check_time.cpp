#include "cli/check_time.hpp"

namespace certauth::cli {
namespace {

using namespace std::chrono;

// A cursor over the text; each read consumes on success only.
class Reader {
  public:
    explicit Reader(std::string_view text) : m_text(text) {}

    bool done() const { return m_pos == m_text.size(); }
    bool peek(char c) const { return m_pos < m_text.size() && m_text[m_pos] == c; }
    bool take(char c) {
        if (!peek(c)) return false;
        ++m_pos;
        return true;
    }
    bool take_any(std::string_view set, char& out) {
        if (m_pos >= m_text.size() || set.find(m_text[m_pos]) == std::string_view::npos) return false;
        out = m_text[m_pos++];
        return true;
    }
    // Exactly `count` decimal digits.
    std::optional<int> digits(std::size_t count) {
        if (m_pos + count > m_text.size()) return std::nullopt;
        int value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const char c = m_text[m_pos + i];
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + (c - '0');
        }
        m_pos += count;
        return value;
    }
    // One or more decimal digits, as a fraction of a second in nanoseconds.
    std::optional<long long> fraction() {
        long long value = 0;
        int used = 0;
        std::size_t start = m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9') {
            if (used < 9) {
                value = value * 10 + (m_text[m_pos] - '0');
                ++used;
            }
            ++m_pos;
        }
        if (m_pos == start) return std::nullopt;
        for (; used < 9; ++used)
            value *= 10;
        return value;
    }

  private:
    std::string_view m_text;
    std::size_t m_pos = 0;
};

// `at` plus `nanos` as a system_clock time; nullopt beyond what it holds
// (nanoseconds: 1677-09-21 .. 2262-04-11), where converting would overflow.
std::optional<system_clock::time_point> clock_time(sys_seconds at, long long nanos) {
    if (at <= ceil<seconds>(system_clock::time_point::min()) || at >= floor<seconds>(system_clock::time_point::max()))
        return std::nullopt;
    return system_clock::time_point{at} + duration_cast<system_clock::duration>(nanoseconds{nanos});
}

std::optional<system_clock::time_point> epoch_seconds(std::string_view text) {
    if (text.empty() || text.size() > 12) return std::nullopt;
    long long value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return clock_time(sys_seconds{seconds{value}}, 0);
}

} // namespace

std::optional<system_clock::time_point> parse_time(std::string_view text, system_clock::time_point now) {
    if (text == "now") return now;
    if (!text.empty() && text.front() == '@') return epoch_seconds(text.substr(1));

    Reader in(text);
    const auto y = in.digits(4);
    if (!y || !in.take('-')) return std::nullopt;
    const auto m = in.digits(2);
    if (!m || !in.take('-')) return std::nullopt;
    const auto d = in.digits(2);
    if (!d) return std::nullopt;
    const year_month_day date{year{*y}, month{static_cast<unsigned>(*m)}, day{static_cast<unsigned>(*d)}};
    if (!date.ok()) return std::nullopt;
    sys_seconds result = sys_days{date}; // seconds: any year fits
    if (in.done()) return clock_time(result, 0);

    char separator = 0;
    if (!in.take_any("Tt ", separator)) return std::nullopt;
    const auto hh = in.digits(2);
    if (!hh || *hh > 23 || !in.take(':')) return std::nullopt;
    const auto mm = in.digits(2);
    if (!mm || *mm > 59) return std::nullopt;
    int ss = 0;
    long long nanos = 0;
    if (in.take(':')) {
        const auto s = in.digits(2);
        if (!s || *s > 60) return std::nullopt;
        ss = *s == 60 ? 59 : *s; // a leap second is the last second of its minute
        if (in.take('.') || in.take(',')) {
            const auto f = in.fraction();
            if (!f) return std::nullopt;
            nanos = *f;
        }
    }
    result += hours{*hh} + minutes{*mm} + seconds{ss};

    char sign = 0;
    if (in.take('Z') || in.take('z')) {
        // UTC
    } else if (in.take_any("+-", sign)) {
        const auto oh = in.digits(2);
        if (!oh || *oh > 23) return std::nullopt;
        int om = 0;
        if (!in.done()) {
            in.take(':');
            const auto o = in.digits(2);
            if (!o || *o > 59) return std::nullopt;
            om = *o;
        }
        const minutes offset = hours{*oh} + minutes{om};
        // 12:00+02:00 is 10:00Z.
        result = sign == '+' ? result - offset : result + offset;
    }
    if (!in.done()) return std::nullopt;
    return clock_time(result, nanos);
}

} // namespace certauth::cli
