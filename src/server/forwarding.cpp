#include "forwarding.hpp"

#include <certauth/ascii.hpp>
#include <certauth/json_text.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <utility>

#include <nlohmann/json.hpp>

namespace certauth::server::detail {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using Steady = std::chrono::steady_clock;
using error_code = boost::system::error_code;

// How many bytes each direction moves before it writes them on: the bound
// on what a forwarded request holds in memory per direction.
constexpr std::size_t k_chunk = k_forwarding_scratch;
// The application's status line and headers, at most.
constexpr std::size_t k_response_header_limit = 64 * 1024;

using BodyParser = http::request_parser<http::buffer_body>;
using ResponseParser = http::response_parser<http::buffer_body>;

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

// What a proxy reports of the client's connection: its address, scheme,
// host, port or path prefix. From a client none of it is true (certauth
// writes X-Forwarded-For, -Proto and -Host itself), and applications and
// frameworks believe them.
bool connection_report(std::string_view name) noexcept {
    return ascii::istarts_with(name, "x-forwarded-") || ascii::iequals(name, "forwarded") ||
           ascii::iequals(name, "x-real-ip") || ascii::iequals(name, "x-client-ip") ||
           ascii::iequals(name, "true-client-ip");
}

// Headers some frameworks route on instead of the request line (IIS,
// Symfony, Laminas): certauth decided on the request line, so they never pass.
bool routing_override(std::string_view name) noexcept {
    return ascii::iequals(name, "x-original-url") || ascii::iequals(name, "x-rewrite-url");
}

// Only a WebSocket upgrade is tunnelled: after a 101 the bytes pass
// unread, so another protocol (h2c) would carry requests past the routes.
bool websocket_upgrade(std::string_view value) noexcept { return ascii::iequals(ascii::trim(value), "websocket"); }

// Headers of one hop only (RFC 9110 7.6.1), and those certauth writes
// itself (framing, Host, Expect): never copied from one side to the other.
bool hop_by_hop(std::string_view name) noexcept {
    for (const std::string_view hop :
         {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
          "content-length", "expect", "proxy-authorization", "proxy-authenticate"})
        if (ascii::iequals(name, hop)) return true;
    return false;
}

// The names a message's Connection headers list: hop-by-hop for it. Reads
// the headers in place (the message must outlive it, unchanged).
template <class Fields>
class ConnectionList {
  public:
    explicit ConnectionList(const Fields& fields) : m_range(fields.equal_range(http::field::connection)) {}
    bool lists(std::string_view name) const {
        for (auto field = m_range.first; field != m_range.second; ++field)
            for (const auto token : http::token_list(field->value()))
                if (ascii::iequals(view(token), name)) return true;
        return false;
    }

  private:
    std::pair<typename Fields::const_iterator, typename Fields::const_iterator> m_range;
};

void append_number(std::string& out, std::uint64_t value, int base = 10) {
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, base);
    (void)ec;
    out.append(buf, end);
}

void append_chunk(std::string& out, const char* data, std::size_t size) {
    append_number(out, size, 16);
    out += "\r\n";
    out.append(data, size);
    out += "\r\n";
}

constexpr std::string_view k_last_chunk = "0\r\n\r\n";

Response gateway_error(int status, std::string_view detail) {
    Response response;
    response.status = status;
    response.keep_alive = false;
    nlohmann::ordered_json body = nlohmann::ordered_json::object();
    body["error"] = status == 504   ? "gateway_timeout"
                    : status == 502 ? "bad_gateway"
                    : status == 413 ? "payload_too_large"
                                    : "bad_request";
    body["detail"] = detail;
    response.set_body(json_text(body) + '\n');
    return response;
}

bool idempotent(std::string_view method) {
    for (const std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
        if (method == m) return true;
    return false;
}

std::string seconds_text(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
}

enum class Phase { connecting, sending, awaiting_head, relaying, tunnel, done };

} // namespace

struct Forwarding::State {
    State(const ForwardingConfig& c, UpstreamPool& p, UpstreamConnection::Executor e, std::span<char> s, ClientIo& io,
          RequestParser&& header)
        : config(c), pool(p), executor(std::move(e)), client(io), request(std::move(header)), scratch(s) {}

    const ForwardingConfig& config;
    UpstreamPool& pool;
    UpstreamConnection::Executor executor;
    ClientIo& client;
    BodyParser request;
    std::span<char> scratch; // the worker's; see Forwarding's constructor
    std::string client_in;   // from the client, not parsed yet
    std::string_view identity;
    std::string peer;
    ClientLink link = ClientLink::tls;

    // The request.
    bool head_request = false;
    bool upgrade_requested = false;
    bool retry_allowed = false;
    bool chunked_out = false; // the request body goes out chunked
    bool client_keep_alive = true;
    unsigned client_version = 11;
    std::string request_head; // kept for a retry
    bool body_started = false;

    // The application's side.
    UpstreamConnection up;
    std::size_t next_address = 0;
    bool connecting = false;
    bool from_pool = false;
    bool taken_unchecked = false; // taken without the pool's check
    bool close_unchecked = false; // and nothing of the answer yet (unchecked_upstream())
    bool retried = false;
    std::string up_out;
    std::size_t up_out_sent = 0;
    std::string up_in;
    std::optional<ResponseParser> response;
    bool response_started = false;

    // The client's side.
    std::string client_out; // being written whole (ClientIo::write)
    bool chunked_to_client = false;
    bool close_delimited = false; // the response body ends when the application closes

    Phase phase = Phase::connecting;
    Steady::time_point started;
    Steady::time_point upstream_started;
    Steady::time_point request_sent;
    Steady::time_point deadline;
    bool timed_out = false;
    bool waiting_for_client = false; // the last wait was the client's (a timeout is then its fault)
    bool client_eof = false;
    bool upstream_eof = false;
    Forwarded result;

    const client::UpstreamTarget& target() const { return config.options.target; }
    std::string where() const {
        std::string text = "the application at " + target().text;
        return text;
    }

    // --- ending -------------------------------------------------------------

    std::optional<Need> fail(int status, const std::string& detail) {
        if (!response_started) {
            result.answer = gateway_error(status, detail);
            result.answer->head = head_request; // its headers, no body
            result.answer_detail = detail;
            result.status = status;
            if (status == 504) result.upstream_error = UpstreamError::timeout;
            if (status == 502 && result.upstream_error == UpstreamError::none)
                result.upstream_error = phase == Phase::connecting ? UpstreamError::connect : UpstreamError::closed;
        }
        result.keep_client = false;
        up.reset();
        phase = Phase::done;
        return std::nullopt;
    }

    std::optional<Need> cut() {
        // Part of the answer went out: the client sees a cut connection.
        result.keep_client = false;
        up.reset();
        phase = Phase::done;
        return std::nullopt;
    }

    // --- connecting ---------------------------------------------------------

    // The next connection to try: a kept-alive one, else a new one to the
    // next address. False when none is left (the error is in `why`).
    bool open(std::string& why, Steady::time_point now) {
        close_unchecked = false;
        taken_unchecked = false;
        if (!retried) {
            // A request that may be sent again skips the pool's check of a
            // connection on which nothing has been announced since its last
            // answer (UpstreamConnection::quiet()): if the application
            // closed it, unseen, with that answer, the request is sent again
            // on a new one (upstream_broken).
            bool taken_quiet = false;
            up = pool.take([&](UpstreamConnection& kept) {
                taken_quiet = retry_allowed && kept.quiet();
                return taken_quiet;
            });
            if (up) {
                // Waited on without re-arming: the check found nothing in it,
                // or nothing was announced but maybe a close that came with
                // its last answer, which Session::check() looks for at the
                // next sweep (unchecked_upstream()) if no answer came first.
                up.set_emptied(true);
                close_unchecked = taken_quiet;
                taken_unchecked = taken_quiet;
                from_pool = true;
                connecting = false;
                upstream_started = now;
                return true;
            }
        }
        from_pool = false;
        while (next_address < config.addresses.size()) {
            const client::UpstreamAddress& address = config.addresses[next_address++];
            auto started_connect = client::start_connect(address);
            if (!started_connect) {
                why = address.text + ": " + started_connect.error().message;
                continue;
            }
            up = UpstreamConnection(executor, std::move(started_connect->fd), address.address.ss_family);
            if (!up) {
                why = address.text + ": the connection cannot be waited on";
                continue;
            }
            up.set_emptied(true); // nothing read yet: its first wait completes at once (emptied_read_wait.hpp)
            connecting = started_connect->in_progress;
            upstream_started = now;
            return true;
        }
        return false;
    }

    std::optional<Need> connect_step(Steady::time_point now) {
        if (!up) {
            upstream_started = now;
            std::string why = "no address";
            if (!open(why, now)) return fail(502, where() + " cannot be reached: " + why);
        } else if (connecting) {
            // Woken: the connection is made, or it failed (or a wait on an
            // earlier connection came back: still under way, wait on).
            const std::string why = client::finish_connect(up.get());
            if (why.empty() && client::still_connecting(up.get()))
                return need_upstream_write(now, config.options.timeout);
            if (why.empty()) {
                connecting = false;
            } else {
                up.reset();
                std::string next = why;
                if (!open(next, now)) return fail(502, where() + " refused the connection (" + why + ")");
            }
        }
        if (connecting) return need_upstream_write(now, config.options.timeout);
        phase = Phase::sending;
        up_out = request_head;
        up_out_sent = 0;
        return std::nullopt; // go on
    }

    // --- waiting ------------------------------------------------------------

    Steady::time_point deadline_from(Steady::time_point now, std::chrono::milliseconds timeout) {
        deadline = now + timeout;
        return deadline;
    }
    // The application must take what is sent within --upstream-timeout of
    // the last progress (connecting: of the start).
    Need need_upstream_write(Steady::time_point now, std::chrono::milliseconds timeout) {
        Need n;
        n.upstream_write = true;
        n.deadline = phase == Phase::connecting ? upstream_started + timeout : deadline_from(now, timeout);
        deadline = n.deadline;
        waiting_for_client = false;
        return n;
    }

    // --- the request ----------------------------------------------------------

    // Moves request body bytes from client_in into up_out (framed), while
    // up_out has room. False on an error of the body (body_error says which).
    error_code body_error;
    bool pump_request_body() {
        error_code& ec = body_error;
        ec = {};
        while (!request.is_done() && up_out.size() - up_out_sent < k_chunk && !client_in.empty()) {
            auto& body = request.get().body();
            body.data = scratch.data();
            body.size = scratch.size();
            const std::size_t used = request.put(boost::asio::buffer(client_in.data(), client_in.size()), ec);
            client_in.erase(0, used);
            const std::size_t produced = scratch.size() - body.size;
            if (ec == http::error::need_buffer) ec = {};
            if (produced > 0) {
                body_started = true;
                if (chunked_out)
                    append_chunk(up_out, scratch.data(), produced);
                else
                    up_out.append(scratch.data(), produced);
            }
            if (ec == http::error::need_more) {
                ec = {};
                if (used == 0 && produced == 0) break;
                continue;
            }
            if (ec) return false;
            if (used == 0 && produced == 0) break;
        }
        if (request.is_done() && chunked_out && !terminated) {
            up_out += k_last_chunk;
            terminated = true;
        }
        return true;
    }
    bool terminated = false;

    // Reads what the client sent into client_in (up to k_chunk held).
    Io read_client() {
        if (client_in.size() >= k_chunk) return Io::done;
        std::size_t n = 0;
        const Io io = client.read(scratch.data(), scratch.size() - client_in.size(), n);
        if (io == Io::done) client_in.append(scratch.data(), n);
        return io;
    }

    std::optional<Need> send_step(Steady::time_point now) {
        // Expect: 100-continue: the client waits for leave to send its body;
        // certauth gives it (the request is decided and will be forwarded).
        if (!client_out.empty()) {
            const Io io = write_client();
            if (io == Io::want_write || io == Io::want_read) {
                Need n;
                n.client_write = io == Io::want_write;
                n.client_read = io == Io::want_read;
                n.deadline = deadline_from(now, config.limits.request_timeout);
                waiting_for_client = true;
                return n;
            }
            if (io != Io::done) return cut();
        }
        for (;;) {
            if (!pump_request_body()) {
                if (body_error == http::error::body_limit)
                    return fail(413,
                                "the request body exceeds " + std::to_string(config.options.max_body_size) + " bytes");
                return fail(400, "the request body is not valid chunked encoding: " + body_error.message());
            }
            if (up_out_sent < up_out.size()) {
                const Io io = plain_write(up.get(), up_out.data(), up_out.size(), up_out_sent);
                if (io == Io::want_write) return need_upstream_write(now, config.options.timeout);
                if (io != Io::done) return upstream_broken("closed the connection while the request was sent", now);
                up_out.clear();
                up_out_sent = 0;
                continue;
            }
            if (!request.is_done()) {
                const Io io = read_client();
                if (io == Io::want_read) {
                    Need n;
                    n.client_read = true;
                    n.deadline = deadline_from(now, config.limits.request_timeout);
                    waiting_for_client = true;
                    return n;
                }
                if (io != Io::done) return cut(); // the client went away in the middle of its body
                continue;
            }
            phase = Phase::awaiting_head;
            just_sent = true;
            request_sent = now; // the application's time to answer counts from here
            return std::nullopt;
        }
    }

    // The application failed before its answer: a kept-alive connection it
    // closed meanwhile is replaced once, for a request that can be sent
    // again; otherwise 502.
    std::optional<Need> upstream_broken(const std::string& what, Steady::time_point now) {
        up.reset();
        if (from_pool && !retried && retry_allowed && !response_started) {
            if (taken_unchecked) pool.check_always(); // the application closes without saying so
            retried = true;
            result.retried = true;
            next_address = 0;
            phase = Phase::connecting;
            response.reset();
            up_in.clear();
            (void)now;
            return std::nullopt;
        }
        return fail(502, where() + " " + what);
    }

    // --- the response -----------------------------------------------------------

    void new_response_parser() {
        response.emplace();
        response->header_limit(k_response_header_limit);
        response->body_limit(boost::none);
        response->eager(true);
        if (head_request) response->skip(true);
    }

    Io read_upstream() {
        if (up_in.size() >= k_chunk) return Io::done;
        std::size_t n = 0;
        const std::size_t room = scratch.size() - up_in.size();
        const Io io = plain_read(up.get(), scratch.data(), room, n);
        if (io == Io::done) {
            up_in.append(scratch.data(), n);
            close_unchecked = false;
        }
        up.set_emptied(io == Io::want_read);
        up.set_drained(io == Io::want_read || (io == Io::done && n < room));
        return io;
    }

    bool just_sent = false; // the request went out in this step
    std::optional<Need> await_head_step(Steady::time_point now) {
        if (!response) new_response_parser();
        for (;;) {
            if (!up_in.empty()) {
                error_code ec;
                // Header only: nothing of the body goes into scratch yet.
                response->get().body().data = nullptr;
                response->get().body().size = 0;
                const std::size_t used = response->put(boost::asio::buffer(up_in.data(), up_in.size()), ec);
                up_in.erase(0, used);
                if (ec == http::error::need_buffer) ec = {};
                if (ec == http::error::need_more) ec = {};
                if (ec) {
                    result.upstream_error = UpstreamError::malformed;
                    return fail(502, where() + " sent a malformed response: " + ec.message());
                }
                if (response->is_header_done()) {
                    const unsigned status = response->get().result_int();
                    if (status >= 100 && status < 200 && status != 101) {
                        // An interim response (100 Continue, 103): the final one follows.
                        new_response_parser();
                        continue;
                    }
                    return begin_response(now);
                }
                if (used > 0) continue;
            }
            // A request sent a moment ago is seldom answered yet: waiting for
            // readability first spares the read that would find nothing.
            const Io io = std::exchange(just_sent, false) && up_in.empty() ? Io::want_read : read_upstream();
            if (io == Io::want_read) {
                Need n;
                n.upstream_read = true;
                n.deadline = request_sent + config.options.timeout;
                deadline = n.deadline;
                waiting_for_client = false;
                return n;
            }
            if (io == Io::closed) return upstream_broken("closed the connection before answering", now);
            if (io != Io::done) return upstream_broken("reset the connection before answering", now);
        }
    }

    std::optional<Need> begin_response(Steady::time_point now) {
        const auto& message = response->get();
        const unsigned status = message.result_int();
        result.upstream_status = static_cast<int>(status);
        result.upstream_latency = std::chrono::duration_cast<std::chrono::microseconds>(now - upstream_started);
        response_started = true;
        const bool switching = status == 101 && upgrade_requested;

        std::string& out = client_out;
        out.clear();
        out.reserve(1024); // the head, in one allocation as a rule
        out += "HTTP/1.1 ";
        append_number(out, status);
        out += ' ';
        out += view(message.reason());
        out += "\r\n";
        const ConnectionList connection(message);
        for (const auto& field : message) {
            const std::string_view name = view(field.name_string());
            if (hop_by_hop(name) || connection.lists(name)) continue;
            out += name;
            out += ": ";
            out += view(field.value());
            out += "\r\n";
        }
        if (switching) {
            out += "Connection: upgrade\r\nUpgrade: ";
            out += view(message[http::field::upgrade]);
            out += "\r\n\r\n";
            result.status = 101;
            phase = Phase::tunnel;
            // What the application sent after its 101 belongs to the tunnel.
            return std::nullopt;
        }

        const bool no_body = head_request || status == 204 || status == 304 || (status >= 100 && status < 200);
        const auto length = response->content_length();
        bool keep = client_keep_alive;
        if (no_body) {
            // HEAD and 304 tell the length of what GET would get.
            if (length && (head_request || status == 304)) {
                out += "Content-Length: ";
                append_number(out, *length);
                out += "\r\n";
            }
        } else if (length) {
            out += "Content-Length: ";
            append_number(out, *length);
            out += "\r\n";
        } else if (client_version >= 11) {
            out += "Transfer-Encoding: chunked\r\n";
            chunked_to_client = true;
        } else {
            keep = false; // HTTP/1.0: the body ends when certauth closes
        }
        close_delimited = !no_body && !length && !response->chunked();
        result.keep_client = keep;
        if (!keep)
            out += "Connection: close\r\n";
        else if (client_version < 11)
            out += "Connection: keep-alive\r\n";
        out += "\r\n";
        result.status = static_cast<int>(status);
        phase = Phase::relaying;
        // The body bytes already read go out with the head: one TLS record
        // for a small answer rather than two.
        if (!pump_response_body()) {
            // Nothing went out yet: broken framing in those bytes is a 502,
            // as a malformed head is.
            client_out.clear();
            chunked_to_client = false;
            response_started = false;
            result.upstream_error = UpstreamError::malformed;
            return fail(502, where() + " sent a malformed response body");
        }
        return std::nullopt;
    }

    // Parses the body in up_in into client_out (framed for the client), and
    // closes a chunked body once it is whole. Called only before a write of
    // client_out has begun or after it ended, so that a write that must wait
    // is retried with the bytes it began with.
    bool pump_response_body() {
        error_code ec;
        while (!response->is_done() && client_out.size() < k_chunk && !up_in.empty()) {
            auto& body = response->get().body();
            body.data = scratch.data();
            body.size = scratch.size();
            const std::size_t used = response->put(boost::asio::buffer(up_in.data(), up_in.size()), ec);
            up_in.erase(0, used);
            const std::size_t produced = scratch.size() - body.size;
            if (ec == http::error::need_buffer) ec = {};
            if (produced > 0) {
                if (chunked_to_client)
                    append_chunk(client_out, scratch.data(), produced);
                else
                    client_out.append(scratch.data(), produced);
            }
            if (ec == http::error::need_more) {
                ec = {};
                if (used == 0 && produced == 0) break;
                continue;
            }
            if (ec) return false;
            if (used == 0 && produced == 0) break;
        }
        if (response->is_done() && chunked_to_client) {
            chunked_to_client = false;
            client_out += k_last_chunk; // in one write with what was parsed with it
        }
        return true;
    }

    Io write_client() {
        if (client_out.empty()) return Io::done;
        const Io io = client.write(client_out);
        if (io == Io::done) client_out.clear();
        return io;
    }

    std::optional<Need> relay_step(Steady::time_point now) {
        for (;;) {
            if (!client_out.empty()) {
                const Io io = write_client();
                if (io == Io::want_write || io == Io::want_read) {
                    Need n;
                    n.client_write = io == Io::want_write;
                    n.client_read = io == Io::want_read;
                    n.deadline = deadline_from(now, config.options.timeout);
                    waiting_for_client = true;
                    return n;
                }
                if (io != Io::done) return cut();
                continue;
            }
            if (response->is_done()) return finish(now);
            if (!pump_response_body()) return cut(); // the application's framing broke: cut
            if (!client_out.empty()) continue;
            if (response->is_done()) continue;
            const Io io = read_upstream();
            if (io == Io::want_read) {
                Need n;
                n.upstream_read = true;
                n.deadline = deadline_from(now, config.options.timeout);
                waiting_for_client = false;
                return n;
            }
            if (io == Io::closed && close_delimited) {
                // The body ended with the connection: tell the parser so.
                error_code ec;
                response->put_eof(ec);
                if (ec || !pump_response_body()) return cut();
                continue;
            }
            if (io != Io::done) return cut(); // the application cut its answer short
        }
    }

    std::optional<Need> finish(Steady::time_point now) {
        // Back to the pool when the application keeps it and nothing is left over.
        if (up && response->keep_alive() && request.is_done() && up_in.empty() && !close_delimited) {
            up.cancel();
            pool.give_back(std::move(up), now);
        }
        up.reset();
        if (!request.is_done()) result.keep_client = false; // the rest of the body is unread
        result.leftover = std::move(client_in);
        phase = Phase::done;
        return std::nullopt;
    }

    // --- the tunnel -------------------------------------------------------------

    std::optional<Need> tunnel_step(Steady::time_point now) {
        Need n;
        bool progress = true;
        while (progress) {
            progress = false;
            // Application -> client.
            if (!client_out.empty()) {
                const Io io = write_client();
                if (io == Io::want_write)
                    n.client_write = true;
                else if (io == Io::want_read)
                    n.client_read = true;
                else if (io != Io::done)
                    return cut();
                else
                    progress = true;
            }
            if (client_out.empty() && !up_in.empty()) {
                client_out = std::move(up_in);
                up_in.clear();
                progress = true;
            }
            if (client_out.empty() && up_in.empty() && !upstream_eof && up) {
                const Io io = read_upstream();
                if (io == Io::want_read)
                    n.upstream_read = true;
                else if (io == Io::done)
                    progress = true;
                else
                    upstream_eof = true;
            }
            // Client -> application.
            if (up_out_sent < up_out.size() && up) {
                const Io io = plain_write(up.get(), up_out.data(), up_out.size(), up_out_sent);
                if (io == Io::want_write)
                    n.upstream_write = true;
                else if (io != Io::done)
                    return cut();
                else
                    progress = true;
            }
            if (up_out_sent >= up_out.size()) {
                up_out.clear();
                up_out_sent = 0;
                if (!client_in.empty()) {
                    up_out = std::move(client_in);
                    client_in.clear();
                    progress = true;
                } else if (!client_eof) {
                    const Io io = read_client();
                    if (io == Io::want_read)
                        n.client_read = true;
                    else if (io == Io::done)
                        progress = true;
                    else
                        client_eof = true;
                }
            }
        }
        // Either side closed, and what it sent before has gone on: over.
        const bool drained_to_client = client_out.empty() && up_in.empty();
        const bool drained_to_upstream = up_out_sent >= up_out.size() && client_in.empty();
        if ((upstream_eof && drained_to_client) || (client_eof && drained_to_upstream)) {
            result.keep_client = false;
            up.reset();
            phase = Phase::done;
            return std::nullopt;
        }
        n.deadline = deadline_from(now, std::max(config.limits.idle_timeout, config.options.timeout));
        waiting_for_client = false;
        return n;
    }
};

Forwarding::Forwarding(const ForwardingConfig& config, UpstreamPool& pool, const UpstreamConnection::Executor& executor,
                       std::span<char> scratch, ClientIo& client, RequestParser&& header, std::string client_bytes,
                       std::string_view identity, std::string_view peer_address, ClientLink link,
                       Steady::time_point now)
    : m(std::make_unique<State>(config, pool, executor, scratch, client, std::move(header))) {
    State& s = *m;
    s.client_in = std::move(client_bytes);
    s.identity = identity;
    s.peer = std::string(peer_address);
    s.link = link;
    s.started = now;
    s.upstream_started = now;
    s.request.eager(true);
    if (config.options.max_body_size > 0)
        s.request.body_limit(config.options.max_body_size);
    else
        s.request.body_limit(boost::none);

    const auto& request = s.request.get();
    const std::string_view method = view(request.method_string());
    s.head_request = method == "HEAD";
    s.client_version = request.version();
    s.client_keep_alive = request.keep_alive();
    s.chunked_out = s.request.chunked();
    const bool has_body = !s.request.is_done();
    s.retry_allowed = idempotent(method) && !has_body;
    const ConnectionList connection(request);
    const auto upgrade = request.find(http::field::upgrade);
    s.upgrade_requested =
        upgrade != request.end() && connection.lists("upgrade") && websocket_upgrade(view(upgrade->value()));

    // Nothing ambiguous goes on: two Host headers are refused.
    const auto [first_host, last_host] = request.equal_range(http::field::host);
    if (first_host != last_host && std::next(first_host) != last_host) {
        (void)s.fail(400, "the request has more than one Host header");
        return;
    }
    const bool has_host = first_host != last_host;

    std::string& head = s.request_head;
    head.reserve(1024);
    head += method;
    head += ' ';
    head += config.options.target.prefix;
    head += view(request.target());
    head += " HTTP/1.1\r\n";
    for (const auto& field : request) {
        const std::string_view name = view(field.name_string());
        // A name with '_' is dropped, as nginx does by default: CGI-style
        // servers read X_Certauth_User as X-Certauth-User.
        if (name.find('_') != std::string_view::npos) continue;
        if (hop_by_hop(name) || connection.lists(name) || is_identity_header(name) || routing_override(name) ||
            ascii::iequals(name, "host") || ascii::iequals(name, "x-forwarded-for") ||
            ascii::iequals(name, "x-forwarded-proto") || ascii::iequals(name, "x-forwarded-host") ||
            (link != ClientLink::trusted_proxy && connection_report(name)))
            continue;
        if (std::any_of(config.dropped_headers.begin(), config.dropped_headers.end(),
                        [&](const std::string& dropped) { return ascii::iequals(name, dropped); }))
            continue;
        head += name;
        head += ": ";
        head += view(field.value());
        head += "\r\n";
    }
    head += "Host: ";
    head += has_host ? view(first_host->value()) : std::string_view(config.options.target.authority());
    head += "\r\n";
    // From a trusted proxy, its X-Forwarded-For goes on with the proxy's
    // address appended (nginx's $proxy_add_x_forwarded_for) and its
    // X-Forwarded-Proto as it is (when it sent one, once); from a client,
    // certauth's own.
    std::string forwarded_for;
    std::optional<std::string_view> forwarded_proto;
    if (link == ClientLink::trusted_proxy) {
        const auto [first_for, last_for] = request.equal_range("X-Forwarded-For");
        for (auto field = first_for; field != last_for; ++field) {
            if (!forwarded_for.empty()) forwarded_for += ", ";
            forwarded_for += view(field->value());
        }
        const auto [first, last] = request.equal_range("X-Forwarded-Proto");
        if (first != last && std::next(first) == last) forwarded_proto = view(first->value());
    } else {
        forwarded_proto = "https";
    }
    if (!s.peer.empty()) { // none for a unix socket's peer
        if (!forwarded_for.empty()) forwarded_for += ", ";
        forwarded_for += s.peer;
    }
    if (!forwarded_for.empty()) {
        head += "X-Forwarded-For: ";
        head += forwarded_for;
        head += "\r\n";
    }
    if (forwarded_proto) {
        head += "X-Forwarded-Proto: ";
        head += *forwarded_proto;
        head += "\r\n";
    }
    if (has_host) {
        head += "X-Forwarded-Host: ";
        head += view(first_host->value());
        head += "\r\n";
    }
    head += identity;
    if (s.upgrade_requested) {
        head += "Connection: upgrade\r\nUpgrade: ";
        head += view(upgrade->value());
        head += "\r\n";
    }
    if (s.chunked_out) {
        head += "Transfer-Encoding: chunked\r\n";
    } else if (const auto length = s.request.content_length()) {
        head += "Content-Length: ";
        append_number(head, *length);
        head += "\r\n";
    }
    head += "\r\n";

    const auto expect = request.find(http::field::expect);
    if (expect != request.end() && beast::iequals(expect->value(), "100-continue") && has_body && s.client_in.empty())
        s.client_out = "HTTP/1.1 100 Continue\r\n\r\n";
}

Forwarding::~Forwarding() = default;

std::optional<Need> Forwarding::step(Steady::time_point now) {
    State& s = *m;
    if (s.timed_out) {
        s.timed_out = false;
        if (s.phase == Phase::done) return std::nullopt;
        if (s.waiting_for_client || s.response_started) return s.cut();
        return s.fail(504, s.where() + " did not answer within " + seconds_text(s.config.options.timeout));
    }
    for (;;) {
        std::optional<Need> need;
        switch (s.phase) {
        case Phase::connecting: need = s.connect_step(now); break;
        case Phase::sending: need = s.send_step(now); break;
        case Phase::awaiting_head: need = s.await_head_step(now); break;
        case Phase::relaying: need = s.relay_step(now); break;
        case Phase::tunnel: need = s.tunnel_step(now); break;
        case Phase::done: return std::nullopt;
        }
        if (need) return need;
    }
}

const Forwarded& Forwarding::result() const noexcept { return m->result; }

UpstreamConnection::Descriptor* Forwarding::upstream() noexcept { return m->up.waitable(); }
bool Forwarding::take_upstream_emptied() noexcept { return m->up.take_emptied(); }
UpstreamConnection::Descriptor* Forwarding::unchecked_upstream() noexcept {
    return std::exchange(m->close_unchecked, false) ? m->up.waitable() : nullptr;
}

void Forwarding::timed_out() noexcept { m->timed_out = true; }

bool Forwarding::tunnelling() const noexcept { return m->phase == Phase::tunnel; }

std::string_view Forwarding::method() const noexcept { return view(m->request.get().method_string()); }

std::string_view Forwarding::target() const noexcept { return view(m->request.get().target()); }

std::string_view Forwarding::accept() const noexcept {
    const auto& request = m->request.get();
    const auto accept = request.find(http::field::accept);
    return accept == request.end() ? std::string_view() : view(accept->value());
}

} // namespace certauth::server::detail
