#pragma once
// Private to src/server: a connection to the application (serve --upstream),
// registered with its worker's event loop once, when it is made. It keeps
// that registration while it waits in the pool between requests, so that a
// request waiting for the application costs no registering and releasing of
// the descriptor (two epoll_ctl calls) - only the wait itself.

#include <certauth/client/upstream.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <memory>

namespace certauth::server::detail {

class UpstreamConnection {
  public:
    using Executor = boost::asio::io_context::executor_type;
    using Descriptor = boost::asio::posix::basic_stream_descriptor<Executor>;

    UpstreamConnection() = default;
    // Takes `fd`; empty when the event loop refuses it (the descriptor is closed).
    UpstreamConnection(const Executor& executor, client::UniqueFd fd) {
        auto descriptor = std::make_unique<Descriptor>(executor);
        boost::system::error_code ec;
        descriptor->assign(fd.get(), ec);
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

  private:
    std::unique_ptr<Descriptor> m_descriptor; // on the heap: a moved-from connection is empty
    int m_fd = -1;                            // m_descriptor's (Asio's native_handle() is not const)
};

using UpstreamPool = client::BasicUpstreamPool<UpstreamConnection>;

} // namespace certauth::server::detail
