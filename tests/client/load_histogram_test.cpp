#include <certauth/client/histogram.hpp>

#include "support/catch.hpp"

#include <algorithm>
#include <random>
#include <vector>

using certauth::client::Histogram;

TEST_CASE("histogram buckets are contiguous and within 1/64 of the value", "[client]") {
    CHECK(Histogram::bucket_of(0) == 0);
    CHECK(Histogram::bucket_of(127) == 127);
    CHECK(Histogram::bucket_of(128) == 128);
    std::size_t previous = 0;
    for (std::uint64_t v = 1; v < (std::uint64_t{1} << 24); v = v + 1 + v / 97) {
        const std::size_t b = Histogram::bucket_of(v);
        CHECK(b >= previous);
        previous = b;
        REQUIRE(Histogram::bucket_low(b) <= v);
        REQUIRE(Histogram::bucket_high(b) >= v);
        REQUIRE(static_cast<double>(Histogram::bucket_high(b) - Histogram::bucket_low(b)) <=
                static_cast<double>(v) / 64.0);
    }
    for (std::size_t b = 1; b + 1 < Histogram::k_buckets; ++b)
        REQUIRE(Histogram::bucket_low(b) == Histogram::bucket_high(b - 1) + 1);
    CHECK(Histogram::bucket_of(~std::uint64_t{0}) == Histogram::k_buckets - 1);
}

TEST_CASE("histogram percentiles match the sorted values within the bucket precision", "[client]") {
    std::mt19937_64 random(42);
    std::lognormal_distribution<double> latency(7.0, 0.8); // ~1 ms median, long tail
    std::vector<std::uint64_t> values;
    Histogram h;
    for (int i = 0; i < 100000; ++i) {
        const auto v = static_cast<std::uint64_t>(latency(random));
        values.push_back(v);
        h.record(v);
    }
    std::sort(values.begin(), values.end());
    CHECK(h.count() == values.size());
    CHECK(h.min() == values.front());
    CHECK(h.max() == values.back());
    for (double p : {50.0, 90.0, 99.0, 99.9}) {
        const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
        const double exact = static_cast<double>(values[rank - 1]);
        INFO("p" << p << " exact " << exact << " histogram " << h.percentile(p));
        CHECK(static_cast<double>(h.percentile(p)) >= exact);
        CHECK(static_cast<double>(h.percentile(p)) <= exact * (1 + 1.0 / 64) + 1);
    }
    CHECK(h.percentile(100) == h.max());
}

TEST_CASE("histogram: exact small values - empty - merge", "[client]") {
    Histogram empty;
    CHECK(empty.percentile(50) == 0);
    CHECK(empty.min() == 0);
    CHECK(empty.mean() == 0);

    Histogram a, b;
    for (std::uint64_t v = 1; v <= 100; ++v)
        (v % 2 ? a : b).record(v);
    a.merge(b);
    CHECK(a.count() == 100);
    CHECK(a.percentile(50) == 50);
    CHECK(a.percentile(99) == 99);
    CHECK(a.percentile(99.9) == 100);
    CHECK(a.min() == 1);
    CHECK(a.max() == 100);
    CHECK(a.mean() == Catch::Approx(50.5));

    Histogram one;
    one.record(123456);
    CHECK(one.percentile(50) == 123456); // clamped to [min, max]
}
