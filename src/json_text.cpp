#include <certauth/json_text.hpp>

#include <string>
#include <utility>
#include <vector>

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
// out_of_range, without a position and past a catch of parse_error. With
// DuplicateKeys::refused it also tracks where it is (object keys, array
// indexes, and the value each object or array is being built into) and
// stops at a key that did not grow its object: one it already has. sax_parse
// calls these members on the derived type, so they stand in for the base's.
class DomBuilder : public nlohmann::detail::json_sax_dom_parser<json> {
    using Base = nlohmann::detail::json_sax_dom_parser<json>;

  public:
    DomBuilder(json& root, DuplicateKeys duplicates)
        : json_sax_dom_parser(root, false), m_root(root), m_track(duplicates == DuplicateKeys::refused) {}

    template <class Exception>
    bool parse_error(std::size_t byte, const std::string& /*token*/, const Exception& e) {
        m_byte = byte;
        m_what = e.what();
        return false;
    }

    bool null() { return value() && Base::null(); }
    bool boolean(bool v) { return value() && Base::boolean(v); }
    bool number_integer(json::number_integer_t v) { return value() && Base::number_integer(v); }
    bool number_unsigned(json::number_unsigned_t v) { return value() && Base::number_unsigned(v); }
    bool number_float(json::number_float_t v, const json::string_t& s) { return value() && Base::number_float(v, s); }
    bool string(json::string_t& v) { return value() && Base::string(v); }
    bool binary(json::binary_t& v) { return value() && Base::binary(v); }

    bool start_object(std::size_t n) { return value() && Base::start_object(n) && begin(false); }
    bool key(json::string_t& k) {
        if (!m_track) return Base::key(k);
        Frame& frame = m_frames.back();
        const std::size_t before = frame.value->size();
        if (!Base::key(k)) return false;
        frame.key = k;
        if (frame.value->size() == before) {
            m_duplicate = path() + ": duplicate key \"" + k + "\"";
            return false;
        }
        return true;
    }
    bool end_object() {
        if (m_track) m_frames.pop_back();
        return Base::end_object();
    }
    bool start_array(std::size_t n) { return value() && Base::start_array(n) && begin(true); }
    bool end_array() {
        if (m_track) m_frames.pop_back();
        return Base::end_array();
    }

    std::size_t byte() const noexcept { return m_byte; }
    const std::string& what() const noexcept { return m_what; }
    // Set when a duplicate key stopped the parse: "users[1]: duplicate key \"cn\"".
    const std::string& duplicate() const noexcept { return m_duplicate; }

  private:
    struct Frame {
        bool array;
        std::size_t count; // array: elements begun so far
        std::string key;   // object: the key being read
        json* value;       // the object or array being built
    };

    // A value begins: in an array, it is the next element.
    bool value() {
        if (m_track && !m_frames.empty() && m_frames.back().array) ++m_frames.back().count;
        return true;
    }

    // An object or array has begun: where the base put it (the root, the
    // last element of the enclosing array, or the enclosing object's member).
    bool begin(bool array) {
        if (!m_track) return true;
        json* value = &m_root;
        if (!m_frames.empty()) {
            json& parent = *m_frames.back().value;
            value = parent.is_array() ? &parent.back() : &parent[m_frames.back().key];
        }
        m_frames.push_back(Frame{array, 0, {}, value});
        return true;
    }

    // Where the parser is, as users[1].cn; "(top level)" for the document.
    std::string path() const {
        std::string text;
        for (std::size_t i = 0; i + 1 < m_frames.size(); ++i) {
            const Frame& frame = m_frames[i];
            if (frame.array)
                text += "[" + std::to_string(frame.count - 1) + "]";
            else
                text += (text.empty() ? "" : ".") + frame.key;
        }
        return text.empty() ? std::string("(top level)") : text;
    }

    json& m_root;
    bool m_track;
    std::vector<Frame> m_frames;
    std::size_t m_byte = 0;
    std::string m_what;
    std::string m_duplicate;
};

Error positioned(std::string_view origin, std::string_view text, std::size_t byte, const std::string& what) {
    const auto [line, column] = line_column(text, byte);
    return Error{std::string(origin) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what};
}

} // namespace

std::string json_text(const nlohmann::json& value, int indent, Ascii ascii) {
    return value.dump(indent, ' ', ascii == Ascii::escaped, nlohmann::json::error_handler_t::replace);
}

std::string json_text(const nlohmann::ordered_json& value, int indent, Ascii ascii) {
    return value.dump(indent, ' ', ascii == Ascii::escaped, nlohmann::ordered_json::error_handler_t::replace);
}

Result<nlohmann::json> parse_json(std::string_view text, std::string_view origin, DuplicateKeys duplicates) {
    // nlohmann takes a NUL byte for the end of the input, so a document
    // followed by "\0garbage" would pass; no JSON text holds a raw NUL.
    if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos)
        return positioned(origin, text, nul + 1, "a NUL byte, which JSON text never holds");
    if (const std::size_t deep = too_deep(text); deep != std::string_view::npos)
        return positioned(origin, text, deep + 1,
                          "arrays and objects nested deeper than " + std::to_string(k_max_json_depth) + " levels");
    json document;
    DomBuilder builder(document, duplicates);
    if (!json::sax_parse(text, &builder)) {
        if (!builder.duplicate().empty()) return Error{std::string(origin) + ": " + builder.duplicate()};
        return positioned(origin, text, builder.byte(), parse_error_text(builder.what()));
    }
    return document;
}

std::string json_type_found(const nlohmann::json& value) { return std::string("got ") + value.type_name(); }

} // namespace certauth
