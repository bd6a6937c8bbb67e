#pragma once
// Builds a UserList entry by entry, with the one validation every source of
// entries gets: a users.json file (UserList::parse), the rows of a directory
// (src/directory), `certauth users add`. The caller says where each entry
// comes from ("users[3]", "users[id=17]"); errors read
// "ORIGIN: WHERE.KEY: what is wrong", e.g.
// "users.json: users[3].cn: expected a string, got number".
// A rejected entry or route is not added, so a caller that wants every
// problem (lint) can go on adding.

#include <certauth/policy/match_key.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/result.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace certauth::policy {

// An entry's match key values as text, indexed by MatchKey; nullopt where
// the entry does not constrain the key (an empty string is an error).
using MatchTexts = std::array<std::optional<std::string_view>, k_match_key_count>;

// "ORIGIN: WHERE: WHAT" ("ORIGIN: WHAT" for an empty `where`): how every
// error about an entry or a route reads.
Error located_error(std::string_view origin, std::string_view where, std::string_view what);

// What add_document does with each problem: true to go on (lint), false to stop.
using ProblemHandler = std::function<bool(const Error&)>;

class UserListBuilder {
  public:
    explicit UserListBuilder(std::string origin);
    ~UserListBuilder();
    UserListBuilder(UserListBuilder&&) noexcept;
    UserListBuilder& operator=(UserListBuilder&&) noexcept;
    UserListBuilder(const UserListBuilder&) = delete;
    UserListBuilder& operator=(const UserListBuilder&) = delete;

    // An entry as users.json writes it: a bare string (a CN) or an object of
    // match keys and attributes.
    Result<void> add_user(const nlohmann::json& entry, std::string_view where);
    // An entry given as its parts: match key values, and every other key as
    // a JSON object (`roles`, when there, must be an array of strings).
    Result<void> add_user(const MatchTexts& match, const nlohmann::json& attributes, std::string_view where);
    // A route as users.json writes it: {"path": ..., "roles": [...]} or
    // {"path": ..., "public": true}. A path given twice is an error naming both.
    Result<void> add_route(const nlohmann::json& route, std::string_view where);

    // A whole users.json document: {"users": [...], "routes": [...]}, its
    // top level checked too. Each problem goes to `problem`.
    void add_document(const nlohmann::json& document, const ProblemHandler& problem);

    // located_error with this builder's origin.
    Error error(std::string_view where, std::string_view what) const { return located_error(m_origin, where, what); }
    const std::string& origin() const noexcept { return m_origin; }
    std::size_t user_count() const noexcept;

    // The list, indexed; the builder is spent.
    UserList build() &&;

  private:
    std::string m_origin;
    std::unique_ptr<UserStorage> m_storage;
    std::vector<std::string> m_route_where; // where each route came from, for duplicate messages
    std::size_t m_unsaid_warnings = 0;      // beyond the ones kept, counted
};

} // namespace certauth::policy
