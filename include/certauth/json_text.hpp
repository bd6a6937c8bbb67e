#pragma once
// JSON text from files and peers (user lists, scenario files, response
// bodies), parsed so that no input can crash or escape: a syntax error, a
// number beyond a double ("1e400") or arrays/objects nested deeper than
// k_max_json_depth are errors with a position, never exceptions or stack
// overflows (copying and printing a JSON value recurse once per level).

#include <certauth/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace certauth {

inline constexpr std::size_t k_max_json_depth = 64;

// What a key that appears twice in one object means. JSON leaves it open;
// nlohmann keeps the last. For files a person writes (the user list, the
// scenario file) a second "cn" or "users" is a mistake that would silently
// change who is authorised: refused there.
enum class DuplicateKeys { last_wins, refused };

// `value` as JSON text: compact (indent -1) or indented; strings that are not
// valid UTF-8 (certificate fields, what a client sent) are written with
// U+FFFD instead of throwing. With Ascii::escaped every non-ASCII character
// is \uXXXX (for HTTP header values).
enum class Ascii { utf8, escaped };
std::string json_text(const nlohmann::json& value, int indent = -1, Ascii ascii = Ascii::utf8);
std::string json_text(const nlohmann::ordered_json& value, int indent = -1, Ascii ascii = Ascii::utf8);

// The document, or "ORIGIN:LINE:COLUMN: what is wrong" (for a refused
// duplicate key "ORIGIN: PATH: duplicate key \"KEY\"", PATH as users[1]).
Result<nlohmann::json> parse_json(std::string_view text, std::string_view origin,
                                  DuplicateKeys duplicates = DuplicateKeys::last_wins);

// "got number", "got array": what a message says was found instead.
std::string json_type_found(const nlohmann::json& value);

} // namespace certauth
