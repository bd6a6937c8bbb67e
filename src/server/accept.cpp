#include <certauth/server/accept.hpp>

#include <certauth/ascii.hpp>

#include <cstddef>

namespace certauth::server {
namespace {

constexpr int k_full = 1000;

// A token character (RFC 9110 5.6.2).
bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    for (const char special : std::string_view("!#$%&'*+-.^_`|~"))
        if (c == special) return true;
    return false;
}

bool is_token(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text)
        if (!is_tchar(c)) return false;
    return true;
}

// The position of the next `separator` in `text` from `from` that is not
// inside a quoted string (npos when none).
std::size_t find_unquoted(std::string_view text, char separator, std::size_t from) {
    bool quoted = false;
    for (std::size_t i = from; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '\\')
                ++i; // a quoted-pair
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == separator) {
            return i;
        }
    }
    return std::string_view::npos;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
// thousandths; -1 when it is not one.
int parse_qvalue(std::string_view text) {
    if (text.empty() || (text[0] != '0' && text[0] != '1')) return -1;
    int value = (text[0] - '0') * k_full;
    if (text.size() == 1) return value;
    if (text[1] != '.' || text.size() > 5) return -1;
    int scale = 100;
    for (const char c : text.substr(2)) {
        if (c < '0' || c > '9') return -1;
        value += (c - '0') * scale;
        scale /= 10;
    }
    return value <= k_full ? value : -1;
}

struct MediaRange {
    std::string_view type;
    std::string_view subtype;
    int quality = k_full;
};

// One element of the list: "type/subtype *( OWS ; OWS parameter )"; false
// when it does not parse.
bool parse_range(std::string_view element, MediaRange& range) {
    std::size_t end = find_unquoted(element, ';', 0);
    const std::string_view media = ascii::trim(element.substr(0, end));
    const std::size_t slash = media.find('/');
    if (slash == std::string_view::npos) return false;
    range.type = media.substr(0, slash);
    range.subtype = media.substr(slash + 1);
    if (!is_token(range.type) || !is_token(range.subtype)) return false;
    if (range.type == "*" && range.subtype != "*") return false;
    while (end != std::string_view::npos) {
        const std::size_t start = end + 1;
        end = find_unquoted(element, ';', start);
        const std::string_view parameter =
            ascii::trim(element.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        const std::size_t equals = parameter.find('=');
        if (equals == std::string_view::npos) continue;
        if (!ascii::iequals(ascii::trim(parameter.substr(0, equals)), "q")) continue;
        range.quality = parse_qvalue(ascii::trim(parameter.substr(equals + 1)));
        return range.quality >= 0; // parameters after q are extensions
    }
    return true;
}

} // namespace

int accept_quality(std::string_view accept, std::string_view type, std::string_view subtype) noexcept {
    if (ascii::trim(accept).empty()) return k_full;
    int best_specificity = -1;
    int quality = 0;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = find_unquoted(accept, ',', start);
        const std::string_view element =
            ascii::trim(accept.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        MediaRange range;
        if (!element.empty() && parse_range(element, range)) {
            int specificity = -1;
            if (range.type == "*")
                specificity = 0;
            else if (ascii::iequals(range.type, type))
                specificity = range.subtype == "*" ? 1 : ascii::iequals(range.subtype, subtype) ? 2 : -1;
            if (specificity > best_specificity) {
                best_specificity = specificity;
                quality = range.quality;
            } else if (specificity == best_specificity && specificity >= 0 && range.quality > quality) {
                quality = range.quality;
            }
        }
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return quality;
}

bool prefers_html(std::string_view accept) noexcept {
    if (accept.empty()) return false;
    return accept_quality(accept, "text", "html") > accept_quality(accept, "application", "json");
}

} // namespace certauth::server
