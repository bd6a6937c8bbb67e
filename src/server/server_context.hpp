#pragma once
// Private to src/server: what the listeners and sessions of one server share.
// Plain types and one Asio type (the accepted socket); Beast stays in
// session.cpp.

#include "deadline_sweeper.hpp"

#include <certauth/server/access_log.hpp>
#include <certauth/server/server.hpp>
#include <certauth/server/server_state.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

namespace certauth::server::detail {

struct ServerContext {
    ServerContext(StateHolder& holder, const Limits& limit, const AccessLog& log,
                  std::function<void(ConnectionPhase)> faults = {})
        : states(holder), limits(limit), access_log(log), fault_injection(std::move(faults)) {}

    StateHolder& states;
    const Limits limits;
    const AccessLog& access_log;
    const std::function<void(ConnectionPhase)> fault_injection; // tests only (ServerOptions)
    std::atomic<std::size_t> connections{0};
    std::atomic<bool> stopping{false};

    // Signalled when the last connection closes (graceful stop waits on it).
    std::mutex drain_mutex;
    std::condition_variable drained;

    void connection_closed() {
        if (connections.fetch_sub(1, std::memory_order_acq_rel) == 1 && stopping.load(std::memory_order_acquire)) {
            { std::lock_guard lock(drain_mutex); }
            drained.notify_all();
        }
    }
};

// An accepted connection's socket, bound to its worker's io_context (no
// type-erased executor).
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

// Starts serving an accepted connection (counted in `context.connections`
// by the caller) on the calling worker thread, whose connections `sessions`
// lists. The session frees itself when it ends.
void start_session(Socket&& socket, ServerContext& context, DeadlineSweeper& sessions) noexcept;

// On the worker thread of `sessions`: a graceful stop of each (SIGTERM).
void stop_sessions(DeadlineSweeper& sessions);

// After the worker thread of `sessions` stopped for good: frees the
// sessions left (their pending waits are never run).
void destroy_sessions(DeadlineSweeper& sessions);

} // namespace certauth::server::detail
