#include <certauth/json_text.hpp>
#include <certauth/server/handler.hpp>

#include <certauth/policy/decide.hpp>
#include <certauth/server/server_state.hpp>

#include <charconv>
#include <ctime>

#include <nlohmann/json.hpp>

namespace certauth::server {
using policy::Reason;
namespace {

const std::string k_healthz_body = R"({"status":"ok"})";

using Json = nlohmann::ordered_json;

std::string error_body(std::string_view error, std::string_view detail) {
    Json body = Json::object();
    body["error"] = error;
    body["detail"] = detail;
    return json_text(body);
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
        if (decision.user && decision.user->is_object()) return json_text(*decision.user);
        if (decision.verdict == policy::Verdict::public_route) return R"({"public":true})";
        // Verified without a user list (authenticated): the certificate's CN.
        Json user = Json::object();
        user["cn"] = cn;
        return json_text(user);
    }
    Json body = Json::object();
    body["error"] = decision.reason == Reason::forbidden ? "forbidden" : "unauthorized";
    body["reason"] = to_string(decision.reason);
    body["detail"] = decision.detail;
    return json_text(body);
}

bool served_method(std::string_view method) { return method == "GET" || method == "HEAD"; }

Response respond(const RequestFacts& request, const ConnectionDecision& connection, const policy::UserList* users) {
    Response response;
    response.keep_alive = request.keep_alive;
    response.head = request.method == "HEAD";
    if (!served_method(request.method)) {
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
    if (*path == "/healthz") {
        response.status = 200;
        response.reason = "ok";
        response.share_body(&k_healthz_body);
        return response;
    }
    // A path without a route keeps the connection's decision (policy::route's
    // rule) and its pre-rendered body: no allocation on that path.
    if (users == nullptr || users->route_for(*path) == nullptr) {
        response.status = http_status(connection.decision.reason);
        response.reason = to_string(connection.decision.reason);
        response.share_body(&connection.body);
        return response;
    }
    const policy::Decision routed = policy::route(connection.decision, users, *path);
    response.status = http_status(routed.reason);
    response.reason = to_string(routed.reason);
    response.set_body(decision_body(routed, connection.cn));
    return response;
}

Response respond_plain_http(const RequestFacts& request, std::string_view host) {
    Response response;
    response.status = 401;
    response.reason = to_string(Reason::no_certificate);
    response.head = request.method == "HEAD";
    response.keep_alive = false;
    std::string url = "https://";
    url += host.empty() ? std::string_view("<host>:<port>") : host;
    url += request.target.empty() || request.target.front() != '/' ? std::string_view("/") : request.target;
    Json body = Json::object();
    body["error"] = "unauthorized";
    body["reason"] = to_string(Reason::no_certificate);
    body["detail"] = "this port speaks HTTPS with client certificates, not plain HTTP: use " + url;
    response.set_body(json_text(body));
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
    case Reason::forbidden: return 403;
    case Reason::malformed: return 400;
    default: return 401;
    }
}

std::string_view status_text(int status) noexcept {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
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
    out += "\r\nContent-Type: application/json\r\nContent-Length: ";
    append_int(out, body.size());
    out += "\r\nCache-Control: no-store\r\n";
    if (response.allow_header) out += "Allow: GET, HEAD\r\n";
    if (!response.keep_alive)
        out += "Connection: close\r\n";
    else if (request_version < 11)
        out += "Connection: keep-alive\r\n"; // HTTP/1.0 keeps the connection only when told
    out += "\r\n";
    if (!response.head) out += body;
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
