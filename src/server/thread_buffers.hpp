#pragma once
// Private to src/server: what the connections of one worker thread share,
// since only one of them runs at a time - the buffers a request is read into
// and an answer written from (both empty whenever a connection waits: only
// bytes that must outlive a wait are copied to the connection), and the
// pool of kept-alive connections to the application.

#include "forwarding.hpp"

#include <certauth/client/upstream.hpp>

#include <boost/beast/core/flat_buffer.hpp>

#include <string>
#include <vector>

namespace certauth::server::detail {

struct WorkerLocal {
    boost::beast::flat_buffer in;
    std::string out;
    client::UpstreamPool pool;
    // Forwarding's pass-through buffer (allocated once, not per request).
    std::vector<char> scratch = std::vector<char>(k_forwarding_scratch);
};

} // namespace certauth::server::detail
