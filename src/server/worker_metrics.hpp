#pragma once
// Private to src/server: what one worker thread counts for the metrics
// (serve --status): requests, handshakes, connections, the application's
// answers. Written by that worker alone, read by the status listener's
// thread, which sums every worker's when /metrics is scraped
// (status_report.cpp). A count is a relaxed load and a relaxed store
// of a word only its worker writes: no locked instruction and no cache line
// shared with another worker on the request path.

#include "handshake_failure.hpp"
#include "upstream_error.hpp"

#include <certauth/policy/reason.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace certauth::server::detail {

// A counter with one writer (its worker) and any number of readers.
class LocalCounter {
  public:
    void add(std::uint64_t n = 1) noexcept {
        m_value.store(m_value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t value() const noexcept { return m_value.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> m_value{0};
};

// A histogram of durations with fixed upper bounds (microseconds, inclusive,
// ascending); one more bucket holds what is beyond the last (+Inf). Buckets
// count their own observations; the exposition makes them cumulative.
template <std::size_t N>
class LocalHistogram {
  public:
    using Bounds = std::array<std::uint64_t, N>;

    explicit constexpr LocalHistogram(const Bounds& bounds) noexcept : m_bounds(bounds) {}

    void observe(std::chrono::microseconds duration) noexcept {
        const auto us = static_cast<std::uint64_t>(duration.count() < 0 ? 0 : duration.count());
        std::size_t i = 0;
        while (i < N && us > m_bounds[i])
            ++i;
        m_buckets[i].add();
        m_sum_us.add(us);
    }

    const Bounds& bounds() const noexcept { return m_bounds; }
    const std::array<LocalCounter, N + 1>& buckets() const noexcept { return m_buckets; }
    std::uint64_t sum_us() const noexcept { return m_sum_us.value(); }

  private:
    const Bounds& m_bounds;
    std::array<LocalCounter, N + 1> m_buckets{};
    LocalCounter m_sum_us;
};

// A certauth answer's duration: 100 µs to 10 s.
inline constexpr std::array<std::uint64_t, 16> k_request_bounds_us{
    100,    250,     500,     1'000,   2'500,     5'000,     10'000,    25'000,
    50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
// The application's time to its response header: 0.5 ms to 60 s.
inline constexpr std::array<std::uint64_t, 16> k_upstream_bounds_us{
    500,     1'000,   2'500,     5'000,     10'000,    25'000,     50'000,     100'000,
    250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 30'000'000, 60'000'000};

// Why a connection was closed at accept (certauth_connections_refused_total{why}).
enum class RefusedConnection {
    max_connections, // --max-connections were open
    stopping,        // the server is stopping
};
inline constexpr std::size_t k_refused_connections = 2;
std::string_view to_label(RefusedConnection why) noexcept;

// HTTP statuses counted one by one: 100 to 599.
inline constexpr int k_first_status = 100;
inline constexpr std::size_t k_statuses = 500;
// Reasons of certauth_requests_total: every policy::Reason, and "none" for
// an answer without a decision (400, 405, 413, 431, 502, 504, ...).
inline constexpr std::size_t k_decision_reasons = static_cast<std::size_t>(policy::Reason::malformed) + 1;
inline constexpr std::size_t k_request_reasons = k_decision_reasons + 1;
inline constexpr std::string_view k_no_reason = "none";
// The slot of a response's reason ("ok", "unknown_user", ... or "-").
std::size_t reason_slot(std::string_view reason) noexcept;
std::string_view reason_of_slot(std::size_t slot) noexcept;

struct alignas(64) WorkerMetrics {
    // An answered request: its status (100-599; a request that got no
    // complete answer, status 0, is not counted), its reason, and the time
    // from its first byte to the end of its answer.
    void request(int status, std::string_view reason, std::chrono::microseconds duration) noexcept {
        if (status < k_first_status || status >= k_first_status + static_cast<int>(k_statuses)) return;
        requests[static_cast<std::size_t>(status - k_first_status) * k_request_reasons + reason_slot(reason)].add();
        request_duration.observe(duration);
    }
    // A forwarded request on the application's side: its status and time
    // to the response header (status 0: it gave none), or why certauth
    // answered for it, and whether it was sent again on a new connection.
    void upstream(int status, std::chrono::microseconds latency, UpstreamError error, bool retried) noexcept {
        if (status >= k_first_status && status < k_first_status + static_cast<int>(k_statuses)) {
            upstream_requests[static_cast<std::size_t>(status - k_first_status)].add();
            upstream_duration.observe(latency);
        }
        if (error != UpstreamError::none) upstream_errors[static_cast<std::size_t>(error) - 1].add();
        if (retried) upstream_retries.add();
    }
    void handshake_done(bool resumed) noexcept { (resumed ? handshakes_resumed : handshakes_full).add(); }
    void handshake_failed(HandshakeFailure why) noexcept { handshake_failures[static_cast<std::size_t>(why)].add(); }
    void accepted() noexcept { connections.add(); }
    void refused(RefusedConnection why) noexcept { refused_connections[static_cast<std::size_t>(why)].add(); }

    std::array<LocalCounter, k_statuses * k_request_reasons> requests{}; // [status - 100][reason slot]
    LocalHistogram<k_request_bounds_us.size()> request_duration{k_request_bounds_us};
    LocalCounter handshakes_full;
    LocalCounter handshakes_resumed;
    std::array<LocalCounter, k_handshake_failures> handshake_failures{};
    LocalCounter connections; // accepted (refused ones not included)
    std::array<LocalCounter, k_refused_connections> refused_connections{};
    std::array<LocalCounter, k_statuses> upstream_requests{}; // [status - 100]
    LocalHistogram<k_upstream_bounds_us.size()> upstream_duration{k_upstream_bounds_us};
    std::array<LocalCounter, k_upstream_errors> upstream_errors{}; // [UpstreamError - 1]
    LocalCounter upstream_retries;
};

} // namespace certauth::server::detail
