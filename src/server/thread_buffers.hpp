#pragma once
// Private to src/server: what the connections of one worker thread share,
// since only one of them runs at a time - the buffers a request is read into
// and an answer written from (both empty whenever a connection waits: only
// bytes that must outlive a wait are copied to the connection), and the
// pool of kept-alive connections to the application.

#include <certauth/client/upstream.hpp>

#include <boost/beast/core/flat_buffer.hpp>

#include <string>

namespace certauth::server::detail {

struct WorkerLocal {
    boost::beast::flat_buffer in;
    std::string out;
    client::UpstreamPool pool;
};

} // namespace certauth::server::detail
