// The xfcc header format: Envoy's X-Forwarded-Client-Cert. Elements
// separated by ',', one per proxy that added one, the nearest proxy's last;
// each element key=value pairs separated by ';'; keys case-insensitive
// (By, Hash, Cert, Chain, Subject, URI, DNS); a value that holds ',', ';',
// '=' or '"' is quoted, with '\"' and '\\' inside (Envoy quotes Cert,
// Chain and Subject always). Cert is the client's certificate and Chain its
// whole chain (leaf first), both URL-encoded PEM. certauth accepts a header
// of exactly one element (see decode_xfcc) and reads its Chain when
// present, else its Cert.
#include <certauth/server/header_certificate.hpp>

#include <certauth/ascii.hpp>
#include <certauth/percent_encoding.hpp>

#include <vector>

namespace certauth::server {
namespace {

struct Pair {
    std::string key;
    std::string value;
};

using Element = std::vector<Pair>;

// Parses the whole value: every element must be well-formed, so that what
// reads as the last element is the last one.
Result<std::vector<Element>> parse_xfcc(std::string_view text) {
    std::vector<Element> elements(1);
    std::size_t i = 0;
    const auto where = [&] { return " (at character " + std::to_string(i + 1) + ")"; };
    for (;;) {
        // One pair: key=value.
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
            ++i;
        const std::size_t key_start = i;
        while (i < text.size() && text[i] != '=' && text[i] != ';' && text[i] != ',' && text[i] != '"')
            ++i;
        const std::string_view key = ascii::trim(text.substr(key_start, i - key_start));
        if (key.empty()) return Error{"an XFCC element has an empty key" + where()};
        if (i >= text.size() || text[i] != '=')
            return Error{"the XFCC key \"" + std::string(key) + "\" has no '=value'" + where()};
        ++i;
        std::string value;
        if (i < text.size() && text[i] == '"') {
            ++i;
            bool closed = false;
            while (i < text.size()) {
                const char c = text[i++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\') {
                    if (i >= text.size()) break;
                    value += text[i++];
                    continue;
                }
                value += c;
            }
            if (!closed) return Error{"the quoted value of XFCC key \"" + std::string(key) + "\" is not closed"};
        } else {
            const std::size_t value_start = i;
            while (i < text.size() && text[i] != ';' && text[i] != ',')
                ++i;
            value = std::string(ascii::trim(text.substr(value_start, i - value_start)));
            if (value.find('"') != std::string::npos || value.find('=') != std::string::npos)
                return Error{"the value of XFCC key \"" + std::string(key) + "\" holds '\"' or '=' without quotes" +
                             where()};
        }
        for (const Pair& pair : elements.back())
            if (ascii::iequals(pair.key, key))
                return Error{"an XFCC element has the key \"" + std::string(key) + "\" twice"};
        elements.back().push_back(Pair{std::string(key), std::move(value)});
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
            ++i;
        if (i >= text.size()) return elements;
        if (text[i] == ',')
            elements.emplace_back();
        else if (text[i] != ';')
            return Error{"unexpected '" + std::string(1, text[i]) + "' after the value of XFCC key \"" +
                         std::string(key) + "\"" + where()};
        ++i;
    }
}

const Pair* find(const Element& element, std::string_view key) {
    for (const Pair& pair : element)
        if (ascii::iequals(pair.key, key)) return &pair;
    return nullptr;
}

} // namespace

Result<x509::Chain> decode_xfcc(std::string_view value) {
    Result<std::vector<Element>> elements = parse_xfcc(ascii::trim(value));
    if (!elements) return elements.error();
    // One element only. Envoy writes URI= and DNS= from the client's own
    // certificate without quoting them, so a SAN holding ",Cert=..." would
    // read as an element of its own after the proxy's: with several
    // elements nothing says which one the proxy wrote.
    if (elements->size() != 1)
        return Error{"X-Forwarded-Client-Cert has " + std::to_string(elements->size()) +
                     " elements; certauth accepts exactly one, since a client's SANs can forge an element boundary "
                     "(Envoy: forward_client_cert_details SANITIZE_SET)"};
    const Element& nearest = elements->front();
    const std::string which = "the element";
    const Pair* pem = find(nearest, "Chain");
    if (pem == nullptr) pem = find(nearest, "Cert");
    if (pem == nullptr)
        return Error{which + " has no Cert= or Chain=: the proxy must forward the certificate (Envoy: "
                             "set_current_client_cert_details with cert: true or chain: true)"};
    std::size_t where = 0;
    const std::optional<std::string> text = percent_decode(pem->value, where);
    if (!text)
        return Error{which + ": " + pem->key + "= is not URL-encoded PEM: the '%' at character " +
                     std::to_string(where) + " is not followed by two hex digits"};
    return x509::parse_chain(*text, which + ": " + pem->key + "=");
}

} // namespace certauth::server
