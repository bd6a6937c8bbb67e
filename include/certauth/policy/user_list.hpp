#pragma once
// UserList: the user list and routes (docs/users.md) - load, validate, match.

#include <certauth/result.hpp>
#include <certauth/x509/facts.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace certauth::policy {

// One entry of "users": its match keys (normalised at load) and attributes.
struct UserEntry {
    // Match keys; an empty optional is "not constrained". At least one is set.
    std::optional<std::string> cn, o, ou, email, dns, uri, ip, fingerprint256, serial, issuer_cn;
    nlohmann::json attributes = nlohmann::json::object(); // every other key of the entry
    std::string json_path;                                // "users[3]", for messages
    // For an entry that matches on cn: its user object (attributes plus that
    // "cn"), built once and shared by every decision for a certificate with
    // exactly that CN. Null otherwise.
    std::shared_ptr<const nlohmann::json> object;

    bool matches(const x509::CertFacts& facts) const;
};

struct Route {
    std::string path; // a path prefix, matched segment-wise ("/admin" covers "/admin/x", not "/administrator")
    std::vector<std::string> roles; // a user needs at least one of them
    bool is_public = false;         // no certificate needed at all
};

class UserList {
  public:
    // Reads and validates `file`. Errors name the file and the line and column
    // (syntax) or the JSON path (users[3].cn) and say what is wrong.
    static Result<UserList> load(const std::filesystem::path& file);
    // The same for text already in memory; `origin` names it in messages.
    static Result<UserList> parse(std::string_view text, std::string_view origin);

    // The user object of the first matching entry (its attributes plus "cn",
    // the certificate's CN), shared with the list when the entry has one for
    // that CN; null when no entry matches.
    std::shared_ptr<const nlohmann::json> find(const x509::CertFacts& facts) const;

    // The route with the longest path prefix covering `path` (already
    // normalised, without query); nullptr when no route covers it.
    const Route* route_for(std::string_view path) const;

    const std::vector<UserEntry>& users() const noexcept { return m_users; }
    const std::vector<Route>& routes() const noexcept { return m_routes; }
    // The match keys the entries use, in the order of the spec ("cn",
    // "fingerprint256"), for messages about a certificate that matched none.
    const std::vector<std::string>& match_keys() const noexcept { return m_match_keys; }
    // What loading found valid but risky, for a person: "users.json: users[3]:
    // matches on serial 1004 alone; ...". Said once, where the list is loaded.
    const std::vector<std::string>& warnings() const noexcept { return m_warnings; }

  private:
    std::vector<UserEntry> m_users;
    std::vector<Route> m_routes;
    std::vector<std::string> m_match_keys;
    std::vector<std::string> m_warnings;
    // Entry indices (ascending) by their most selective match key and its
    // normalised value, so that find() does not scan the whole list.
    std::unordered_map<std::string, std::vector<std::size_t>> m_index;
};

} // namespace certauth::policy
