#pragma once
// The page a person's browser gets instead of JSON (accept.hpp decides
// which): who the certificate says they are, or why they were refused and
// what to do about it, in plain words. One self-contained HTML document: its
// style inline (allowed by hash in its Content-Security-Policy), no script,
// no image, no other resource; every string that comes from a certificate,
// the user list or the request is HTML-escaped. Pure functions of the facts
// below: the session renders a page only for a request that asks for one,
// from what its connection already holds.

#include <certauth/policy/decision.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/x509/facts.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace certauth::server {

// What a page is about.
enum class PageTopic {
    decision,           // the request's decision: 200 with the user, or 401/403 with its reason
    healthy,            // /healthz
    bad_target,         // 400: the request target is not a valid path
    method_not_allowed, // 405
    plain_http,         // 401: plain HTTP sent to the TLS port
    gateway,            // --upstream: certauth's own answer for the application (502, 504) or for a
                        // request it cannot pass on (400, 413); `detail` says what happened
};

struct PageFacts {
    PageTopic topic = PageTopic::decision;
    int status = 200;
    std::string_view method; // as the request sent them
    std::string_view target;
    // PageTopic::decision: the request's decision (the route's when a route
    // covers the path), and that route (nullptr when none does).
    const policy::Decision* decision = nullptr;
    const policy::Route* route = nullptr;
    // The connection's user object (an authorised connection), whose roles
    // a 403 page names; nullptr otherwise.
    const nlohmann::json* user = nullptr;
    // The client's certificate as presented (verified or not); nullptr
    // without one.
    const x509::CertFacts* certificate = nullptr;
    std::string_view https_url; // PageTopic::plain_http: the address to use instead
    std::string_view detail;    // PageTopic::gateway: what went wrong, for the technical details
    std::chrono::system_clock::time_point now;
};

// The whole HTML document.
std::string render_page(const PageFacts& facts);

// The header lines ("Name: value\r\n") a page is sent with: its
// Content-Security-Policy (nothing may load or run but the page's own
// style), nosniff, no referrer, no framing.
std::string_view page_headers();

// The Content-Type of a page.
inline constexpr std::string_view k_page_content_type = "text/html; charset=utf-8";

// `text` with & < > " ' written as character references, safe in element
// content and in quoted attribute values.
std::string html_escape(std::string_view text);

} // namespace certauth::server
