// One HTTPS request (certauth probe URL and each scenario case). One of the
// two translation units of the client that compile Asio and Beast; the
// OpenSSL side (context, verification record, failure classification) is in
// client_context.cpp.
#include <certauth/client/client.hpp>

#include "client_tls.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/err.h>

#include <array>
#include <exception>
#include <memory>

namespace certauth::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* k_user_agent = "certauth-probe/0.1.0";

std::chrono::microseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

std::string seconds_text(std::chrono::milliseconds timeout) {
    const double s = static_cast<double>(timeout.count()) / 1000.0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", s);
    return buf;
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
    const std::string address = endpoint.address().to_string();
    return (endpoint.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(endpoint.port());
}

// Socket and stream errors (not TLS): refused, unreachable, reset, timeout.
Failure socket_failure(const beast::error_code& ec, std::string_view during, std::string_view target,
                       std::chrono::milliseconds timeout) {
    if (ec == beast::error::timeout)
        return {FailureKind::timed_out, "timed out after " + seconds_text(timeout) + " " + std::string(during)};
    if (ec == asio::error::connection_refused)
        return {FailureKind::connection_refused,
                "connection refused: nothing listens on " + std::string(target) + " (" + ec.message() + ")"};
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated || ec == asio::error::connection_reset)
        return {FailureKind::connection_closed,
                "the server closed the connection " + std::string(during) + " (" + ec.message() + ")"};
    return {FailureKind::connection_failed,
            "connection to " + std::string(target) + " failed " + std::string(during) + ": " + ec.message()};
}

http::request<http::empty_body> build_request(const ClientRequest& request) {
    http::request<http::empty_body> req{request.method == HttpMethod::head ? http::verb::head : http::verb::get,
                                        request.url.target, 11};
    req.set(http::field::host, request.url.authority());
    req.set(http::field::user_agent, k_user_agent);
    req.set(http::field::accept, "*/*");
    for (const Header& header : request.headers) {
        if (header.value.empty()) {
            req.erase(header.name); // curl: "Name:" removes a header
            continue;
        }
        req.erase(header.name);
        req.insert(header.name, header.value);
    }
    return req;
}

struct Job {
    const ClientContext& context;
    const ClientRequest& request;
    Exchange& exchange;
    Clock::time_point start;
    Clock::time_point deadline;
};

asio::awaitable<void> run_exchange(ssl::context& tls, Job job) {
    const ClientRequest& request = job.request;
    Exchange& out = job.exchange;
    auto executor = co_await asio::this_coro::executor;
    beast::error_code ec;

    const std::string host = connect_host(request.url, request.resolve);
    const std::string target =
        (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(request.url.port);

    // 1. resolve (bounded by the deadline)
    std::vector<tcp::endpoint> endpoints;
    if (is_ip_address(host)) {
        endpoints.emplace_back(asio::ip::make_address(host), request.url.port);
    } else {
        auto resolver = std::make_shared<tcp::resolver>(executor);
        asio::steady_timer timer(executor, job.deadline);
        timer.async_wait([weak = std::weak_ptr<tcp::resolver>(resolver)](const beast::error_code& e) {
            if (!e)
                if (auto r = weak.lock()) r->cancel();
        });
        auto results = co_await resolver->async_resolve(host, std::to_string(request.url.port),
                                                        asio::redirect_error(asio::use_awaitable, ec));
        timer.cancel();
        if (ec == asio::error::operation_aborted) {
            out.failure = Failure{FailureKind::timed_out,
                                  "timed out after " + seconds_text(request.timeout) + " resolving '" + host + "'"};
            co_return;
        }
        if (ec || results.empty()) {
            out.failure = Failure{FailureKind::name_not_resolved,
                                  "name not resolved: '" + host + "' (" + (ec ? ec.message() : "no address") + ")"};
            co_return;
        }
        for (const auto& entry : results)
            endpoints.push_back(entry.endpoint());
    }

    // 2. connect
    beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
    beast::tcp_stream& socket = beast::get_lowest_layer(stream);
    socket.expires_at(job.deadline);
    const Clock::time_point connect_start = Clock::now();
    const tcp::endpoint peer = co_await socket.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        out.failure = socket_failure(ec, "while connecting", target, request.timeout);
        co_return;
    }
    out.peer = endpoint_text(peer);
    out.connect_time = since(connect_start);
    socket.socket().set_option(tcp::no_delay(true));

    // 3. TLS handshake
    const std::string verify_name = request.servername.empty() ? request.url.host : request.servername;
    detail::HandshakeRecord record;
    detail::prepare_ssl(stream.native_handle(), job.context, verify_name, &record, detail::Detail::verbose);
    const Clock::time_point handshake_start = Clock::now();
    co_await stream.async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        detail::summarise(stream.native_handle(), record, out.tls);
        out.tls.handshake_done = false;
        if (ec.category() == asio::error::get_ssl_category())
            out.failure =
                detail::classify_tls_failure(static_cast<unsigned long>(ec.value()), &record, job.context, verify_name);
        else
            out.failure = socket_failure(ec, "during the TLS handshake", target, request.timeout);
        ERR_clear_error();
        co_return;
    }
    out.handshake_time = since(handshake_start);
    detail::summarise(stream.native_handle(), record, out.tls);
    out.tls.handshake_done = true;

    // 4. request
    auto req = build_request(request);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        // TLS 1.3: a server that refuses the certificate after the handshake
        // may have sent its alert already. When the write met the reset
        // that followed it, the alert may still wait unread in the socket:
        // one read lets OpenSSL take it (bounded by the deadline).
        if (ec.category() != asio::error::get_ssl_category()) {
            std::array<char, 512> sink{};
            beast::error_code read_ec;
            co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, read_ec));
            if (read_ec.category() == asio::error::get_ssl_category()) ec = read_ec;
        }
        detail::summarise(stream.native_handle(), record, out.tls);
        if (ec.category() == asio::error::get_ssl_category())
            out.failure =
                detail::classify_tls_failure(static_cast<unsigned long>(ec.value()), &record, job.context, verify_name);
        else
            out.failure = socket_failure(ec, "while sending the request", target, request.timeout);
        ERR_clear_error();
        co_return;
    }

    // 5. response (TLS 1.3: a refused client certificate shows up here, as an alert)
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(k_body_limit);
    if (request.method == HttpMethod::head) parser.skip(true);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        detail::summarise(stream.native_handle(), record, out.tls);
        if (ec.category() == asio::error::get_ssl_category())
            out.failure =
                detail::classify_tls_failure(static_cast<unsigned long>(ec.value()), &record, job.context, verify_name);
        else if (ec == http::error::body_limit)
            out.failure = Failure{FailureKind::http_error, "the response body is larger than " +
                                                               std::to_string(k_body_limit / (1024 * 1024)) + " MiB"};
        else if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message)
            out.failure = Failure{FailureKind::http_error, "invalid HTTP response: " + ec.message()};
        else if (ec == http::error::end_of_stream || ec == http::error::partial_message)
            out.failure =
                Failure{FailureKind::connection_closed, "the server closed the connection before a complete response"};
        else
            out.failure = socket_failure(ec, "waiting for the response", target, request.timeout);
        ERR_clear_error();
        co_return;
    }
    // The session tickets of TLS 1.3 arrive after the handshake: summarise again.
    detail::summarise(stream.native_handle(), record, out.tls);
    out.tls.handshake_done = true;

    const auto& message = parser.get();
    ClientResponse response;
    response.version = static_cast<int>(message.version());
    response.status = static_cast<int>(message.result_int());
    response.reason_phrase = std::string(message.reason());
    for (const auto& field : message)
        response.headers.push_back(Header{std::string(field.name_string()), std::string(field.value())});
    response.body = message.body();
    out.response = std::move(response);

    beast::error_code ignored;
    socket.socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket.close();
}

} // namespace

Exchange fetch(const ClientContext& context, const ClientRequest& request) {
    Exchange exchange;
    SSL_CTX_up_ref(context.native()); // asio's context takes one reference
    ssl::context tls(context.native());
    asio::io_context io(1);
    const Clock::time_point start = Clock::now();
    Job job{context, request, exchange, start, start + request.timeout};
    asio::co_spawn(io, run_exchange(tls, job), [](const std::exception_ptr& e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
    exchange.total_time = since(start);
    return exchange;
}

} // namespace certauth::client
