// A request on a trusted listener (trusted_request.hpp).
#include "trusted_request.hpp"

#include "diagnostic.hpp"
#include "header_input.hpp"

#include <certauth/server/server.hpp>

namespace certauth::server::detail {

Action handle_trusted(const RequestParser::value_type& request, RequestFacts facts, const TrustedInput& input,
                      const State& state, std::string_view peer, Output output, ForwardCert forward_cert,
                      std::chrono::system_clock::time_point now, std::shared_ptr<const ConnectionDecision>& decided) {
    decided.reset();
    facts.input = Input::header;
    if (!peer.empty() && !in_ranges(input.proxies, peer)) {
        const std::string detail = "this listener takes requests from trusted proxies only (" +
                                   ranges_text(input.proxies) + "), not from " + std::string(peer);
        diagnostic("refused a request on a trusted listener: " + detail);
        return respond_untrusted_proxy(facts, detail);
    }
    decided = decide_header(state, input.header, certificate_fields(request, input.header), now, forward_cert);
    // An auth subrequest goes to a path of its own: the client's URI is in
    // the header the proxy names. Forwarding routes what it forwards.
    // Absent, the request's own target is routed (a proxy that passes the
    // request on); sent twice, nothing says which is the client's: 400.
    if (output == Output::answer && !input.original_uri.empty()) {
        const std::vector<std::string_view> values = field_values(request, input.original_uri);
        if (values.size() > 1)
            return respond_error(400, input.original_uri + " is sent " + std::to_string(values.size()) +
                                          " times; the proxy must set it once");
        if (values.size() == 1) facts.original_uri = values.front();
    }
    return handle(facts, *decided, state.user_list(), output);
}

} // namespace certauth::server::detail
