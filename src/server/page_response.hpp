#pragma once
// Private to src/server: a response of handler.hpp turned into the page a
// browser gets (html_page.hpp), when the request prefers HTML
// (accept.hpp's prefers_html). The status and the header lines stay; the
// body becomes the page, rendered from what the connection already holds:
// its decision, the route, the client's certificate (OpenSSL keeps it for
// the connection). JSON requests never reach this.

#include <certauth/policy/user_list.hpp>
#include <certauth/server/handler.hpp>
#include <certauth/server/server_state.hpp>
#include <certauth/x509/ossl.hpp>

#include <chrono>
#include <string_view>

namespace certauth::server::detail {

// handle()'s answer to `request` on `connection` (under `users`) as a page;
// `client_certificate` is the leaf the client presented (borrowed; nullptr
// without one). A response without a body (204) is left as it is.
void present_as_page(Response& response, const RequestFacts& request, const ConnectionDecision& connection,
                     const policy::UserList* users, X509* client_certificate,
                     std::chrono::system_clock::time_point now);

// respond_plain_http()'s answer as a page linking to the https:// address.
void present_plain_http_as_page(Response& response, const RequestFacts& request, std::string_view host,
                                std::chrono::system_clock::time_point now);

// The forwarding's own answer (forwarding.hpp's Forwarded::answer: 502,
// 504, 400, 413) to `method` `target` as a page; `detail` is what its JSON
// says happened.
void present_gateway_answer_as_page(Response& response, std::string_view method, std::string_view target,
                                    std::string_view detail, std::chrono::system_clock::time_point now);

} // namespace certauth::server::detail
