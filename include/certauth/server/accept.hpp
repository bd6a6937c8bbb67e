#pragma once
// Content negotiation on the Accept header (RFC 9110 12.5.1): whether a
// request prefers an HTML page (a browser) to JSON (curl, probe, scripts).
// Allocation-free: it runs on every request.

#include <string_view>

namespace certauth::server {

// The quality (0 to 1000, thousandths of q) that `accept` gives
// type/subtype: that of the most specific range covering it
// (type/subtype, then type/*, then */*), the highest when one is listed
// twice; 0 when none covers it. An absent Accept header ("") accepts
// everything (1000). Ranges that do not parse (a bad q, no "/") are
// ignored; parameters other than q are not compared.
int accept_quality(std::string_view accept, std::string_view type, std::string_view subtype) noexcept;

// True when `accept` ranks text/html above application/json: browsers
// (text/html first, JSON only through */*;q=0.8). A tie keeps JSON, so
// "*/*" (curl), "application/json" and no Accept header get JSON.
bool prefers_html(std::string_view accept) noexcept;

} // namespace certauth::server
