#include <certauth/client/upstream.hpp>

#include "support/catch.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <string_view>
#include <utility>

using namespace certauth::client;

namespace {

// A kept connection (ours) and the application's end of it.
struct Pair {
    UniqueFd ours;
    UniqueFd theirs;
};

Pair socket_pair() {
    int fds[2] = {-1, -1};
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

} // namespace

TEST_CASE("upstream pool: a kept connection the application closed or wrote into is skipped and closed",
          "[client][security]") {
    BasicUpstreamPool<UniqueFd> pool;
    const auto now = BasicUpstreamPool<UniqueFd>::Clock::now();
    Pair clean = socket_pair();
    Pair stray = socket_pair();
    Pair closed = socket_pair();
    const int clean_fd = clean.ours.get();
    constexpr std::string_view bytes = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    REQUIRE(::send(stray.theirs.get(), bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
    closed.theirs.reset();

    pool.give_back(std::move(clean.ours), now);
    pool.give_back(std::move(stray.ours), now);
    pool.give_back(std::move(closed.ours), now); // the most recently used: taken first
    REQUIRE(pool.idle() == 3);

    UniqueFd taken = pool.take();
    CHECK(taken.get() == clean_fd);
    CHECK(pool.idle() == 0);
    CHECK_FALSE(pool.take());
}

namespace {

// A pool holding an open connection and, used more recently, one the
// application closed.
struct OpenThenClosed {
    using Pool = BasicUpstreamPool<UniqueFd>;
    Pool pool;
    Pool::Clock::time_point now = Pool::Clock::now();
    Pair open = socket_pair();
    Pair closed = socket_pair();
    int open_fd = open.ours.get();
    int closed_fd = closed.ours.get();

    OpenThenClosed() {
        closed.theirs.reset();
        pool.give_back(std::move(open.ours), now);
        pool.give_back(std::move(closed.ours), now);
    }
};

} // namespace

TEST_CASE("upstream pool: a connection the caller knows to be quiet is taken without the check", "[client]") {
    OpenThenClosed kept;
    // Known quiet: taken as it is, closed or not (the caller sends its
    // request again elsewhere if it turns out closed).
    int asked = -1;
    UniqueFd taken = kept.pool.take([&](const UniqueFd& connection) {
        asked = connection.get();
        return true;
    });
    CHECK(asked == kept.closed_fd);
    CHECK(taken.get() == kept.closed_fd);

    // Not known quiet: the check finds the open one usable.
    kept.pool.give_back(std::move(taken), kept.now);
    taken = kept.pool.take([](const UniqueFd&) { return false; });
    CHECK(taken.get() == kept.open_fd);
    CHECK(kept.pool.idle() == 0);
}

TEST_CASE("upstream pool: once told to, it checks every connection, known quiet or not", "[client]") {
    OpenThenClosed kept;
    kept.pool.check_always();
    const UniqueFd taken = kept.pool.take([](const UniqueFd&) { return true; });
    CHECK(taken.get() == kept.open_fd);
    CHECK(kept.pool.idle() == 0);
}
