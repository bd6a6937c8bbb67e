#include <certauth/server/metrics_writer.hpp>

#include "utf8.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace certauth::server {
namespace {

std::string_view type_name(MetricType type) {
    switch (type) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
    }
    return "untyped";
}

// HELP text: backslash and newline escaped.
void append_help(std::string& out, std::string_view text) {
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out.push_back(c);
    }
}

// A label value: backslash, double quote and newline escaped; what is not
// UTF-8 (a certificate's subject may hold any bytes) becomes U+FFFD.
void append_label_value(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = detail::utf8_sequence_length(text, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        const char c = text[i];
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out.append(text.data() + i, n);
        i += n;
    }
}

// Integers as integers (counters, Unix times); other values in the shortest
// form that reads back the same; NaN and the infinities as Prometheus
// spells them.
void append_value(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buffer[32];
    std::to_chars_result result{};
    constexpr double k_exact = 9007199254740992.0; // 2^53
    if (std::trunc(value) == value && std::fabs(value) < k_exact)
        result = std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(value));
    else
        result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

} // namespace

double unix_seconds(std::chrono::system_clock::time_point t) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

void MetricsWriter::family(std::string_view name, std::string_view help, MetricType type) {
    if (std::find(m_families.begin(), m_families.end(), name) != m_families.end())
        throw std::logic_error("metric family " + std::string(name) + " written twice");
    m_families.emplace_back(name);
    m_family = name;
    m_type = type;
    m_out += "# HELP ";
    m_out += name;
    m_out.push_back(' ');
    append_help(m_out, help);
    m_out += "\n# TYPE ";
    m_out += name;
    m_out.push_back(' ');
    m_out += type_name(type);
    m_out.push_back('\n');
}

void MetricsWriter::series(std::string_view suffix, std::span<const Label> labels, const Label* extra, double value) {
    m_out += m_family;
    m_out += suffix;
    if (!labels.empty() || extra != nullptr) {
        m_out.push_back('{');
        bool first = true;
        const auto label = [&](const Label& l) {
            if (!first) m_out.push_back(',');
            first = false;
            m_out += l.name;
            m_out += "=\"";
            append_label_value(m_out, l.value);
            m_out.push_back('"');
        };
        for (const Label& l : labels)
            label(l);
        if (extra != nullptr) label(*extra);
        m_out.push_back('}');
    }
    m_out.push_back(' ');
    append_value(m_out, value);
    m_out.push_back('\n');
}

void MetricsWriter::sample(std::initializer_list<Label> labels, double value) {
    sample(std::span<const Label>(labels.begin(), labels.size()), value);
}

void MetricsWriter::sample(std::span<const Label> labels, double value) {
    if (m_family.empty() || m_type == MetricType::histogram)
        throw std::logic_error("a sample outside a counter or gauge family");
    series("", labels, nullptr, value);
}

void MetricsWriter::sample(double value) { sample(std::span<const Label>(), value); }

void MetricsWriter::histogram(std::span<const Label> labels, std::span<const double> bounds,
                              std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum) {
    if (m_type != MetricType::histogram || bounds.size() != cumulative.size())
        throw std::logic_error("a histogram outside a histogram family, or bounds and counts that differ");
    std::string le;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        le.clear();
        append_value(le, bounds[i]);
        const Label bound{"le", le};
        series("_bucket", labels, &bound, static_cast<double>(cumulative[i]));
    }
    const Label infinity{"le", "+Inf"};
    series("_bucket", labels, &infinity, static_cast<double>(count));
    series("_sum", labels, nullptr, sum);
    series("_count", labels, nullptr, static_cast<double>(count));
}

} // namespace certauth::server
