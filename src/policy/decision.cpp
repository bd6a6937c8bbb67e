#include <certauth/policy/decision.hpp>

namespace certauth::policy {

std::string_view to_string(Verdict verdict) noexcept {
    switch (verdict) {
    case Verdict::authorised: return "authorised";
    case Verdict::authenticated: return "authenticated";
    case Verdict::inspected: return "inspected";
    case Verdict::public_route: return "public";
    case Verdict::denied: return "denied";
    }
    return "denied";
}

} // namespace certauth::policy
