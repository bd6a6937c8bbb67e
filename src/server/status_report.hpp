#pragma once
// Private to src/server: what the status listener shows - /metrics in
// Prometheus's text format (metrics_writer.hpp) and /status as JSON - made
// from the server's parts when asked: the workers' counters summed, the
// state in force, the reload history, the process. No Asio here.

#include "worker_metrics.hpp"

#include <certauth/server/metrics_writer.hpp>
#include <certauth/server/server.hpp>
#include <certauth/server/server_state.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace certauth::server::detail {

// The reloads so far; kept by the thread that reloads, which also serves
// the status listener.
struct ReloadHistory {
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::chrono::system_clock::time_point loaded; // when the state in force was loaded (start-up or reload)
    std::optional<std::chrono::system_clock::time_point> last_attempt;
    bool last_failed = false;
    std::string last_error; // of the last reload, when it failed

    void success(std::chrono::system_clock::time_point at) {
        ++succeeded;
        loaded = at;
        last_attempt = at;
        last_failed = false;
        last_error.clear();
    }
    void failure(std::chrono::system_clock::time_point at, std::string error) {
        ++failed;
        last_attempt = at;
        last_failed = true;
        last_error = std::move(error);
    }
};

struct StatusView {
    const State& state;
    std::span<const WorkerMetrics* const> workers;
    std::size_t connections_open = 0;
    const ReloadHistory& reloads;
    const BuildInfo& build;
    const UpstreamOptions* upstream = nullptr; // nullptr: answer mode
    bool require_cert = false;
    bool stopping = false;
    std::span<const BoundAddress> listening;
    std::chrono::system_clock::time_point started;
    std::chrono::system_clock::time_point now;
    std::span<const std::shared_ptr<const StatusSource>> sources;
};

// The /metrics body (k_metrics_content_type).
std::string metrics_text(const StatusView& view);
// The /status body: one JSON object, indented, ending in a newline.
std::string status_json(const StatusView& view);

} // namespace certauth::server::detail
