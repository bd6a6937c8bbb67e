#pragma once
// Catch2 behind one include: version 2 (Debian 12: <catch2/catch.hpp>) or
// version 3 (Debian 13: <catch2/catch_all.hpp>). Every test includes this.
//
// Tests are written with Catch2 3's names; under Catch2 2 the names that
// changed are given here:
//   Catch::Matchers::ContainsSubstring (Catch2 2: Catch::Contains)
//   Catch::Matchers::StartsWith, EndsWith (the same in both)
//   Catch::Approx                      (Catch2 2: Approx, global)
// Under Catch2 3, the Catch2 2 spellings Catch::Contains, Catch::StartsWith
// and Catch::EndsWith are kept as well, so that a test written with either
// builds with both.
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>

namespace Catch {
inline Matchers::StringContainsMatcher Contains(const std::string& text,
                                                CaseSensitive case_sensitivity = CaseSensitive::Yes) {
    return Matchers::ContainsSubstring(text, case_sensitivity);
}
using Matchers::EndsWith;
using Matchers::StartsWith;
} // namespace Catch
#else
#include <catch2/catch.hpp>

#include <string>

namespace Catch {
using Detail::Approx;
namespace Matchers {
inline StdString::ContainsMatcher ContainsSubstring(const std::string& text,
                                                    CaseSensitive::Choice case_sensitivity = CaseSensitive::Yes) {
    return Contains(text, case_sensitivity);
}
} // namespace Matchers
} // namespace Catch
#endif
