#pragma once
// Decision: the outcome of the pipeline, a value (denial is not an exception).

#include <certauth/policy/reason.hpp>

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace certauth::policy {

enum class Verdict {
    authorised,    // verified and in the user list
    authenticated, // verified, no user list given
    inspected,     // no trust store given: fields only, nothing verified
    public_route,  // (serve) the route needs no certificate; user kept when the connection was authorised
    denied,        // see reason
};

std::string_view to_string(Verdict verdict) noexcept; // "authorised", ...

// Its implicit moves are noexcept, as nlohmann::json's are; clang-tidy 14 finds a throwing path inside
// json's move (json_value's constructors allocate for other value types), which a move never takes.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct Decision {
    Verdict verdict = Verdict::denied;
    Reason reason = Reason::untrusted; // ok unless denied
    // The user object when authorised (shared with the user list when it
    // can be: connections of one user hold one copy), else null.
    std::shared_ptr<const nlohmann::json> user;
    std::string detail; // why, for a person: always set on denial

    bool allowed() const noexcept { return verdict != Verdict::denied; }
};

} // namespace certauth::policy
