// libFuzzer target: what an application answers a forwarded request, as the
// session's upstream half reads it (src/server/forwarding.cpp): bad status
// lines, huge or broken headers, lying Content-Length, broken chunking, 1xx
// and 101 without an upgrade, early close. The application is the far end
// of a socketpair; the client is a stand-in that keeps what it is sent.
// Whatever the bytes, the exchange ends - relayed, cut, or answered 502 by
// certauth - and never crashes, hangs or leaks.
#include "forwarding.hpp"

#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

using namespace certauth;
using namespace certauth::server;
using namespace certauth::server::detail;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "upstream_response: %s\n", what);
    std::abort();
}

class StandInClient final : public ClientIo {
  public:
    std::string written;
    Io read(char*, std::size_t, std::size_t& n) override {
        n = 0;
        return Io::closed;
    }
    Io write(std::string_view data) override {
        written += data;
        return Io::done;
    }
    Io flush() override { return Io::done; }
};

const ForwardingConfig& config() {
    static const ForwardingConfig c = [] {
        ForwardingConfig out;
        auto target = client::parse_upstream("http://127.0.0.1:9");
        if (!target) fail("upstream");
        out.options.target = std::move(*target);
        return out; // no addresses: a retry finds none (502)
    }();
    return c;
}

// Parses `text`, a whole request header, into `parser` (nothing of a body).
void parse_header(RequestParser& parser, std::string_view text) {
    parser.eager(false);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(text.data(), text.size()), ec);
    if (!parser.is_header_done()) fail("request header");
}

void run(std::string_view response, std::string_view request) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) != 0) fail("socketpair");
    const client::UniqueFd application(pair[1]);
    const auto now = std::chrono::steady_clock::now();
    boost::asio::io_context io;
    UpstreamPool pool;
    pool.give_back(UpstreamConnection(io.get_executor(), client::UniqueFd(pair[0]), AF_UNIX), now);
    StandInClient client;
    RequestParser header;
    parse_header(header, request);
    std::vector<char> scratch(k_forwarding_scratch);
    Forwarding forwarding(config(), pool, io.get_executor(), scratch, client, std::move(header), {},
                          "X-Certauth-CN: joe\r\n", "127.0.0.1", ClientLink::tls, now);
    std::size_t sent = 0;
    bool closed = false;
    for (int steps = 0;; ++steps) {
        if (steps > 100000) fail("the exchange does not end");
        const std::optional<Need> need = forwarding.step(now);
        if (!need) break;
        if (need->client_read || need->client_write) fail("the stand-in client never blocks");
        // The application's side: its answer, a piece at a time, then EOF.
        if (sent < response.size()) {
            const ssize_t n = ::send(application.get(), response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
            if (n > 0) sent += static_cast<std::size_t>(n);
        } else if (!closed) {
            ::shutdown(application.get(), SHUT_WR);
            closed = true;
        }
        // Drain what certauth sent the application, so that it never blocks.
        char sink[4096];
        while (::recv(application.get(), sink, sizeof sink, MSG_DONTWAIT) > 0) {
        }
    }
    const Forwarded& result = forwarding.result();
    // Here the client never fails and the request has no body, so the
    // exchange cannot end on the client's side: with neither a response
    // nor certauth's answer, the application's side was left unanswered.
    if (!result.answer && client.written.empty()) fail("the client got neither a response nor certauth's answer");
    if (result.answer && !client.written.empty()) fail("an answer after part of the response went out");
    if (result.answer && result.answer->status != 502 && result.answer->status != 504) fail("unexpected answer");
    if (!client.written.empty() && client.written.compare(0, 9, "HTTP/1.1 ") != 0) fail("bad status line sent");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    run(bytes, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    run(bytes, "HEAD /x HTTP/1.0\r\nHost: x\r\n\r\n");
    run(bytes, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
    return 0;
}
