#include <certauth/json_text.hpp>
#include <certauth/server/handler.hpp>

#include <certauth/policy/decide.hpp>
#include <certauth/server/server_state.hpp>

#include <array>
#include <charconv>
#include <ctime>
#include <optional>

#include <nlohmann/json.hpp>

namespace certauth::server {
using policy::Reason;
namespace {

const std::string k_healthz_body = "{\"status\":\"ok\"}\n";

using Json = nlohmann::ordered_json;

std::string error_body(std::string_view error, std::string_view detail) {
    Json body = Json::object();
    body["error"] = error;
    body["detail"] = detail;
    return json_text(body) + '\n';
}

void append_int(std::string& out, std::size_t value) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    (void)ec;
    out.append(buf, end);
}

} // namespace

std::string decision_body(const policy::Decision& decision, std::string_view cn) {
    if (decision.allowed()) {
        if (decision.user && decision.user->is_object()) return json_text(*decision.user) + '\n';
        if (decision.verdict == policy::Verdict::public_route) return "{\"public\":true}\n";
        // Verified without a user list (authenticated): the certificate's CN.
        Json user = Json::object();
        user["cn"] = cn;
        return json_text(user) + '\n';
    }
    Json body = Json::object();
    body["error"] = http_status(decision.reason) == 403 ? "forbidden" : "unauthorized";
    body["reason"] = to_string(decision.reason);
    body["detail"] = decision.detail;
    return json_text(body) + '\n';
}

bool served_method(std::string_view method) { return method == "GET" || method == "HEAD"; }

namespace {

// "X-Certauth-Reason: REASON\r\n", one static line per reason.
std::string_view reason_line(Reason reason) {
    static const auto lines = [] {
        std::array<std::string, static_cast<std::size_t>(Reason::untrusted_proxy) + 1> out;
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = reason_header(static_cast<Reason>(i));
        return out;
    }();
    return lines[static_cast<std::size_t>(reason)];
}

std::string_view no_identity(ForwardCert forward_cert) {
    static const std::string without = empty_identity_headers(ForwardCert::no);
    static const std::string with = empty_identity_headers(ForwardCert::yes);
    return forward_cert == ForwardCert::yes ? with : without;
}

// The decision for this request: the connection's, or the route's when a
// route covers the path (nullopt: the connection's stands unchanged).
std::optional<policy::Decision> routed(const ConnectionDecision& connection, const policy::UserList* users,
                                       std::string_view path) {
    if (users == nullptr || users->route_for(path) == nullptr) return std::nullopt;
    return policy::route(connection.decision, users, path);
}

Response denial(const RequestFacts& request, const policy::Decision& decision, std::string body) {
    Response response;
    response.keep_alive = request.keep_alive;
    response.head = request.method == "HEAD";
    response.status = http_status(decision.reason);
    response.reason = to_string(decision.reason);
    response.extra_headers = reason_line(decision.reason);
    response.set_body(std::move(body));
    return response;
}

} // namespace

Action handle(const RequestFacts& request, const ConnectionDecision& connection, const policy::UserList* users,
              Output output) {
    Response response;
    response.keep_alive = request.keep_alive;
    response.head = request.method == "HEAD";
    const bool answering = output == Output::answer;
    if (answering && request.input == Input::tls && !served_method(request.method)) {
        response.status = 405;
        response.allow_header = true;
        response.set_body(error_body("method_not_allowed", "only GET and HEAD are served"));
        return response;
    }
    const std::optional<std::string> path = policy::normalise_path(request.target);
    if (!path) {
        response.status = 400;
        response.keep_alive = false; // as every 400: the connection closes (nginx does the same)
        response.set_body(error_body("bad_request", "the request target is not a valid absolute path"));
        return response;
    }
    // certauth's own health check, on its TLS listeners only: on a trusted
    // listener the path is a client's (an ext_authz check carries it), and
    // answering it 200 would authorise it (the status listener has one).
    if (*path == "/healthz" && request.input == Input::tls) {
        response.status = 200;
        response.reason = "ok";
        response.share_body(&k_healthz_body);
        return response;
    }
    std::optional<std::string> original;
    if (!request.original_uri.empty()) {
        original = policy::normalise_path(request.original_uri);
        if (!original) {
            response.status = 400;
            response.keep_alive = false;
            response.set_body(
                error_body("bad_request", "the original URI the proxy sent is not a valid absolute path"));
            return response;
        }
    }
    const std::optional<policy::Decision> route = routed(connection, users, original ? *original : *path);
    const policy::Decision& decision = route ? *route : connection.decision;
    if (!decision.allowed()) {
        // A path without a route keeps the connection's decision and its
        // pre-rendered body: no allocation on that path.
        if (!route) {
            Response denied = denial(request, decision, {});
            denied.share_body(&connection.body);
            return denied;
        }
        return denial(request, decision, decision_body(decision, connection.cn));
    }
    // Allowed: the connection's user, or a public route (which keeps the
    // user of an authorised connection, and has none otherwise).
    const bool has_user = decision.verdict != policy::Verdict::public_route || decision.user != nullptr;
    const std::string_view identity =
        has_user ? std::string_view(connection.identity) : no_identity(connection.forward_cert);
    if (!answering) return Forward{identity, "ok", has_user};

    if (*path == "/favicon.ico") { // asked for by browsers with every page
        response.status = 204;
        response.reason = "ok";
        return response;
    }
    response.status = 200;
    response.reason = "ok";
    response.extra_headers = identity;
    if (!route)
        response.share_body(&connection.body);
    else
        response.set_body(decision_body(decision, connection.cn));
    return response;
}

std::string https_url(const RequestFacts& request, std::string_view host) {
    std::string url = "https://";
    url += host.empty() ? std::string_view("<host>:<port>") : host;
    url += request.target.empty() || request.target.front() != '/' ? std::string_view("/") : request.target;
    return url;
}

Response respond_plain_http(const RequestFacts& request, std::string_view host) {
    Response response;
    response.status = 401;
    response.reason = to_string(Reason::no_certificate);
    response.head = request.method == "HEAD";
    response.keep_alive = false;
    const std::string url = https_url(request, host);
    Json body = Json::object();
    body["error"] = "unauthorized";
    body["reason"] = to_string(Reason::no_certificate);
    body["detail"] = "this port speaks HTTPS with client certificates, not plain HTTP: use " + url;
    response.set_body(json_text(body) + '\n');
    return response;
}

Response respond_untrusted_proxy(const RequestFacts& request, std::string_view detail) {
    Response response;
    response.status = 403;
    response.reason = to_string(Reason::untrusted_proxy);
    response.head = request.method == "HEAD";
    response.keep_alive = false;
    response.extra_headers = reason_line(Reason::untrusted_proxy);
    Json body = Json::object();
    body["error"] = "forbidden";
    body["reason"] = to_string(Reason::untrusted_proxy);
    body["detail"] = detail;
    response.set_body(json_text(body) + '\n');
    return response;
}

Response respond_error(int status, std::string_view detail) {
    Response response;
    response.status = status;
    response.keep_alive = false;
    std::string_view error = "bad_request";
    if (status == 408) error = "request_timeout";
    if (status == 413) error = "payload_too_large";
    if (status == 431) error = "request_header_fields_too_large";
    response.set_body(error_body(error, detail));
    return response;
}

int http_status(Reason reason) noexcept {
    switch (reason) {
    case Reason::ok: return 200;
    case Reason::forbidden:
    case Reason::untrusted_proxy: return 403;
    default: return 401;
    }
}

std::string_view status_text(int status) noexcept {
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

void serialize(const Response& response, unsigned request_version, std::string_view date, std::string& out) {
    const std::string_view body = response.body();
    out += "HTTP/1.1 ";
    append_int(out, static_cast<std::size_t>(response.status));
    out.push_back(' ');
    out += status_text(response.status);
    out += "\r\nServer: certauth\r\nDate: ";
    out += date;
    if (response.status == 204) {
        out += "\r\n"; // no body, no Content-Length (RFC 9110 8.6)
    } else {
        out += "\r\nContent-Type: ";
        out += response.content_type;
        out += "\r\nContent-Length: ";
        append_int(out, body.size());
        out += "\r\n";
        out += response.body_headers;
    }
    out += "Cache-Control: no-store\r\n";
    out += response.extra_headers;
    if (response.allow_header) out += "Allow: GET, HEAD\r\n";
    if (!response.keep_alive)
        out += "Connection: close\r\n";
    else if (request_version < 11)
        out += "Connection: keep-alive\r\n"; // HTTP/1.0 keeps the connection only when told
    out += "\r\n";
    if (!response.head && response.status != 204) out += body;
}

std::string http_date(long long unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return {buf, n};
}

} // namespace certauth::server
