#pragma once
// Private to src/server: what the connections of one worker thread share,
// since only one of them runs at a time - the buffers a request is read into
// and an answer written from (both empty whenever a connection waits: only
// bytes that must outlive a wait are copied to the connection), the pool
// of kept-alive connections to the application with the pass-through buffer
// of forwarding, the worker's counters for the metrics
// (worker_metrics.hpp), and its way of waiting on a socket a read emptied
// (emptied_read_wait.hpp).

#include "emptied_read_wait.hpp"
#include "forwarding.hpp"
#include "upstream_connection.hpp"
#include "worker_metrics.hpp"

#include <boost/beast/core/flat_buffer.hpp>

#include <string>
#include <vector>

namespace certauth::server::detail {

struct WorkerLocal {
    // `io` is the worker's event loop, which its connections' sockets belong to.
    explicit WorkerLocal(boost::asio::io_context& io) : emptied_read_wait(io) {}

    boost::beast::flat_buffer in;
    std::string out;
    UpstreamPool pool;
    // Forwarding's pass-through buffer (allocated once, not per request).
    std::vector<char> scratch = std::vector<char>(k_forwarding_scratch);
    WorkerMetrics metrics;
    EmptiedReadWait emptied_read_wait;
};

} // namespace certauth::server::detail
