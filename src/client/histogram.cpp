#include <certauth/client/histogram.hpp>

#include <algorithm>
#include <bit>
#include <cmath>

namespace certauth::client {

std::size_t Histogram::bucket_of(std::uint64_t micros) noexcept {
    if (micros < k_linear) return static_cast<std::size_t>(micros);
    micros = std::min<std::uint64_t>(micros, (std::uint64_t{1} << k_max_bits) - 1);
    const unsigned msb = static_cast<unsigned>(std::bit_width(micros)) - 1; // >= k_sub_bits + 1
    const unsigned shift = msb - k_sub_bits;
    return (static_cast<std::size_t>(shift) << k_sub_bits) + static_cast<std::size_t>(micros >> shift);
}

std::uint64_t Histogram::bucket_low(std::size_t index) noexcept {
    if (index < k_linear) return index;
    const std::size_t shift = (index >> k_sub_bits) - 1;
    const std::uint64_t sub = index - (shift << k_sub_bits);
    return sub << shift;
}

std::uint64_t Histogram::bucket_high(std::size_t index) noexcept {
    if (index < k_linear) return index;
    const std::size_t shift = (index >> k_sub_bits) - 1;
    return bucket_low(index) + (std::uint64_t{1} << shift) - 1;
}

void Histogram::record(std::uint64_t micros) noexcept {
    ++m_counts[bucket_of(micros)];
    ++m_count;
    m_sum += micros;
    m_min = std::min(m_min, micros);
    m_max = std::max(m_max, micros);
}

void Histogram::merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i < k_buckets; ++i)
        m_counts[i] += other.m_counts[i];
    m_count += other.m_count;
    m_sum += other.m_sum;
    m_min = std::min(m_min, other.m_min);
    m_max = std::max(m_max, other.m_max);
}

std::uint64_t Histogram::percentile(double p) const noexcept {
    if (m_count == 0) return 0;
    p = std::clamp(p, 0.0, 100.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(m_count)));
    rank = std::clamp<std::uint64_t>(rank, 1, m_count);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < k_buckets; ++i) {
        seen += m_counts[i];
        if (seen >= rank) return std::clamp(bucket_high(i), min(), m_max);
    }
    return m_max;
}

} // namespace certauth::client
