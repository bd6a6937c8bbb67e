#include "page_response.hpp"

#include <certauth/policy/decide.hpp>
#include <certauth/server/html_page.hpp>
#include <certauth/x509/certificate.hpp>

#include <optional>
#include <string>

namespace certauth::server::detail {
namespace {

// HEAD is answered with the headers GET would have: the same page, so the
// same Content-Length.
std::string_view page_method(std::string_view method) { return method == "HEAD" ? std::string_view("GET") : method; }

void set_page(Response& response, const PageFacts& facts) {
    response.set_body(render_page(facts));
    response.content_type = k_page_content_type;
    response.body_headers = page_headers();
}

} // namespace

void present_as_page(Response& response, const RequestFacts& request, const ConnectionDecision& connection,
                     const policy::UserList* users, X509* client_certificate,
                     std::chrono::system_clock::time_point now) {
    if (response.status == 204) return;
    PageFacts facts;
    facts.status = response.status;
    facts.method = page_method(request.method);
    facts.target = request.target;
    facts.now = now;
    // What handle() answered, found again the way it found it.
    const std::optional<std::string> path = policy::normalise_path(request.target);
    if (response.status == 405) {
        facts.topic = PageTopic::method_not_allowed;
        return set_page(response, facts);
    }
    if (!path) {
        facts.topic = PageTopic::bad_target;
        return set_page(response, facts);
    }
    if (*path == "/healthz") {
        facts.topic = PageTopic::healthy;
        return set_page(response, facts);
    }
    facts.route = users != nullptr ? users->route_for(*path) : nullptr;
    std::optional<policy::Decision> routed;
    if (facts.route != nullptr) routed = policy::route(connection.decision, users, *path);
    facts.decision = routed ? &*routed : &connection.decision;
    facts.user = connection.decision.user.get();
    std::optional<x509::CertFacts> certificate;
    if (client_certificate != nullptr) {
        certificate = x509::Certificate(x509::share(client_certificate)).facts();
        facts.certificate = &*certificate;
    }
    set_page(response, facts);
}

void present_plain_http_as_page(Response& response, const RequestFacts& request, std::string_view host,
                                std::chrono::system_clock::time_point now) {
    const std::string url = https_url(request, host);
    PageFacts facts;
    facts.topic = PageTopic::plain_http;
    facts.status = response.status;
    facts.method = page_method(request.method);
    facts.target = request.target;
    facts.https_url = url;
    facts.now = now;
    set_page(response, facts);
}

void present_gateway_answer_as_page(Response& response, std::string_view method, std::string_view target,
                                    std::string_view detail, std::chrono::system_clock::time_point now) {
    PageFacts facts;
    facts.topic = PageTopic::gateway;
    facts.status = response.status;
    facts.method = page_method(method);
    facts.target = target;
    facts.detail = detail;
    facts.now = now;
    set_page(response, facts);
}

} // namespace certauth::server::detail
