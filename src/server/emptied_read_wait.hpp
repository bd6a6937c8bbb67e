#pragma once
// Private to src/server: a wait for a socket to become readable that costs
// no system call, for a socket known to be empty.
//
// Asio's async_wait re-arms the descriptor with epoll_ctl every time: it
// cannot know whether bytes arrived before the wait began, and with
// edge-triggered events (Asio registers every descriptor that way, once)
// bytes that arrived unseen would never be announced again. The caller of
// this wait knows better: the socket's last read found nothing (EAGAIN), so
// everything that arrives after that read - bytes, the peer's FIN, an error
// - produces an event of its own. Then the wait only has to be queued with
// the event loop for the next event. (A read that returned fewer bytes than
// it asked for does not tell as much: a FIN that came with those bytes is
// still unread, and no event would announce it again. The session waits so
// on a client's socket all the same, and on a kept connection to the
// application taken without the pool's check (UpstreamConnection::quiet()),
// and looks for that FIN at the next sweep: Session::check() in
// session.cpp.)
//
// The event loop keeps, per descriptor, whether an event came since a wait
// like this one last completed (Asio's "speculative" flag). When one did,
// the wait completes at once (the caller reads: the read finds the bytes,
// or nothing and the caller waits again); when none did, the wait is queued
// without touching the descriptor. Each completion clears the flag.
// nothing_announced() reads the flag: the pool of connections to the
// application takes a kept connection on it without a peek, for a request
// that may be sent again (forwarding.cpp, open()).
//
// Counted on the forwarding benchmark (docs/benchmarks.md, "Forwarding"):
// a request waiting for the application's answer spares one epoll_ctl, and
// one on a kept connection spares the peek.
//
// This uses Asio's reactor interface (boost/asio/detail), read in the Boost
// versions the build is tested with (1.81 and 1.83, whose interface is the
// same; 1.82 between them). With another Boost, or another event loop than
// epoll, the wait is Asio's own async_wait: correct, one epoll_ctl dearer;
// and nothing_announced() says false, so that kept connections are peeked.

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/detail/epoll_reactor.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/scheduler_operation.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/version.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

// This Boost's reactor interface is the one read (see above).
#if !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) && defined(BOOST_ASIO_HAS_EPOLL) && BOOST_VERSION >= 108100 &&        \
    BOOST_VERSION <= 108300
#define CERTAUTH_KNOWN_ASIO_REACTOR 1
#else
#define CERTAUTH_KNOWN_ASIO_REACTOR 0
#endif

namespace certauth::server::detail {

class EmptiedReadWait {
  public:
    using Reactor = boost::asio::detail::reactor;
    // Whether this Boost's reactor interface is the one read (see above).
    static constexpr bool k_known_reactor =
        CERTAUTH_KNOWN_ASIO_REACTOR && std::is_same_v<Reactor, boost::asio::detail::epoll_reactor>;

    explicit EmptiedReadWait(boost::asio::io_context& io) {
        if constexpr (k_known_reactor) m_reactor = &boost::asio::use_service<Reactor>(io);
    }

    // Calls `handler(error_code)` once `socket` is readable (or has an
    // error, or the wait is cancelled or the socket closed: then with
    // operation_aborted), on the thread running the socket's event loop,
    // which must be the one given to the constructor. Only for a socket
    // known to be empty (see above).
    template <class Protocol, class Executor, class Handler>
    void async_wait(boost::asio::basic_stream_socket<Protocol, Executor>& socket, Handler handler) {
        if constexpr (k_known_reactor) {
            auto& impl =
                (socket.*ImplOf<boost::asio::basic_stream_socket<Protocol, Executor>>::member).get_implementation();
            Op<Handler>* op = Op<Handler>::make(std::move(handler));
            m_reactor->start_op(Reactor::read_op, impl.socket_, impl.reactor_data_, op, false, true);
        } else {
            socket.async_wait(boost::asio::socket_base::wait_read, std::move(handler));
        }
    }

    // Whether nothing has been announced on `socket` since the last wait
    // like async_wait above completed: no event has come, so no byte that
    // arrived after the reads that followed that wait has been seen by the
    // event loop. False when unknown (another Boost or event loop). The
    // event loop learns of new bytes at its next look (epoll_wait), so this
    // is as current as that look; a FIN that came with bytes read since is
    // never announced again. On the thread running the socket's event loop
    // only.
    template <class Protocol, class Executor>
    static bool nothing_announced(boost::asio::basic_stream_socket<Protocol, Executor>& socket) noexcept {
        if constexpr (k_known_reactor) {
            auto& impl =
                (socket.*ImplOf<boost::asio::basic_stream_socket<Protocol, Executor>>::member).get_implementation();
            return impl.reactor_data_ != nullptr && !speculative_read(impl.reactor_data_);
        } else {
            return false;
        }
    }

    // Waits for `socket` to become readable: with async_wait above when it
    // is `known_empty`, else with Asio's own wait (which re-arms).
    template <class Protocol, class Executor, class Handler>
    void wait_readable(boost::asio::basic_stream_socket<Protocol, Executor>& socket, bool known_empty,
                       Handler handler) {
        if (known_empty)
            async_wait(socket, std::move(handler));
        else
            socket.async_wait(boost::asio::socket_base::wait_read, std::move(handler));
    }

  private:
    // Asio's speculative flag of the descriptor's reads: set by each event,
    // cleared when a wait like async_wait above completes. A private member
    // of the event loop's record; read in emptied_read_wait.cpp.
    static bool speculative_read(Reactor::per_descriptor_data state) noexcept;

    // The socket's implementation (its descriptor and its event-loop
    // record), a protected member of Asio's basic_socket.
    template <class Socket>
    struct ImplOf : Socket {
        static constexpr auto member = &ImplOf::impl_;
    };

    template <class Handler>
    class Op final : public boost::asio::detail::reactor_op {
      public:
        static Op* make(Handler&& handler) {
            Allocator allocator;
            Op* op = allocator.allocate(1);
            try {
                return new (op) Op(std::move(handler));
            } catch (...) {
                allocator.deallocate(op, 1);
                throw;
            }
        }

      private:
        using Allocator = boost::asio::recycling_allocator<Op>;

        explicit Op(Handler&& handler)
            : reactor_op(boost::system::error_code(), &Op::perform, &Op::complete), m_handler(std::move(handler)) {}

        // Readiness is all it waits for: done whenever the event loop looks,
        // and "exhausted" so that the next wait is queued until the next event.
        static status perform(reactor_op* /*base*/) { return done_and_exhausted; }

        // owner is null when the event loop is destroyed with the wait
        // queued: the op goes without calling the handler.
        static void complete(void* owner, boost::asio::detail::scheduler_operation* base,
                             const boost::system::error_code& /*ec*/, std::size_t /*bytes*/) {
            auto* op = static_cast<Op*>(base);
            const boost::system::error_code ec = op->ec_;
            Handler handler(std::move(op->m_handler));
            op->~Op();
            Allocator().deallocate(op, 1);
            if (owner != nullptr) handler(ec);
        }

        Handler m_handler;
    };

    Reactor* m_reactor = nullptr;
};

} // namespace certauth::server::detail
