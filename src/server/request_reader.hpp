#pragma once
// Private to src/server: how a session reads one HTTP request - Beast's parser
// with the server's limits, what is already buffered parsed first - and what
// a failed read answers. session.cpp does the I/O around these; the
// http_request fuzz target (fuzz/http_request.cpp) drives the same functions
// from an in-memory stream.

#include "server_context.hpp"

#include <certauth/server/handler.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace certauth::server::detail {

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

// The request's Transfer-Encoding fields, joined as one list ("" when none).
inline std::string transfer_codings(const RequestParser::value_type& request) {
    namespace http = boost::beast::http;
    std::string codings;
    const auto [first, last] = request.equal_range(http::field::transfer_encoding);
    for (auto field = first; field != last; ++field) {
        if (field != first) codings += ", ";
        codings.append(field->value().data(), field->value().size());
    }
    return codings;
}

// What makes a request's body framing ambiguous, for a person; nullopt when
// it is not. A body is framed by Content-Length or by Transfer-Encoding:
// chunked, never both, and chunked is the only transfer coding a request
// may carry here (RFC 9112 6.1 and 6.3: a Transfer-Encoding whose final
// coding is not chunked cannot be framed; HTTP/1.0 has no Transfer-Encoding).
// Beast reads "chunked, identity" or "xchunked" as "no body", and the body
// would then be read as the next request: a request smuggled past the
// decision. Such requests are answered 400 and the connection closed.
inline std::optional<std::string> framing_problem(const RequestParser::value_type& request) {
    namespace http = boost::beast::http;
    if (request.find(http::field::transfer_encoding) == request.end()) return std::nullopt;
    if (request.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
    if (request.find(http::field::content_length) != request.end()) return "both Transfer-Encoding and Content-Length";
    const std::string codings = transfer_codings(request);
    std::size_t count = 0;
    bool chunked = true;
    for (const auto coding : http::token_list(codings)) {
        ++count;
        chunked = chunked && boost::beast::iequals(coding, "chunked");
    }
    if (count != 1 || !chunked)
        return "Transfer-Encoding \"" + codings + "\": only \"chunked\" is accepted in a request";
    return std::nullopt;
}

// How far parse_request goes: the header (the session decides at it what
// to do with the request), or the whole message.
enum class ParseStop { header, message };

// Parses what is in `buffer` and consumes it, holding the request line and
// headers to limits.max_header_size bytes in total. Beast's header_limit
// holds per call to put(), and a header that arrives in pieces is parsed in
// pieces (each complete field consumed), so alone it would let a header grow
// to several times the limit; the parser is shown no more than what is left
// of the budget until the header is done. `header_bytes` counts what the
// parser has consumed of this request's header (0 for a new request). True
// when that settled the request: complete (with ParseStop::header: its header
// complete), or failed with `ec` (header_limit once the budget is spent
// without the end of the header); false when more bytes must be read.
inline bool parse_request(RequestParser& parser, boost::beast::flat_buffer& buffer, const Limits& limits,
                          std::size_t& header_bytes, boost::beast::error_code& ec,
                          ParseStop stop = ParseStop::message) {
    namespace http = boost::beast::http;
    ec = {};
    for (;;) {
        if (parser.is_done() || (stop == ParseStop::header && parser.is_header_done())) return true;
        const bool in_header = !parser.is_header_done();
        const std::size_t left =
            in_header ? limits.max_header_size - std::min(header_bytes, limits.max_header_size) : buffer.size();
        if (in_header && left == 0) {
            ec = http::error::header_limit;
            return true;
        }
        if (buffer.size() == 0) return false;
        const auto data = buffer.data();
        const std::size_t shown = std::min(data.size(), left);
        std::size_t used = 0;
        try {
            used = parser.put(boost::asio::const_buffer(data.data(), shown), ec);
        } catch (const std::length_error&) {
            // Beast stores a field of at most 64 KiB and throws beyond: with
            // a header limit above that, such a field is over the limit too
            // (431), and so is a trailer field of that size.
            ec = http::error::header_limit;
            return true;
        }
        buffer.consume(used);
        if (in_header && !parser.is_header_done()) header_bytes += used;
        if (in_header && parser.is_header_done() && framing_problem(parser.get())) {
            ec = http::error::bad_transfer_encoding; // read_error says which problem
            return true;
        }
        if (ec == http::error::need_more) {
            ec = {};
            if (used > 0) continue; // complete fields consumed: the rest may parse now
            if (in_header && shown == left) {
                ec = http::error::header_limit; // the whole budget shown, no end of header in it
                return true;
            }
            // In the body, the parser consumes data as it comes and holds back
            // only a chunk-size line or the trailer section until it is whole:
            // those are bounded by the header limit as the header is.
            if (!in_header && buffer.size() > limits.max_header_size) {
                ec = http::error::header_limit;
                return true;
            }
            return false;
        }
        if (ec || parser.is_done()) return true;
        if (used == 0) return false;
    }
}

// How many bytes the next read may add to the connection's buffer.
inline std::size_t read_room(const boost::beast::flat_buffer& buffer) {
    return std::min<std::size_t>(16 * 1024, buffer.max_size() - buffer.size());
}

// A failed read in the middle of a request, as http::read reports it: the end
// of the stream is end_of_stream before the request's first byte and
// partial_message after it.
inline boost::beast::error_code read_failure(const boost::beast::error_code& ec, const RequestParser& parser) {
    namespace http = boost::beast::http;
    if (ec == boost::asio::error::eof)
        return parser.got_some() ? http::error::partial_message : http::error::end_of_stream;
    return ec;
}

// Reads one request from a synchronous stream as the session reads it from
// its socket: parse_request, then reads of read_room() until it settles.
template <class SyncReadStream>
void read_request(SyncReadStream& stream, boost::beast::flat_buffer& buffer, RequestParser& parser,
                  const Limits& limits, boost::beast::error_code& ec) {
    std::size_t header_bytes = 0;
    while (!parse_request(parser, buffer, limits, header_bytes, ec)) {
        const std::size_t room = read_room(buffer);
        if (room == 0) {
            ec = boost::beast::http::error::buffer_overflow;
            return;
        }
        const std::size_t n = stream.read_some(buffer.prepare(room), ec);
        buffer.commit(n);
        if (ec) {
            ec = read_failure(ec, parser);
            return;
        }
    }
}

// What a failed request read is answered with: 431 (request line and
// headers too large), 413 (body too large) or 400 (malformed), and why
// (handler.hpp's respond_error makes it the answer); nullopt when the
// connection is just closed (end of stream, a request cut short, a timeout,
// a cancelled or failed transport).
struct ReadError {
    int status = 400;
    std::string detail;
};

inline std::optional<ReadError> read_error(const boost::beast::error_code& ec, const RequestParser& parser,
                                           const Limits& limits) {
    namespace http = boost::beast::http;
    if (!ec || ec.category() != http::make_error_code(http::error::bad_target).category()) return std::nullopt;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
    if (ec == http::error::header_limit && parser.is_header_done())
        return ReadError{431, "the request's trailer fields (or a chunk-size line) exceed " +
                                  std::to_string(limits.max_header_size) + " bytes"};
    if (ec == http::error::header_limit || (ec == http::error::buffer_overflow && !parser.is_header_done()))
        return ReadError{431,
                         "the request line and headers exceed " + std::to_string(limits.max_header_size) + " bytes"};
    if (ec == http::error::bad_transfer_encoding && parser.is_header_done())
        if (const std::optional<std::string> problem = framing_problem(parser.get()))
            return ReadError{400, "ambiguous request body framing: " + *problem};
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
        return ReadError{413, "the request body exceeds " + std::to_string(limits.max_body_size) + " bytes"};
    // Beast refuses some framings at the field itself, before the header is
    // done (the field it refused is not in the message): named as
    // framing_problem names the others.
    if (!parser.is_header_done()) {
        const auto& request = parser.get();
        const bool has_length = request.find(http::field::content_length) != request.end();
        const bool has_coding = request.find(http::field::transfer_encoding) != request.end();
        if ((ec == http::error::bad_content_length && has_coding) ||
            (ec == http::error::bad_transfer_encoding && has_length))
            return ReadError{400, "ambiguous request body framing: both Transfer-Encoding and Content-Length"};
        if (ec == http::error::multiple_content_length)
            return ReadError{400, "ambiguous request body framing: Content-Length values that differ"};
        // A Transfer-Encoding field after one that ended in chunked.
        if (ec == http::error::bad_transfer_encoding && has_coding)
            return ReadError{
                400, "ambiguous request body framing: Transfer-Encoding \"" + transfer_codings(request) +
                         "\" followed by another Transfer-Encoding field: only \"chunked\" is accepted in a request"};
    }
    return ReadError{400, "malformed HTTP request: " + ec.message()};
}

// The facts handler.hpp answers from (views into `request`).
inline RequestFacts request_facts(const RequestParser::value_type& request) {
    RequestFacts facts;
    facts.method = std::string_view(request.method_string().data(), request.method_string().size());
    facts.target = std::string_view(request.target().data(), request.target().size());
    facts.version = request.version();
    facts.keep_alive = request.keep_alive();
    const auto accept = request.find(boost::beast::http::field::accept);
    if (accept != request.end()) facts.accept = std::string_view(accept->value().data(), accept->value().size());
    return facts;
}

// The Host header, "" when absent (for respond_plain_http).
inline std::string_view request_host(const RequestParser::value_type& request) {
    const auto host = request.find(boost::beast::http::field::host);
    if (host == request.end()) return {};
    return {host->value().data(), host->value().size()};
}

} // namespace certauth::server::detail
