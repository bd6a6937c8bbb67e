// EmptiedReadWait::speculative_read (emptied_read_wait.hpp): Asio keeps the
// flag in a private member of its per-descriptor record. An explicit
// instantiation may name a private member (access is not checked there), so
// Expose below, instantiated once here with a pointer to that member, hands
// it to the friend function that reads it.

#include "emptied_read_wait.hpp"

namespace certauth::server::detail {

#if CERTAUTH_KNOWN_ASIO_REACTOR
namespace {

using DescriptorState = boost::asio::detail::epoll_reactor::descriptor_state;
using SpeculativeFlags = bool (DescriptorState::*)[boost::asio::detail::epoll_reactor::max_ops];

struct SpeculativeMember {
    friend SpeculativeFlags speculative_member(SpeculativeMember);
};

template <SpeculativeFlags Member>
struct Expose {
    friend SpeculativeFlags speculative_member(SpeculativeMember) { return Member; }
};

template struct Expose<&DescriptorState::try_speculative_>;

} // namespace
#endif

bool EmptiedReadWait::speculative_read(Reactor::per_descriptor_data state) noexcept {
#if CERTAUTH_KNOWN_ASIO_REACTOR
    return (state->*speculative_member(SpeculativeMember{}))[Reactor::read_op];
#else
    (void)state;
    return true;
#endif
}

} // namespace certauth::server::detail
