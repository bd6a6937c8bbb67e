#pragma once
// Histogram: latencies in microseconds in log-linear buckets (HdrHistogram's
// layout): exact below 128 µs, then 64 buckets per power of two, so every
// recorded value is known to within 1/64 (1.6 %) and a percentile is a walk
// over a few thousand counters. Recording is one shift and one increment:
// cheap enough for every request of a load run. One per thread, merged at the
// end.

#include <array>
#include <cstdint>

namespace certauth::client {

class Histogram {
  public:
    // Values up to 2^40 µs (12 days) are bucketed; larger ones land in the
    // last bucket (max() still holds them exactly).
    void record(std::uint64_t micros) noexcept;
    void merge(const Histogram& other) noexcept;

    std::uint64_t count() const noexcept { return m_count; }
    std::uint64_t min() const noexcept { return m_count ? m_min : 0; }
    std::uint64_t max() const noexcept { return m_max; }
    double mean() const noexcept { return m_count ? static_cast<double>(m_sum) / static_cast<double>(m_count) : 0.0; }

    // The value at percentile `p` (0..100]: the highest value equivalent to
    // the bucket holding the ceil(p/100 * count)-th smallest recording,
    // clamped to [min, max]. 0 when empty.
    std::uint64_t percentile(double p) const noexcept;

    // Bucket layout (exposed for tests).
    static constexpr unsigned k_sub_bits = 6;                   // 64 buckets per power of two
    static constexpr std::uint64_t k_linear = 2u << k_sub_bits; // exact below 128
    static constexpr unsigned k_max_bits = 40;
    static constexpr std::size_t k_buckets = (k_max_bits - k_sub_bits - 1) * (1u << k_sub_bits) + k_linear;
    static std::size_t bucket_of(std::uint64_t micros) noexcept;
    static std::uint64_t bucket_low(std::size_t index) noexcept;  // lowest value of the bucket
    static std::uint64_t bucket_high(std::size_t index) noexcept; // highest value of the bucket

  private:
    std::array<std::uint64_t, k_buckets> m_counts{};
    std::uint64_t m_count = 0;
    std::uint64_t m_sum = 0;
    std::uint64_t m_min = ~std::uint64_t{0};
    std::uint64_t m_max = 0;
};

} // namespace certauth::client
