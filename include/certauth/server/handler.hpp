#pragma once
// What the server does with a request (docs/serve.md's HTTP contract), as
// pure functions of the request's facts and the connection's decision: no
// socket, no clock. The session parses the request header (Beast), asks
// handle() for an action - answer this response, or forward the request to
// the application with these identity headers - and carries it out.

#include <certauth/policy/decision.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/server/identity_headers.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace certauth::server {

struct ConnectionDecision;

// Where a request's certificate comes from (docs/proxies.md).
enum class Input {
    tls,    // the TLS handshake of the client's own connection (--listen)
    header, // a trusted proxy's header (--listen-trusted): decided per request
};

// The parts of a request that decide what to do with it (views into the
// parsed request).
struct RequestFacts {
    std::string_view method; // as sent ("GET", "HEAD", ...)
    std::string_view target; // request target as sent ("/admin?x=1")
    // Input::header, answer mode: the URI the proxy's client asked for, as
    // the proxy sends it (X-Original-URI, X-Forwarded-Uri): routed instead
    // of `target`, which is the auth subrequest's own. "" otherwise.
    std::string_view original_uri;
    Input input = Input::tls;
    unsigned version = 11;   // 10 or 11
    bool keep_alive = true;  // what the request asks for (HTTP/1.1 default, 1.0 with Connection: keep-alive)
    std::string_view accept; // the Accept header ("" when absent)
};

struct Response {
    int status = 500;
    std::string_view reason = "-"; // reason code for the log ("ok", "unknown_user", ...; "-" for protocol errors)
    bool head = false;             // HEAD: Content-Length of the body, no body
    bool allow_header = false;     // 405: "Allow: GET, HEAD"
    bool keep_alive = false;       // the connection stays open after this response
    std::string_view content_type = "application/json";
    // Header lines ("Name: value\r\n") to send as well: identity headers on
    // 200, X-Certauth-Reason on a denial. Must outlive the response (they
    // are the connection decision's, or static).
    std::string_view extra_headers;
    // Header lines that belong to the body (a page's Content-Security-Policy:
    // html_page.hpp); static.
    std::string_view body_headers;

    std::string_view body() const noexcept {
        return m_shared ? std::string_view(*m_shared) : std::string_view(m_owned);
    }
    void set_body(std::string body) {
        m_owned = std::move(body);
        m_shared = nullptr;
    }
    void share_body(const std::string* body) noexcept { m_shared = body; } // must outlive the response

  private:
    std::string m_owned;
    const std::string* m_shared = nullptr;
};

// Forward the request to the application, with these identity headers
// (header lines, the connection decision's or static) replacing any the
// client sent.
struct Forward {
    std::string_view identity;
    std::string_view reason = "ok"; // for the log
    // The identity is the connection's user (false: a public route's
    // request from a client who is none, its identity headers empty).
    bool with_user = true;
};

using Action = std::variant<Response, Forward>;

// What the server does with an authorised request.
enum class Output {
    answer,  // 200 with the user (body and identity headers)
    forward, // on to the application (--upstream)
};

// GET and HEAD: the methods answered (Output::answer). Any other gets 405
// whatever its body, so the session may answer it before reading the body.
bool served_method(std::string_view method);

// What to do with a request on a connection whose decision is `connection`
// (with Input::header: the request's own decision; policy::route is
// applied for routed paths; no verification here):
//  - /healthz (the request's own target): 200 without a certificate,
//    certauth's own in both outputs;
//  - a path normalise_path refuses (the target, or the original URI): 400;
//  - a denial (401, 403): answered, with X-Certauth-Reason, never forwarded;
//  - answer: GET and HEAD only (405) - any method with Input::header (an
//    auth subrequest comes with its client's method); 200 with the user as
//    JSON and the identity headers; /favicon.ico 204 (browsers ask for it
//    with every page);
//  - forward: any method, with the identity headers.
Action handle(const RequestFacts& request, const ConnectionDecision& connection, const policy::UserList* users,
              Output output);

// A request sent as plain HTTP to the TLS port: 401 no_certificate, telling
// the client to use https (`host`: the Host header, may be empty).
Response respond_plain_http(const RequestFacts& request, std::string_view host);

// The https:// address a plain-HTTP request should have used (`host`: the
// Host header, may be empty).
std::string https_url(const RequestFacts& request, std::string_view host);

// A request on a trusted listener from a peer outside --trusted-proxy: 403
// untrusted_proxy (`detail` says who and which ranges are trusted). Closes
// the connection.
Response respond_untrusted_proxy(const RequestFacts& request, std::string_view detail);

// Protocol errors: 400 (malformed), 413 (body too large), 431 (headers too
// large), 408 (request timeout). Always closes the connection.
Response respond_error(int status, std::string_view detail);

// The JSON body for a decision, ending in a newline: the user object when
// allowed ({"public":true} for a public route without a user, {"cn":...}
// when verified without a user list), else
// {"error":"unauthorized"|"forbidden","reason":"...","detail":"..."}.
std::string decision_body(const policy::Decision& decision, std::string_view cn);

// The HTTP status a reason is answered with: 200 for ok, 403 for forbidden
// and untrusted_proxy, 401 for every other denial - malformed too (a
// trusted proxy's header that holds no certificate): a denial, which auth
// subrequests pass on as one (nginx's auth_request takes 2xx, 401 and 403
// and turns any other status into a 500).
int http_status(policy::Reason reason) noexcept;

// "OK", "Unauthorized", ...
std::string_view status_text(int status) noexcept;

// Appends the HTTP/1.1 response (status line, Date, Content-Type,
// Content-Length, the extra headers, Connection when needed, body unless
// HEAD) to `out`.
// `date` is an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
void serialize(const Response& response, unsigned request_version, std::string_view date, std::string& out);

// IMF-fixdate of a Unix time, for the Date header.
std::string http_date(long long unix_seconds);

} // namespace certauth::server
