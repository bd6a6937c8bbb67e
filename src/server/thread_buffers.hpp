#pragma once
// Private to src/server: what the connections of one worker thread share,
// since only one of them runs at a time - the buffers a request is read into
// and an answer written from (both empty whenever a connection waits: only
// bytes that must outlive a wait are copied to the connection), the pool
// of kept-alive connections to the application with the pass-through buffer
// of forwarding, and the worker's counters for the metrics
// (worker_metrics.hpp).

#include "forwarding.hpp"
#include "upstream_connection.hpp"
#include "worker_metrics.hpp"

#include <boost/beast/core/flat_buffer.hpp>

#include <string>
#include <vector>

namespace certauth::server::detail {

struct WorkerLocal {
    boost::beast::flat_buffer in;
    std::string out;
    UpstreamPool pool;
    // Forwarding's pass-through buffer (allocated once, not per request).
    std::vector<char> scratch = std::vector<char>(k_forwarding_scratch);
    WorkerMetrics metrics;
};

} // namespace certauth::server::detail
