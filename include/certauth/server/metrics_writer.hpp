#pragma once
// The Prometheus text exposition format, version 0.0.4, as serve's /metrics
// writes it (serve --status): a # HELP and a # TYPE line per family, then
// its samples; label values and help texts escaped (backslash, double
// quote, newline), label values made valid UTF-8; a histogram as
// NAME_bucket{le="..."} (cumulative, ending with le="+Inf"), NAME_sum and
// NAME_count. Also the extension point for parts of certauth outside the
// server that have numbers and state to show (StatusSource).

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace certauth::server {

// A time as Prometheus gauges give it (NAME_timestamp_seconds): whole
// seconds since the Unix epoch.
double unix_seconds(std::chrono::system_clock::time_point t);

// The content type of what MetricsWriter writes.
inline constexpr std::string_view k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { counter, gauge, histogram };

struct Label {
    std::string_view name; // [a-zA-Z_][a-zA-Z0-9_]*
    std::string_view value;
};

class MetricsWriter {
  public:
    // Begins a family. `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*, a counter's
    // ends in _total; `help` says what it counts, in words. A name may
    // begin one family only (std::logic_error otherwise: a broken invariant).
    void family(std::string_view name, std::string_view help, MetricType type);

    // One sample of the current counter or gauge family; every sample of a
    // family has a different label set.
    void sample(std::initializer_list<Label> labels, double value);
    void sample(std::span<const Label> labels, double value);
    void sample(double value);

    // One histogram of the current histogram family: `bounds` ascending
    // upper bounds (inclusive, without +Inf), `cumulative[i]` how many
    // observations were <= bounds[i], `count` all of them, `sum` their sum.
    void histogram(std::span<const Label> labels, std::span<const double> bounds,
                   std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum);

    const std::string& text() const noexcept { return m_out; }

  private:
    void series(std::string_view suffix, std::span<const Label> labels, const Label* extra, double value);

    std::string m_out;
    std::string m_family;
    MetricType m_type = MetricType::gauge;
    std::vector<std::string> m_families;
};

// What a part of certauth beyond the server core contributes to the
// status listener: metrics on every scrape of /metrics, and a section of
// /status. The user directory's sync state (how fresh the snapshot is,
// since when it is stale) is one: the CLI, which knows both, registers it
// with ServerOptions::status_sources. Called on the status listener's
// thread; must be thread-safe against whatever updates it.
class StatusSource {
  public:
    virtual ~StatusSource() = default;
    // Families of its own (a prefix such as certauth_directory_).
    virtual void write_metrics(MetricsWriter& out) const = 0;
    // Adds its keys to the /status object (one key of its own, such as "directory").
    virtual void write_status(nlohmann::ordered_json& status) const = 0;

  protected:
    StatusSource() = default;
    StatusSource(const StatusSource&) = default;
    StatusSource& operator=(const StatusSource&) = default;
};

} // namespace certauth::server
