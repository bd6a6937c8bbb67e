#pragma once
// Private to src/net: how a session reads one HTTP request - Beast's parser
// with the server's limits, what is already buffered parsed first - and what
// a failed read answers. session.cpp does the I/O around these; the
// http_request fuzz target (fuzz/http_request.cpp) drives the same functions
// from an in-memory stream.

#include "server_context.hpp"

#include <certauth/net/handler.hpp>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace certauth::net::detail {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// A connection's read buffer: one request at the limits, plus room for the
// start of a pipelined one. Beyond it a read fails with buffer_overflow.
inline std::size_t read_buffer_limit(const Limits& limits) {
    return limits.max_header_size + limits.max_body_size + 16 * 1024;
}

// A fresh parser for the next request on a connection.
inline void configure_parser(RequestParser& parser, const Limits& limits) {
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_size));
    parser.body_limit(limits.max_body_size);
    parser.eager(true);
}

// Parses what is already in `buffer` (usually the whole request came in one
// read) and consumes it. True when that settled the request: complete, or
// failed with `ec`; false when more bytes must be read (ec cleared).
inline bool parse_buffered(RequestParser& parser, boost::beast::flat_buffer& buffer, boost::beast::error_code& ec) {
    namespace http = boost::beast::http;
    ec = {};
    if (buffer.size() == 0) return false;
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == http::error::need_more) {
        ec = {};
        return false;
    }
    return ec || parser.is_done();
}

// The answer to a failed request read: 431 (request line and headers too
// large), 413 (body too large) or 400 (malformed); nullopt when the
// connection is just closed (end of stream, a request cut short, a timeout,
// a cancelled or failed transport).
inline std::optional<Response> read_error_response(const boost::beast::error_code& ec, const RequestParser& parser,
                                                   const Limits& limits) {
    namespace http = boost::beast::http;
    if (!ec || ec.category() != http::make_error_code(http::error::bad_target).category()) return std::nullopt;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
    if (ec == http::error::header_limit || (ec == http::error::buffer_overflow && !parser.is_header_done()))
        return respond_error(431, "the request line and headers exceed " + std::to_string(limits.max_header_size) +
                                      " bytes");
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
        return respond_error(413, "the request body exceeds " + std::to_string(limits.max_body_size) + " bytes");
    return respond_error(400, "malformed HTTP request: " + ec.message());
}

// The facts handler.hpp answers from (views into `request`).
inline RequestFacts request_facts(const RequestParser::value_type& request) {
    RequestFacts facts;
    facts.method = std::string_view(request.method_string().data(), request.method_string().size());
    facts.target = std::string_view(request.target().data(), request.target().size());
    facts.version = request.version();
    facts.keep_alive = request.keep_alive();
    return facts;
}

// The Host header, "" when absent (for respond_plain_http).
inline std::string_view request_host(const RequestParser::value_type& request) {
    const auto host = request.find(boost::beast::http::field::host);
    if (host == request.end()) return {};
    return std::string_view(host->value().data(), host->value().size());
}

} // namespace certauth::net::detail
