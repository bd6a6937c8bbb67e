// Fuzz target: a --users value (src/directory/location.cpp), as a person
// types it: parse_location, the name messages give it, resolve_relative as
// a configuration file's value, and without_secrets over a message. The
// input is the value, then (after the first newline) a message as libpq
// might word it about that value. Properties, beyond not crashing:
//  - a name never shows a password libpq read from the value (one of 4
//    letters or digits or more, written once, in a value without
//    percent-encoding, quotes or escapes);
//  - an error about a value libpq cannot read never shows 8 letters, digits
//    or '_', one a digit at least, that the value has only after its first
//    "password" (libpq's own words hold no digit; a key it names is a word
//    written before the password);
//  - without_secrets only replaces and cuts: its output is at most the
//    message and one replacement long.
#include <certauth/directory/location.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace {

using namespace certauth;

[[noreturn]] void fail() { __builtin_trap(); }

struct OptionsFree {
    void operator()(PQconninfoOption* options) const noexcept { PQconninfoFree(options); }
};

void check_name(const directory::Location& location) {
    const std::string encoded = location.name();
    // Values written as they are: no percent-encoding, quoting or escapes.
    if (location.kind != directory::Kind::postgresql || location.target.find_first_of("%'\\") != std::string::npos)
        return;
    // The name, percent-decoded ("%D9999" is not "9999"), without its scheme
    // and the parameters that stand for secrets ("password=***").
    std::string name;
    for (std::size_t at = 0; at < encoded.size(); ++at) {
        if (encoded[at] == '%' && at + 2 < encoded.size()) {
            name += static_cast<char>(std::stoi(encoded.substr(at + 1, 2), nullptr, 16));
            at += 2;
        } else {
            name += encoded[at];
        }
    }
    if (name.rfind("postgresql://", 0) == 0) name.erase(0, std::string_view("postgresql://").size());
    for (std::size_t stars = name.find("=***"); stars != std::string::npos; stars = name.find("=***")) {
        const std::size_t key = name.find_last_of("?&", stars);
        name.erase(key == std::string::npos ? 0 : key, stars + 4 - (key == std::string::npos ? 0 : key));
    }
    const std::unique_ptr<PQconninfoOption, OptionsFree> options(PQconninfoParse(location.target.c_str(), nullptr));
    if (!options) return;
    for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
        if (option->val == nullptr || option->dispchar == nullptr || option->dispchar[0] != '*') continue;
        const std::string_view secret = option->val;
        // A secret of letters and digits, written once: nothing else libpq
        // read (hosts joined with ',') can spell it.
        const bool alphanumeric = std::all_of(secret.begin(), secret.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        });
        if (!alphanumeric || secret.size() < 4 || location.target.find(secret) != location.target.rfind(secret))
            continue;
        if (name.find(secret) != std::string::npos) fail();
    }
}

void check_error(std::string_view text, const std::string& error) {
    const std::size_t password = text.find("password");
    if (password == std::string_view::npos) return;
    const std::string_view before = text.substr(0, password);
    const std::string_view after = text.substr(password);
    for (std::size_t at = 0; at + 8 <= after.size(); ++at) {
        const std::string_view window = after.substr(at, 8);
        const bool word = std::all_of(window.begin(), window.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        });
        if (!word || window.find_first_of("0123456789") == std::string_view::npos) continue;
        if (before.find(window) != std::string_view::npos) continue;
        if (error.find(window) != std::string::npos) fail();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t newline = input.find('\n');
    const std::string_view text = input.substr(0, newline);
    const std::string_view message = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
    if (text.find('\0') != std::string_view::npos) return 0; // a command-line argument holds no NUL

    const Result<directory::Location> location = directory::parse_location(text);
    if (location)
        check_name(*location);
    else
        check_error(text, location.error().message);
    (void)directory::resolve_relative(text, "/nonexistent/certauth");

    const std::string scrubbed = directory::without_secrets(message, text);
    if (scrubbed.size() > message.size() + std::string_view("(not shown: it may hold a secret)\"").size()) fail();
    return 0;
}
