// Fuzz target: the server's request handling from raw bytes. The bytes arrive
// on an in-memory stream (beast::test::stream) and go through what a session
// does with a connection's bytes (src/server/session.cpp): the read buffer and
// parser limits of request_reader.hpp, read_request (parse what is buffered,
// hold the header limit over the whole header, read more until the request
// settles), the error answers (431/413/400), then handler.hpp's handle() or
// respond_plain_http() and serialize(), request after request while the
// connection is kept alive. Each input runs three times: a TLS connection of
// joe (authorised, role admin) read whole, a TLS connection without a client
// certificate read 13 bytes at a time, and plain HTTP to the TLS port read 64
// bytes at a time; fixtures/users.json and its routes apply.
#include "request_reader.hpp"
#include "server_context.hpp"

#include <certauth/policy/decide.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/server/handler.hpp>
#include <certauth/server/server_state.hpp>
#include <certauth/x509/certificate.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace {

using namespace certauth;
namespace beast = boost::beast;
using Clock = std::chrono::system_clock;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_http_request: %s\n", what);
    __builtin_trap();
}

template <class T>
T must(Result<T> result) {
    if (!result) {
        std::fprintf(stderr, "fuzz_http_request: %s\n", result.error().message.c_str());
        std::abort();
    }
    return std::move(*result);
}

struct Fixture {
    policy::UserList users;
    server::ConnectionDecision joe;  // authorised, role admin
    server::ConnectionDecision none; // no client certificate
};

server::ConnectionDecision connection(const policy::UserList& users, const char* cert_file) {
    const std::string fixtures = std::string(CERTAUTH_SOURCE_DIR) + "/fixtures/";
    const Clock::time_point now = std::chrono::sys_days{std::chrono::year{2025} / 6 / 1};
    server::ConnectionDecision out;
    if (cert_file == nullptr) {
        out.decision = policy::decide(nullptr, std::nullopt, &users, now);
    } else {
        const x509::Chain chain = must(x509::load_chain(fixtures + cert_file));
        const x509::CertFacts facts = chain.front().facts();
        x509::ChainStatus verified;
        verified.problem = x509::ChainProblem::none;
        out.decision = policy::decide(&facts, verified, &users, now);
        out.cn = facts.cn();
        out.fingerprint = server::FingerprintPrefix(facts.fingerprint256);
    }
    out.body = server::decision_body(out.decision, out.cn);
    return out;
}

const Fixture& fixture() {
    static const Fixture f = [] {
        Fixture out{must(policy::UserList::load(std::string(CERTAUTH_SOURCE_DIR) + "/fixtures/users.json")), {}, {}};
        out.joe = connection(out.users, "joe.crt");
        out.none = connection(out.users, nullptr);
        if (!out.joe.decision.allowed() || out.none.decision.allowed()) fail("fixture decisions are not as expected");
        return out;
    }();
    return f;
}

const server::Limits k_default_limits{}; // the server's defaults (ServerOptions)
// The largest limits serve allows (--max-header-size, --max-body-size up to
// 1 MiB here): a header field may then exceed what Beast stores (64 KiB).
const server::Limits k_large_limits = [] {
    server::Limits limits;
    limits.max_header_size = 1024 * 1024;
    limits.max_body_size = 1024 * 1024;
    return limits;
}();
constexpr std::string_view k_date = "Sun, 06 Nov 1994 08:49:37 GMT";

// One connection's requests, as the session handles them.
void connection_run(std::string_view bytes, std::size_t read_size, const server::ConnectionDecision* tls,
                    const server::Limits& limits) {
    boost::asio::io_context ioc;
    beast::test::stream stream(ioc);
    stream.append(beast::string_view(bytes.data(), bytes.size()));
    stream.read_size(read_size);
    stream.close_remote(); // end of stream once the bytes are read

    const policy::UserList& users = fixture().users;
    beast::flat_buffer buffer(server::detail::read_buffer_limit(limits));
    std::optional<server::detail::RequestParser> parser;
    std::string out;
    for (int requests = 0;; ++requests) {
        if (requests > 100000) fail("more requests than bytes");
        if (buffer.size() == 0) { // the session waits for the next request's first bytes
            beast::error_code ec;
            const std::size_t room = std::min<std::size_t>(8192, buffer.max_size() - buffer.size());
            buffer.commit(stream.read_some(buffer.prepare(room), ec));
            if (ec) return; // the client closed
        }
        parser.emplace();
        server::detail::configure_parser(*parser, limits);
        beast::error_code ec;
        server::detail::read_request(stream, buffer, *parser, limits, ec);

        out.clear();
        if (ec) {
            const std::optional<server::detail::ReadError> error = server::detail::read_error(ec, *parser, limits);
            if (!error) return; // dropped
            if (error->status != 400 && error->status != 413 && error->status != 431)
                fail("a read error answered other than 400, 413 or 431");
            const server::Response answer = server::respond_error(error->status, error->detail);
            if (answer.keep_alive) fail("an error answer keeps the connection");
            server::serialize(answer, 11, k_date, out);
            return;
        }
        const server::RequestFacts facts = server::detail::request_facts(parser->get());
        server::Response response;
        if (tls) {
            server::Action action = server::handle(facts, *tls, &users, server::Output::answer);
            if (!std::holds_alternative<server::Response>(action)) fail("answer mode forwarded a request");
            response = std::get<server::Response>(std::move(action));
        } else {
            response = server::respond_plain_http(facts, server::detail::request_host(parser->get()));
        }
        if (response.status < 200 || response.status > 599) fail("status out of range");
        server::serialize(response, facts.version, k_date, out);
        if (out.compare(0, 9, "HTTP/1.1 ") != 0) fail("response does not start with a status line");
        if (!response.keep_alive) return;
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)fixture();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    connection_run(bytes, static_cast<std::size_t>(-1), &fixture().joe, k_default_limits);
    connection_run(bytes, 13, &fixture().none, k_default_limits);
    connection_run(bytes, 64, nullptr, k_default_limits);
    connection_run(bytes, 4096, &fixture().joe, k_large_limits);
    return 0;
}
