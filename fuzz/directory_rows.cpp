// Fuzz target: the rows of a user directory (src/directory/rows.cpp) as a
// database might hold them after any SQL an administrator ran. The input is
// rows, one per line: 'U' then the users columns (cn, o, ou, email, dns, uri,
// ip, fingerprint256, serial, issuer_cn, attributes), or 'R' then the routes
// columns (path, roles, is_public), separated by tabs; "\N" or a missing
// column is NULL. Each row goes through add_user_row / add_route_row; a
// rejected row's error must name it; an accepted row, written as users.json
// writes it (user_entry / route_entry, as export does), must be accepted
// again as a users.json entry, and both lists must decide alike.
#include <certauth/directory/rows.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/policy/user_list_builder.hpp>
#include <certauth/x509/facts.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certauth;
using nlohmann::json;

constexpr std::string_view k_origin = "sqlite:fuzz.db";

[[noreturn]] void fail() { __builtin_trap(); }

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = text.find(separator, start);
        out.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

std::optional<std::string_view> column(const std::vector<std::string_view>& columns, std::size_t i) {
    if (i >= columns.size() || columns[i] == "\\N") return std::nullopt;
    return columns[i];
}

void expect_named(const Error& error, std::string_view table, const std::string& id) {
    const std::string prefix = std::string(k_origin) + ": " + std::string(table) + "[id=" + id + "]";
    if (error.message.rfind(prefix, 0) != 0) fail();
}

x509::CertFacts certificate(std::string cn, std::string fingerprint) {
    x509::CertFacts facts;
    facts.subject.entries = {{"O", "Example"}, {"OU", "ops"}, {"CN", std::move(cn)}};
    facts.issuer.entries = {{"CN", "certauth test CA"}};
    facts.fingerprint256 = std::move(fingerprint);
    facts.serial = "1A2B3C";
    facts.san_dns = {"api.example.org"};
    facts.san_ip = {"127.0.0.1"};
    return facts;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    policy::UserListBuilder rows{std::string(k_origin)};
    policy::UserListBuilder entries("users.json");
    std::size_t number = 0;
    for (std::string_view line : split(bytes, '\n')) {
        if (line.empty()) continue;
        const std::string id = std::to_string(++number);
        const std::vector<std::string_view> columns = split(line.substr(1), '\t');
        if (line.front() == 'U') {
            policy::MatchTexts match;
            for (std::size_t k = 0; k < policy::k_match_key_count; ++k)
                match[k] = column(columns, k);
            const std::optional<std::string_view> attributes = column(columns, policy::k_match_key_count);
            if (Result<void> added = directory::add_user_row(rows, id, match, attributes); !added) {
                expect_named(added.error(), "users", id);
                continue;
            }
            Result<nlohmann::ordered_json> entry = directory::user_entry(k_origin, id, match, attributes);
            if (!entry || !entries.add_user(json(*entry), "users[" + id + "]")) fail();
        } else if (line.front() == 'R') {
            const auto path = column(columns, 0);
            const auto roles = column(columns, 1);
            const auto is_public = column(columns, 2);
            if (Result<void> added = directory::add_route_row(rows, id, path, roles, is_public); !added) {
                expect_named(added.error(), "routes", id);
                continue;
            }
            Result<nlohmann::ordered_json> route = directory::route_entry(k_origin, id, path, roles, is_public);
            if (!route || !entries.add_route(json(*route), "routes[" + id + "]")) fail();
        }
    }
    const policy::UserList from_rows = std::move(rows).build();
    const policy::UserList from_entries = std::move(entries).build();
    if (from_rows.users().size() != from_entries.users().size()) fail();
    if (from_rows.routes().size() != from_entries.routes().size()) fail();
    for (const x509::CertFacts& facts :
         {certificate(
              "joe", "F8:38:B2:63:B4:88:B6:CA:52:E2:BE:73:67:A9:3D:7D:A0:B5:EE:AC:56:7D:3B:9D:7F:30:1D:03:B8:E4:24:89"),
          certificate("ann", "")}) {
        const auto a = from_rows.find(facts);
        const auto b = from_entries.find(facts);
        if ((a == nullptr) != (b == nullptr) || (a && *a != *b)) fail();
    }
    return 0;
}
