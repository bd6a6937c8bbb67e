#pragma once
// UserList: the user list and routes (docs/users.md) - load, validate, match.
// The list keeps its entries compact (one text arena for every match value
// and attributes object, fixed-size records, an open-addressing index by each
// entry's most selective match key), so that a million entries cost tens of
// bytes each beyond their strings and find() costs a few lookups however long
// the list is. UserListBuilder (user_list_builder.hpp) validates and adds
// entries from a JSON file or from directory rows alike.

#include <certauth/policy/match_key.hpp>
#include <certauth/result.hpp>
#include <certauth/x509/facts.hpp>

#include <cstddef>
#include <filesystem>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace certauth::policy {

// One entry of "users", expanded: its match keys (normalised at load) and
// attributes. The list hands these out one at a time (UserList::users()).
struct UserEntry {
    // Match keys; an empty optional is "not constrained". At least one is set.
    std::optional<std::string> cn, o, ou, email, dns, uri, ip, fingerprint256, serial, issuer_cn;
    nlohmann::json attributes = nlohmann::json::object(); // every other key of the entry
    std::string json_path;                                // "users[3]": its position in the list

    std::optional<std::string>& value(MatchKey key) noexcept;
    const std::optional<std::string>& value(MatchKey key) const noexcept;
    bool matches(const x509::CertFacts& facts) const;
};

struct Route {
    std::string path; // a path prefix, matched segment-wise ("/admin" covers "/admin/x", not "/administrator")
    std::vector<std::string> roles; // a user needs at least one of them
    bool is_public = false;         // no certificate needed at all
};

struct UserStorage; // the compact form (src/policy/user_storage.hpp)

// The entries of a list, each expanded when read; valid while the list is.
class UserEntries {
  public:
    class iterator {
      public:
        using iterator_category = std::input_iterator_tag;
        using value_type = UserEntry;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = UserEntry;

        iterator() = default;
        iterator(const UserStorage* storage, std::size_t index) : m_storage(storage), m_index(index) {}
        UserEntry operator*() const;
        iterator& operator++() {
            ++m_index;
            return *this;
        }
        iterator operator++(int) {
            iterator before = *this;
            ++m_index;
            return before;
        }
        bool operator==(const iterator& other) const noexcept { return m_index == other.m_index; }

      private:
        const UserStorage* m_storage = nullptr;
        std::size_t m_index = 0;
    };

    explicit UserEntries(const UserStorage& storage) noexcept : m_storage(&storage) {}
    std::size_t size() const noexcept;
    bool empty() const noexcept { return size() == 0; }
    UserEntry operator[](std::size_t index) const;
    iterator begin() const { return {m_storage, 0}; }
    iterator end() const { return {m_storage, size()}; }

  private:
    const UserStorage* m_storage;
};

// A user list file's text, or an error naming it: missing, a directory,
// unreadable, empty.
Result<std::string> read_user_list_text(const std::filesystem::path& file);

class UserList {
  public:
    UserList(); // no entries, no routes

    // Reads and validates `file`. Errors name the file and the line and column
    // (syntax) or the JSON path (users[3].cn) and say what is wrong.
    static Result<UserList> load(const std::filesystem::path& file);
    // The same for text already in memory; `origin` names it in messages.
    static Result<UserList> parse(std::string_view text, std::string_view origin);

    // The user object of the first matching entry (its attributes plus "cn",
    // the certificate's CN), shared with the list when the entry has one for
    // that CN; null when no entry matches. Thread-safe.
    std::shared_ptr<const nlohmann::json> find(const x509::CertFacts& facts) const;

    // The route with the longest path prefix covering `path` (already
    // normalised, without query); nullptr when no route covers it.
    const Route* route_for(std::string_view path) const;

    UserEntries users() const noexcept { return UserEntries(*m_storage); }
    const std::vector<Route>& routes() const noexcept;
    // The match keys the entries use, in the order of the spec ("cn",
    // "fingerprint256"), for messages about a certificate that matched none.
    const std::vector<std::string>& match_keys() const noexcept;
    // What loading found valid but risky, for a person: "users.json: users[3]:
    // matches on serial 1004 alone; ...". Said once, where the list is loaded.
    const std::vector<std::string>& warnings() const noexcept;

  private:
    friend class UserListBuilder;
    explicit UserList(std::shared_ptr<const UserStorage> storage) noexcept : m_storage(std::move(storage)) {}

    // Immutable once built, so copies of a list share it.
    std::shared_ptr<const UserStorage> m_storage;
};

} // namespace certauth::policy
