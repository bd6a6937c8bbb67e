#include <certauth/x509/facts.hpp>

namespace certauth::x509 {
namespace {

// RFC 4514 escaping of one attribute value.
std::string escape_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        const bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
                             c == '=' || (i == 0 && (c == '#' || c == ' ')) || (i + 1 == value.size() && c == ' ');
        if (special) out += '\\';
        out += c;
    }
    // Control characters as RFC 4514's \XX: probe prints a server's name,
    // serve and check a client's.
    return escape_control_characters(out);
}

} // namespace

std::string escape_control_characters(std::string_view text) {
    constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) {
            out += c;
            continue;
        }
        out += '\\';
        out += k_hex[byte >> 4];
        out += k_hex[byte & 15];
    }
    return out;
}

std::vector<std::string> Name::values(std::string_view key) const {
    std::vector<std::string> out;
    for (const NameEntry& entry : entries)
        if (entry.key == key) out.push_back(entry.value);
    return out;
}

std::string Name::only(std::string_view key) const {
    const std::string* found = nullptr;
    for (const NameEntry& entry : entries) {
        if (entry.key != key) continue;
        if (found != nullptr) return {};
        found = &entry.value;
    }
    return found != nullptr ? *found : std::string();
}

std::string Name::to_string() const {
    std::string out;
    // Last entry first (RFC 2253 order, see facts.hpp). (Not std::views::reverse:
    // clang 14, which clang-tidy uses, cannot parse libstdc++ 12's ranges.)
    for (std::size_t i = entries.size(); i-- > 0;) {
        const NameEntry& entry = entries[i];
        if (!out.empty()) out += ", ";
        out += entry.key;
        out += '=';
        out += escape_value(entry.value);
    }
    return out;
}

} // namespace certauth::x509
