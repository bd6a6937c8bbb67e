#pragma once
// The load generator of certauth probe --load: threads, each with its own
// event loop, and connections spread over them; keep-alive requests, or a new
// TLS connection per request (optionally resuming the previous session).
// Cheap per request: the request bytes are built once, each connection reuses
// its buffers, responses are parsed with a field-ignoring parser, and
// latencies go into per-thread histograms merged at the end.

#include <certauth/client/client.hpp>
#include <certauth/client/histogram.hpp>
#include <certauth/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace certauth::client {

enum class ConnectionMode {
    keep_alive,      // one connection serves many requests
    new_connections, // a full handshake per request (Connection: close)
};
enum class Resumption { off, on }; // with new_connections: resume the previous TLS session

struct LoadOptions {
    ClientRequest request;                 // url, method, headers, resolve, servername, timeout (per request)
    std::optional<std::uint64_t> requests; // exactly this many; else run for `duration`
    std::chrono::milliseconds duration{10000};
    unsigned concurrency = 10; // connections (each with at most one request in flight)
    unsigned threads = 0;      // 0: default_load_threads() (capped at concurrency)
    ConnectionMode mode = ConnectionMode::keep_alive;
    Resumption resumption = Resumption::off;
};

struct LoadProgress {
    std::uint64_t done = 0;   // responses + errors so far
    std::uint64_t errors = 0; // of which errors
    std::chrono::duration<double> elapsed{0};
};

struct ErrorCount {
    std::uint64_t count = 0;
    std::string first_message; // the first message of this kind, for a person
};

struct LoadResult {
    unsigned threads = 0;
    unsigned concurrency = 0;
    std::chrono::duration<double> elapsed{0}; // first request to last completion
    std::uint64_t responses = 0;
    std::uint64_t handshakes = 0; // completed TLS handshakes
    std::uint64_t resumed = 0;    // of which resumed sessions
    std::uint64_t bytes_received = 0;
    Histogram latency;                              // µs, per response (incl. connect + handshake when new)
    std::map<int, std::uint64_t> by_status;         // HTTP status -> responses
    std::map<std::string, std::uint64_t> by_reason; // "reason" of certauth's JSON bodies -> responses
    std::map<std::string, ErrorCount> errors;       // FailureKind key -> count

    std::uint64_t error_count() const;
    double requests_per_second() const;
    double handshakes_per_second() const;
};

// Runs the load. `progress`, when given, is called from the calling thread
// about every `progress_interval` while the load runs. Errors are set-up
// failures only (the name does not resolve); failures of single requests are
// counted in the result.
// Threads when --threads is not given: one per core, or half of the cores
// (at least one) against a server on this machine (a loopback address),
// which needs the others: client threads beyond that only take CPU from it.
unsigned default_load_threads(bool loopback_target, unsigned cores) noexcept;

Result<LoadResult> run_load(const ClientContext& context, const LoadOptions& options,
                            const std::function<void(const LoadProgress&)>& progress = {},
                            std::chrono::milliseconds progress_interval = std::chrono::milliseconds(250));

} // namespace certauth::client
