#pragma once
// Private to src/server: the standard process_* metrics every Prometheus
// client library exports (CPU time, memory, descriptors, start time), read
// from getrusage(2), getrlimit(2) and /proc/self (which the systemd unit's
// ProcSubset=pid leaves visible). A figure that cannot be read is left out.

#include <certauth/server/metrics_writer.hpp>

namespace certauth::server::detail {

void write_process_metrics(MetricsWriter& out);

} // namespace certauth::server::detail
