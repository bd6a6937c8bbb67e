// The rfc9440 header format (RFC 9440): Client-Cert holds the leaf's DER as
// a structured-field byte sequence (RFC 8941 3.3.5: base64 between colons,
// ":MIIB...:"), an Item whose parameters, if any, are ignored;
// Client-Cert-Chain a List of such byte sequences, the certificates that
// complete the leaf's chain (the leaf not among them), which HTTP may split
// over several field lines (joined with ", " before this). Cloudflare fills
// both whether or not its own validation passed: certauth verifies anyway.
#include <certauth/server/header_certificate.hpp>

#include <certauth/ascii.hpp>
#include <certauth/x509/encoding.hpp>

#include <cctype>

namespace certauth::server {
namespace {

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~:/").find(c) != std::string_view::npos;
}

// Skips an Item's parameters (RFC 8941 3.1.2): *( ";" *SP key [ "=" bare-item ] ).
Result<void> skip_parameters(std::string_view text, std::size_t& i) {
    while (i < text.size() && text[i] == ';') {
        ++i;
        while (i < text.size() && text[i] == ' ')
            ++i;
        const std::size_t key = i;
        while (i < text.size() && (std::islower(static_cast<unsigned char>(text[i])) != 0 ||
                                   std::isdigit(static_cast<unsigned char>(text[i])) != 0 ||
                                   std::string_view("_-.*").find(text[i]) != std::string_view::npos))
            ++i;
        if (i == key) return Error{"a parameter has no key"};
        if (i >= text.size() || text[i] != '=') continue;
        ++i;
        if (i < text.size() && text[i] == '"') { // a string, with \" and \\ inside
            for (++i; i < text.size() && text[i] != '"'; ++i)
                if (text[i] == '\\') ++i;
            if (i >= text.size()) return Error{"a parameter's string is not closed"};
            ++i;
        } else if (i < text.size() && text[i] == ':') { // a byte sequence
            const std::size_t end = text.find(':', i + 1);
            if (end == std::string_view::npos) return Error{"a parameter's byte sequence is not closed"};
            i = end + 1;
        } else { // a token, number or boolean
            const std::size_t start = i;
            while (i < text.size() && (is_token_char(text[i]) || text[i] == '?'))
                ++i;
            if (i == start) return Error{"a parameter has '=' and no value"};
        }
    }
    return {};
}

// One byte-sequence Item from text[i]: the DER it holds; `i` moves past it
// and its parameters.
Result<std::string> byte_sequence(std::string_view text, std::size_t& i) {
    if (i >= text.size() || text[i] != ':')
        return Error{"not a structured-field byte sequence (\":base64:\"): it does not start with ':'"};
    const std::size_t end = text.find(':', i + 1);
    if (end == std::string_view::npos) return Error{"the byte sequence has no closing ':'"};
    Result<std::string> der = x509::from_base64(text.substr(i + 1, end - i - 1), x509::Base64Padding::optional);
    if (!der) return Error{"the byte sequence's base64 " + der.error().message};
    i = end + 1;
    if (Result<void> skipped = skip_parameters(text, i); !skipped) return skipped.error();
    return der;
}

} // namespace

Result<x509::Chain> decode_rfc9440(std::string_view cert, std::string_view chain, std::string_view cert_name,
                                   std::string_view chain_name) {
    const std::string cert_field(cert_name);
    const std::string chain_field(chain_name);
    const std::string_view leaf_text = ascii::trim(cert);
    std::size_t i = 0;
    Result<std::string> leaf_der = byte_sequence(leaf_text, i);
    if (!leaf_der) return Error{cert_field + ": " + leaf_der.error().message};
    if (i != leaf_text.size()) return Error{cert_field + ": more than one byte sequence (it holds one certificate)"};
    Result<x509::Chain> out = x509::parse_chain(*leaf_der, cert_field);
    if (!out) return out.error();
    if (out->size() != 1)
        return Error{cert_field + ": holds " + std::to_string(out->size()) + " certificates, not one"};

    const std::string_view list = ascii::trim(chain);
    i = 0;
    for (std::size_t index = 1; i < list.size(); ++index) {
        const std::string name = chain_field + " member " + std::to_string(index);
        Result<std::string> der = byte_sequence(list, i);
        if (!der) return Error{name + ": " + der.error().message};
        Result<x509::Chain> member = x509::parse_chain(*der, name);
        if (!member) return member.error();
        for (x509::Certificate& c : *member)
            out->push_back(std::move(c));
        // Members are separated by a comma with optional whitespace around it.
        while (i < list.size() && (list[i] == ' ' || list[i] == '\t'))
            ++i;
        if (i >= list.size()) break;
        if (list[i] != ',') return Error{name + ": followed by '" + std::string(1, list[i]) + "', not ','"};
        ++i;
        while (i < list.size() && (list[i] == ' ' || list[i] == '\t'))
            ++i;
        if (i >= list.size()) return Error{chain_field + ": ends with ','"};
    }
    return out;
}

} // namespace certauth::server
