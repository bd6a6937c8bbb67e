#pragma once
// The status listener's pages (serve --status) as a test reads them: a page
// over plain HTTP, and one sample of /metrics.

#include <chrono>
#include <string>

namespace certauth::test {

// The body of `path` (/status, /metrics, /healthz) from the status listener
// on 127.0.0.1:`port`; REQUIREs a 200.
std::string status_page(unsigned short port, const std::string& path);

// The value of the sample `series` (name and labels as written) in /metrics,
// which `promtool check metrics` must accept; -1 when absent.
double metric(unsigned short port, const std::string& series);

// metric(), read again until it is `wanted` or `timeout` has passed; the
// last value read.
double metric_within(unsigned short port, const std::string& series, double wanted, std::chrono::milliseconds timeout);

// The port of a status URL ("http://127.0.0.1:PORT", Server::status_url()).
unsigned short port_of_url(const std::string& url);

} // namespace certauth::test
