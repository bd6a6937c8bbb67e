#pragma once
// What the server answers (DESIGN.md §3's HTTP contract), as pure functions
// of the request's facts and the connection's decision: no socket, no clock.
// The session parses the request (Beast), calls respond(), serialises the
// response with serialize() and logs it.

#include <certauth/policy/decision.hpp>
#include <certauth/policy/user_list.hpp>

#include <string>
#include <string_view>

namespace certauth::server {

struct ConnectionDecision;

// The parts of a request that decide the answer.
struct RequestFacts {
    std::string_view method; // as sent ("GET", "HEAD", ...)
    std::string_view target; // request target as sent ("/admin?x=1")
    unsigned version = 11;   // 10 or 11
    bool keep_alive = true;  // what the request asks for (HTTP/1.1 default, 1.0 with Connection: keep-alive)
};

struct Response {
    int status = 500;
    std::string_view reason = "-"; // reason code for the log ("ok", "unknown_user", ...; "-" for protocol errors)
    bool head = false;             // HEAD: Content-Length of the body, no body
    bool allow_header = false;     // 405: "Allow: GET, HEAD"
    bool keep_alive = false;       // the connection stays open after this response

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

// GET and HEAD: the methods answered. Any other gets 405 whatever its body,
// so the session may answer it before reading the body.
bool served_method(std::string_view method);

// The answer to a parsed request on a TLS connection whose decision is
// `connection` (policy::route is applied for routed paths; no verification).
// /healthz answers 200 without a certificate; GET and HEAD only (405);
// a path normalise_path refuses is 400.
Response respond(const RequestFacts& request, const ConnectionDecision& connection, const policy::UserList* users);

// A request sent as plain HTTP to the TLS port: 401 no_certificate, telling
// the client to use https (`host`: the Host header, may be empty).
Response respond_plain_http(const RequestFacts& request, std::string_view host);

// Protocol errors: 400 (malformed), 413 (body too large), 431 (headers too
// large), 408 (request timeout). Always closes the connection.
Response respond_error(int status, std::string_view detail);

// The JSON body for a decision: the user object when allowed ({"public":true}
// for a public route without a user, {"cn":...} when verified without a user
// list), else
// {"error":"unauthorized"|"forbidden","reason":"...","detail":"..."}.
std::string decision_body(const policy::Decision& decision, std::string_view cn);

// The HTTP status a reason is answered with: 200 for ok, 403 for forbidden,
// 400 for malformed (a header that holds no certificate), 401 for every
// other denial.
int http_status(policy::Reason reason) noexcept;

// "OK", "Unauthorized", ...
std::string_view status_text(int status) noexcept;

// Appends the HTTP/1.1 response (status line, Date, Content-Type,
// Content-Length, Connection when needed, body unless HEAD) to `out`.
// `date` is an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
void serialize(const Response& response, unsigned request_version, std::string_view date, std::string& out);

// IMF-fixdate of a Unix time, for the Date header.
std::string http_date(long long unix_seconds);

} // namespace certauth::server
