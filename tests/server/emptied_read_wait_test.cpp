// The wait for readability of a socket known to be empty
// (src/server/emptied_read_wait.hpp), on a Unix socket pair and a real event
// loop: it completes on bytes, on the peer's close and at once when an event
// came before it began; it stays queued while nothing comes; cancelling and
// closing end it aborted; an event loop that goes with an aborted wait
// unrun drops it without calling the handler; whether anything was
// announced since a wait completed (the pool's knowledge of a kept
// connection) follows the event loop's looks.
#include "server/emptied_read_wait.hpp"

#include "support/catch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include <sys/socket.h>

using certauth::server::detail::EmptiedReadWait;
namespace asio = boost::asio;
using Socket = asio::basic_stream_socket<asio::local::stream_protocol, asio::io_context::executor_type>;
using namespace std::chrono_literals;

namespace {

struct Pair {
    asio::io_context io;
    Socket ours{io};
    Socket theirs{io};
    EmptiedReadWait waiter{io};
    // Keeps the event loop busy, so that poll() looks at the sockets.
    asio::steady_timer keep{io, 1h};
    std::optional<boost::system::error_code> woken;

    Pair() {
        asio::local::connect_pair(ours, theirs);
        ours.non_blocking(true);
        keep.async_wait([](const boost::system::error_code&) {});
    }
    void wait() {
        woken.reset();
        waiter.async_wait(ours, [this](const boost::system::error_code& ec) { woken = ec; });
    }
    // Reads what is there; true when the read found the socket empty.
    bool read_until_empty() {
        std::array<char, 64> buf{};
        for (int i = 0; i < 100; ++i) {
            const ssize_t n = ::recv(ours.native_handle(), buf.data(), buf.size(), 0);
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        return false;
    }
    void send(const char* text) { REQUIRE(::send(theirs.native_handle(), text, std::strlen(text), 0) > 0); }
    // Runs the event loop until the wait completes, for at most a second.
    bool run_until_woken() {
        const auto until = std::chrono::steady_clock::now() + 1s;
        while (!woken && std::chrono::steady_clock::now() < until)
            io.run_one_for(10ms);
        return woken.has_value();
    }
};

} // namespace

TEST_CASE("emptied read wait: queued while nothing comes, woken by bytes and by the peer's close", "[server]") {
    // Built with a Boost whose reactor interface the wait was written for
    // (else it falls back to Asio's async_wait, and this file's "at once"
    // cases do not hold: the wait needs a look at that Boost first).
    REQUIRE(EmptiedReadWait::k_known_reactor);
    Pair p;
    // A socket just registered counts as "something may have come": the
    // first wait completes at once.
    p.wait();
    REQUIRE(p.run_until_woken());
    CHECK_FALSE(*p.woken);

    REQUIRE(p.read_until_empty());
    p.wait();
    p.io.poll();
    p.io.poll();
    CHECK_FALSE(p.woken); // nothing came: queued

    SECTION("bytes") {
        p.send("hello");
        REQUIRE(p.run_until_woken());
        CHECK_FALSE(*p.woken);
        REQUIRE(p.read_until_empty());
        // And again: queued until the next bytes.
        p.wait();
        p.io.poll();
        CHECK_FALSE(p.woken);
        p.send("again");
        REQUIRE(p.run_until_woken());
        CHECK_FALSE(*p.woken);
    }
    SECTION("the peer's close") {
        p.theirs.close();
        REQUIRE(p.run_until_woken());
        CHECK_FALSE(*p.woken);
        std::array<char, 8> buf{};
        CHECK(::recv(p.ours.native_handle(), buf.data(), buf.size(), 0) == 0);
    }
    SECTION("cancelled") {
        p.ours.cancel();
        REQUIRE(p.run_until_woken());
        CHECK(*p.woken == asio::error::operation_aborted);
    }
    SECTION("the socket closed") {
        p.ours.close();
        REQUIRE(p.run_until_woken());
        CHECK(*p.woken == asio::error::operation_aborted);
    }
}

TEST_CASE("emptied read wait: bytes whose event came before the wait began wake it at once", "[server]") {
    Pair p;
    p.wait();
    REQUIRE(p.run_until_woken());
    REQUIRE(p.read_until_empty());
    // Bytes arrive and the event loop sees their event while nobody waits.
    p.send("early");
    p.io.poll();
    p.io.poll();
    p.wait();
    REQUIRE(p.run_until_woken());
    CHECK_FALSE(*p.woken);
    std::array<char, 16> buf{};
    CHECK(::recv(p.ours.native_handle(), buf.data(), buf.size(), 0) == 5);
}

TEST_CASE("emptied read wait: a wait its socket's closing aborted is dropped unanswered with the event loop",
          "[server]") {
    // As when a worker stops: its connections' sockets close first, then
    // its event loop goes without running what the closing aborted.
    bool called = false;
    {
        asio::io_context io;
        {
            Socket ours(io);
            Socket theirs(io);
            asio::local::connect_pair(ours, theirs);
            ours.non_blocking(true);
            EmptiedReadWait waiter(io);
            bool first = false;
            waiter.async_wait(ours, [&first](const boost::system::error_code&) { first = true; });
            const auto until = std::chrono::steady_clock::now() + 1s;
            while (!first && std::chrono::steady_clock::now() < until)
                io.run_one_for(10ms);
            REQUIRE(first);
            waiter.async_wait(ours, [&called](const boost::system::error_code&) { called = true; });
        }
    }
    CHECK_FALSE(called);
}

TEST_CASE("emptied read wait: nothing is announced after a completed wait until the event loop sees an event",
          "[server][security]") {
    REQUIRE(EmptiedReadWait::k_known_reactor);
    Pair p;
    // Just registered: something may have come.
    CHECK_FALSE(EmptiedReadWait::nothing_announced(p.ours));
    p.wait();
    REQUIRE(p.run_until_woken());
    CHECK(EmptiedReadWait::nothing_announced(p.ours));

    SECTION("bytes") {
        p.send("stray");
        // Not seen until the event loop looks.
        CHECK(EmptiedReadWait::nothing_announced(p.ours));
        p.io.poll();
        CHECK_FALSE(EmptiedReadWait::nothing_announced(p.ours));
        // Reading does not clear it: only the next completed wait does.
        REQUIRE(p.read_until_empty());
        CHECK_FALSE(EmptiedReadWait::nothing_announced(p.ours));
        p.wait();
        REQUIRE(p.run_until_woken());
        CHECK(EmptiedReadWait::nothing_announced(p.ours));
    }
    SECTION("the peer's close") {
        p.theirs.close();
        p.io.poll();
        CHECK_FALSE(EmptiedReadWait::nothing_announced(p.ours));
    }
    SECTION("Asio's own wait leaves it unknown") {
        bool woken = false;
        p.ours.async_wait(asio::socket_base::wait_read, [&woken](const boost::system::error_code&) { woken = true; });
        p.send("x");
        const auto until = std::chrono::steady_clock::now() + 1s;
        while (!woken && std::chrono::steady_clock::now() < until)
            p.io.run_one_for(10ms);
        REQUIRE(woken);
        REQUIRE(p.read_until_empty());
        CHECK_FALSE(EmptiedReadWait::nothing_announced(p.ours));
    }
}
