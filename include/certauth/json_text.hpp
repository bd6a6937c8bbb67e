#pragma once
// JSON text from files and peers (user lists, scenario files, response
// bodies), parsed so that no input can crash or escape: a syntax error, a
// number beyond a double ("1e400") or arrays/objects nested deeper than
// k_max_json_depth are errors with a position, never exceptions or stack
// overflows (copying and printing a JSON value recurse once per level).

#include <certauth/result.hpp>

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace certauth {

inline constexpr std::size_t k_max_json_depth = 64;

// The document, or "ORIGIN:LINE:COLUMN: what is wrong".
Result<nlohmann::json> parse_json(std::string_view text, std::string_view origin);

} // namespace certauth
