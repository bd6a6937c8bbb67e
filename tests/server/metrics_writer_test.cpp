#include <certauth/server/metrics_writer.hpp>

#include "support/catch.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>

using namespace certauth::server;

TEST_CASE("MetricsWriter: HELP and TYPE before each family's samples", "[server][metrics]") {
    MetricsWriter out;
    out.family("certauth_requests_total", "Requests answered", MetricType::counter);
    out.sample({{"code", "200"}, {"reason", "ok"}}, 1000);
    out.sample({{"code", "401"}, {"reason", "unknown_user"}}, 500);
    out.family("certauth_users", "Entries of the user list", MetricType::gauge);
    out.sample(7);
    CHECK(out.text() == "# HELP certauth_requests_total Requests answered\n"
                        "# TYPE certauth_requests_total counter\n"
                        "certauth_requests_total{code=\"200\",reason=\"ok\"} 1000\n"
                        "certauth_requests_total{code=\"401\",reason=\"unknown_user\"} 500\n"
                        "# HELP certauth_users Entries of the user list\n"
                        "# TYPE certauth_users gauge\n"
                        "certauth_users 7\n");
}

TEST_CASE("MetricsWriter: label values and help escaped, bytes that are not UTF-8 replaced", "[server][metrics]") {
    MetricsWriter out;
    out.family("x", "a \\ b\nc", MetricType::gauge);
    out.sample({{"subject", "CN=a\"b\\c\nd"}}, 1);
    out.sample({{"subject", std::string_view("CN=\xff\xc3\xa9", 6)}}, 2);
    CHECK(out.text() == "# HELP x a \\\\ b\\nc\n"
                        "# TYPE x gauge\n"
                        "x{subject=\"CN=a\\\"b\\\\c\\nd\"} 1\n"
                        "x{subject=\"CN=\xef\xbf\xbd\xc3\xa9\"} 2\n");
}

TEST_CASE("MetricsWriter: values - integers whole, fractions shortest, NaN and infinities", "[server][metrics]") {
    MetricsWriter out;
    out.family("v", "values", MetricType::gauge);
    out.sample({{"k", "a"}}, 2840140800.0);
    out.sample({{"k", "b"}}, 0.25);
    out.sample({{"k", "c"}}, std::numeric_limits<double>::quiet_NaN());
    out.sample({{"k", "d"}}, -std::numeric_limits<double>::infinity());
    CHECK(out.text() == "# HELP v values\n# TYPE v gauge\n"
                        "v{k=\"a\"} 2840140800\nv{k=\"b\"} 0.25\nv{k=\"c\"} NaN\nv{k=\"d\"} -Inf\n");
}

TEST_CASE("MetricsWriter: a histogram's buckets, +Inf, sum and count", "[server][metrics]") {
    MetricsWriter out;
    out.family("d_seconds", "durations", MetricType::histogram);
    const std::array<double, 2> bounds{0.001, 0.5};
    const std::array<std::uint64_t, 2> cumulative{3, 5};
    out.histogram({}, bounds, cumulative, 6, 1.5);
    CHECK(out.text() == "# HELP d_seconds durations\n# TYPE d_seconds histogram\n"
                        "d_seconds_bucket{le=\"0.001\"} 3\n"
                        "d_seconds_bucket{le=\"0.5\"} 5\n"
                        "d_seconds_bucket{le=\"+Inf\"} 6\n"
                        "d_seconds_sum 1.5\n"
                        "d_seconds_count 6\n");
}

TEST_CASE("MetricsWriter: a family twice, or a sample of the wrong kind, is a broken invariant", "[server][metrics]") {
    MetricsWriter out;
    CHECK_THROWS_AS(out.sample(1), std::logic_error);
    out.family("a_total", "a", MetricType::counter);
    CHECK_THROWS_AS(out.family("a_total", "again", MetricType::counter), std::logic_error);
    const std::array<double, 1> bounds{1};
    const std::array<std::uint64_t, 1> cumulative{1};
    CHECK_THROWS_AS(out.histogram({}, bounds, cumulative, 1, 1), std::logic_error);
    out.family("h", "h", MetricType::histogram);
    CHECK_THROWS_AS(out.sample(1), std::logic_error);
}
