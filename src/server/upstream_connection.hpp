#pragma once
// Private to src/server: a connection to the application (serve --upstream),
// registered with its worker's event loop once, when it is made. It keeps
// that registration while it waits in the pool between requests, so that a
// request waiting for the application costs no registering and releasing of
// the descriptor (two epoll_ctl calls) - only the wait itself.

#include "emptied_read_wait.hpp"

#include <certauth/client/upstream.hpp>

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <utility>

namespace certauth::server::detail {

class UpstreamConnection {
  public:
    using Executor = boost::asio::io_context::executor_type;
    // A stream socket of any family (TCP or Unix): what the session waits on.
    using Descriptor = boost::asio::basic_stream_socket<boost::asio::generic::stream_protocol, Executor>;

    UpstreamConnection() = default;
    // Takes `fd`, a stream socket of address family `family` (AF_INET,
    // AF_INET6, AF_UNIX); empty when the event loop refuses it (the
    // descriptor is closed).
    UpstreamConnection(const Executor& executor, client::UniqueFd fd, int family) {
        auto descriptor = std::make_unique<Descriptor>(executor);
        boost::system::error_code ec;
        descriptor->assign(boost::asio::generic::stream_protocol(family, 0), fd.get(), ec);
        if (ec) return; // closed with `fd`
        m_fd = fd.release();
        m_descriptor = std::move(descriptor);
    }

    // Moved from, it is empty (not a second owner of the descriptor number).
    UpstreamConnection(UpstreamConnection&&) noexcept = default;
    UpstreamConnection& operator=(UpstreamConnection&&) noexcept = default;
    UpstreamConnection(const UpstreamConnection&) = delete;
    UpstreamConnection& operator=(const UpstreamConnection&) = delete;
    ~UpstreamConnection() = default;

    int get() const noexcept { return m_descriptor ? m_fd : -1; }
    explicit operator bool() const noexcept { return m_descriptor != nullptr; }
    // Closes it: a wait on it comes back aborted.
    void reset() noexcept { m_descriptor.reset(); }
    // Ends the waits on it (they come back aborted), before it goes back to
    // the pool: a wait must never outlive the request that made it.
    void cancel() noexcept {
        boost::system::error_code ignored;
        if (m_descriptor) m_descriptor->cancel(ignored);
    }
    // What a connection waits on; null when empty.
    Descriptor* waitable() noexcept { return m_descriptor.get(); }

    // Whether the connection is known to be empty: its last read found
    // nothing (EAGAIN), or the pool's check did, or it is new, or it was
    // taken on quiet() (then a close that came with its last answer may be
    // in it: Forwarding::unchecked_upstream()). Then a wait
    // for the application's answer need not re-arm the descriptor
    // (emptied_read_wait.hpp). Taking the answer forgets it: after a wait,
    // only a new read tells.
    void set_emptied(bool emptied) noexcept { m_emptied = emptied; }
    bool take_emptied() noexcept { return std::exchange(m_emptied, false); }

    // Whether its last read took all it held (fewer bytes than there was
    // room for, or none), set by each read.
    void set_drained(bool drained) noexcept { m_drained = drained; }

    // Whether nothing can be waiting in it but a close, as of the worker's
    // event loop's last look: its last read took all it held, and nothing
    // has been announced since (EmptiedReadWait::nothing_announced). Not
    // covered: an application's close that came with the bytes of that
    // read, which is never announced (only a request that may be sent again
    // on another connection is sent on this knowledge, and the session
    // looks for that close at the next sweep), and TCP urgent data, at
    // which a read stops short (HTTP does not use it).
    bool quiet() noexcept { return m_drained && m_descriptor && EmptiedReadWait::nothing_announced(*m_descriptor); }

  private:
    std::unique_ptr<Descriptor> m_descriptor; // on the heap: a moved-from connection is empty
    int m_fd = -1;                            // m_descriptor's (Asio's native_handle() is not const)
    bool m_emptied = false;
    bool m_drained = false;
};

using UpstreamPool = client::BasicUpstreamPool<UpstreamConnection>;

} // namespace certauth::server::detail
