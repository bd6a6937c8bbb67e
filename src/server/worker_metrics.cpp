#include "worker_metrics.hpp"

namespace certauth::server::detail {

std::string_view to_label(RefusedConnection why) noexcept {
    switch (why) {
    case RefusedConnection::max_connections: return "max_connections";
    case RefusedConnection::stopping: return "stopping";
    }
    return "max_connections";
}

std::string_view to_label(UpstreamError why) noexcept {
    switch (why) {
    case UpstreamError::none: return "none";
    case UpstreamError::connect: return "connect";
    case UpstreamError::closed: return "closed";
    case UpstreamError::malformed: return "malformed";
    case UpstreamError::timeout: return "timeout";
    }
    return "none";
}

std::size_t reason_slot(std::string_view reason) noexcept {
    for (std::size_t i = 0; i < k_decision_reasons; ++i)
        if (reason == policy::to_string(static_cast<policy::Reason>(i))) return i;
    return k_decision_reasons;
}

std::string_view reason_of_slot(std::size_t slot) noexcept {
    return slot < k_decision_reasons ? policy::to_string(static_cast<policy::Reason>(slot)) : k_no_reason;
}

} // namespace certauth::server::detail
