#include "follower.hpp"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <stdexcept>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace certauth::directory {

WakeSignal::WakeSignal() : m_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (m_fd < 0) throw std::runtime_error("eventfd failed"); // out of descriptors: a broken invariant here
}

WakeSignal::~WakeSignal() { ::close(m_fd); }

void WakeSignal::raise() noexcept {
    const std::uint64_t one = 1;
    while (::write(m_fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

bool WakeSignal::wait(std::chrono::milliseconds timeout) const noexcept {
    pollfd fd{m_fd, POLLIN, 0};
    const long long ms = timeout.count() < 0 ? 0 : timeout.count();
    const int ready = ::poll(&fd, 1, static_cast<int>(ms > INT_MAX ? INT_MAX : ms));
    return ready > 0 && (fd.revents & POLLIN) != 0;
}

} // namespace certauth::directory
