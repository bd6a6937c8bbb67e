#pragma once
// Private to src/server: what the session reads from a trusted proxy's
// request (--listen-trusted) - the certificate header's field lines and the
// header naming the URI the proxy's client asked for - from Beast's parsed
// request. header_input.hpp decides on them.

#include "request_reader.hpp"

#include <certauth/server/handler.hpp>
#include <certauth/server/header_certificate.hpp>
#include <certauth/server/server.hpp>
#include <certauth/server/server_state.hpp>

#include <boost/beast/http/message.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certauth::server::detail {

// Every field line named `name` (case-insensitively), in order.
inline std::vector<std::string_view> field_values(const RequestParser::value_type& request, std::string_view name) {
    std::vector<std::string_view> out;
    if (name.empty()) return out;
    const auto [first, last] = request.equal_range(boost::beast::string_view(name.data(), name.size()));
    for (auto field = first; field != last; ++field)
        out.emplace_back(field->value().data(), field->value().size());
    return out;
}

inline CertificateFields certificate_fields(const RequestParser::value_type& request, const CertificateHeader& header) {
    CertificateFields fields;
    fields.values = field_values(request, header.name);
    if (header.format == HeaderFormat::rfc9440) fields.chain = field_values(request, header.chain_name());
    return fields;
}

// The certificate fields of a request, kept: a tunnel (WebSocket) outlives
// its request and is decided again when the configuration changes.
struct KeptFields {
    std::vector<std::string> values;
    std::vector<std::string> chain;

    explicit KeptFields(const CertificateFields& fields)
        : values(fields.values.begin(), fields.values.end()), chain(fields.chain.begin(), fields.chain.end()) {}
    CertificateFields view() const {
        CertificateFields fields;
        fields.values.assign(values.begin(), values.end());
        fields.chain.assign(chain.begin(), chain.end());
        return fields;
    }
};

// The single value of the header `name`; nullopt when absent or sent more
// than once (which URI would be the client's?).
inline std::optional<std::string_view> single_value(const RequestParser::value_type& request, std::string_view name) {
    const std::vector<std::string_view> values = field_values(request, name);
    if (values.size() != 1) return std::nullopt;
    return values.front();
}

} // namespace certauth::server::detail

namespace certauth::server::detail {

// What to do with a request on a trusted listener (--listen-trusted), from
// the peer `peer` ("" for a unix socket, whose peers are trusted):
//  - a peer outside input.proxies: 403 untrusted_proxy (and logged);
//  - else the request's certificate header decided under `state`
//    (decide_header: decoded, verified by state.trust, remembered per
//    thread), routed at the original URI the proxy names (answer mode) or
//    the request's own target, and handle()d as a TLS request would be.
// `decided` receives the header's decision (for the access log and a
// tunnel's later checks); null when the peer was refused.
Action handle_trusted(const RequestParser::value_type& request, RequestFacts facts, const TrustedInput& input,
                      const State& state, std::string_view peer, Output output, ForwardCert forward_cert,
                      std::chrono::system_clock::time_point now, std::shared_ptr<const ConnectionDecision>& decided);

} // namespace certauth::server::detail
