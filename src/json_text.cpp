#include <certauth/json_text.hpp>

#include <string>
#include <utility>

namespace certauth {
namespace {

using json = nlohmann::json;

// Parse-error position: nlohmann's byte is 1-based and points at the last
// character read.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t byte) {
    const std::size_t index = std::min(byte > 0 ? byte - 1 : 0, text.size());
    std::size_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < index; ++i)
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    return {line, index - line_start + 1};
}

// nlohmann's message without its "[json.exception...] parse error at line L,
// column C: " prefix (the position is given separately).
std::string parse_error_text(const std::string& what) {
    const std::size_t column = what.find("column ");
    if (column != std::string::npos) {
        const std::size_t colon = what.find(": ", column);
        if (colon != std::string::npos) return what.substr(colon + 2);
    }
    const std::size_t bracket = what.find("] ");
    return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

// The offset of the first '[' or '{' nested deeper than k_max_json_depth,
// outside strings; npos when there is none. Checked before parsing, so that
// nothing deep is ever built.
std::size_t too_deep(std::string_view text) {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > k_max_json_depth) return i;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return std::string_view::npos;
}

// nlohmann's DOM builder, recording the first error instead of throwing it:
// json::parse throws a number too large for a double ("1e400") as
// out_of_range, without a position and past a catch of parse_error.
class DomBuilder : public nlohmann::detail::json_sax_dom_parser<json> {
  public:
    explicit DomBuilder(json& root) : json_sax_dom_parser(root, false) {}

    template <class Exception>
    bool parse_error(std::size_t byte, const std::string& /*token*/, const Exception& e) {
        m_byte = byte;
        m_what = e.what();
        return false;
    }

    std::size_t byte() const noexcept { return m_byte; }
    const std::string& what() const noexcept { return m_what; }

  private:
    std::size_t m_byte = 0;
    std::string m_what;
};

Error positioned(std::string_view origin, std::string_view text, std::size_t byte, const std::string& what) {
    const auto [line, column] = line_column(text, byte);
    return Error{std::string(origin) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what};
}

} // namespace

Result<nlohmann::json> parse_json(std::string_view text, std::string_view origin) {
    if (const std::size_t deep = too_deep(text); deep != std::string_view::npos)
        return positioned(origin, text, deep + 1,
                          "arrays and objects nested deeper than " + std::to_string(k_max_json_depth) + " levels");
    json document;
    DomBuilder builder(document);
    if (!json::sax_parse(text, &builder))
        return positioned(origin, text, builder.byte(), parse_error_text(builder.what()));
    return document;
}

} // namespace certauth
