#include <certauth/policy/user_list.hpp>

#include <certauth/policy/user_list_builder.hpp>

#include "user_storage.hpp"

#include <algorithm>
#include <array>
#include <iterator>

#include <certauth/json_text.hpp>
#include <certauth/x509/certificate.hpp>

namespace certauth::policy {
namespace {

using nlohmann::json;

// Every value a certificate has for each match key, normalised.
using CertValues = std::array<std::vector<std::string>, k_match_key_count>;

constexpr std::uint16_t k_all_keys = (1U << k_match_key_count) - 1;

// The certificate's values for the keys in `wanted` (a bit per MatchKey):
// those some entry of the list has.
CertValues cert_values(const x509::CertFacts& facts, std::uint16_t wanted = k_all_keys) {
    CertValues values;
    auto add = [&](MatchKey key, std::string_view value) {
        if (((wanted >> index_of(key)) & 1U) == 0) return;
        if (std::optional<std::string> n = normalise_match_value(key, value))
            values[index_of(key)].push_back(std::move(*n));
    };
    // cn and issuer_cn only from a name with exactly one CN (CertFacts::cn):
    // an entry for joe must not match CN=bob, CN=joe.
    if (const std::string name = facts.cn(); !name.empty()) add(MatchKey::cn, name);
    for (const x509::NameEntry& entry : facts.subject.entries) {
        if (entry.key == "O")
            add(MatchKey::o, entry.value);
        else if (entry.key == "OU")
            add(MatchKey::ou, entry.value);
        else if (entry.key == "emailAddress")
            add(MatchKey::email, entry.value);
    }
    for (const std::string& value : facts.san_email)
        add(MatchKey::email, value);
    for (const std::string& value : facts.san_dns)
        add(MatchKey::dns, value);
    for (const std::string& value : facts.san_uri)
        add(MatchKey::uri, value);
    for (const std::string& value : facts.san_ip)
        add(MatchKey::ip, value);
    if (!facts.fingerprint256.empty()) add(MatchKey::fingerprint256, facts.fingerprint256);
    if (!facts.serial.empty()) add(MatchKey::serial, facts.serial);
    if (const std::string name = facts.issuer_cn(); !name.empty()) add(MatchKey::issuer_cn, name);
    return values;
}

bool contains(const std::vector<std::string>& have, std::string_view wanted) {
    return std::find(have.begin(), have.end(), wanted) != have.end();
}

bool stored_entry_matches(const UserStorage& storage, const StoredEntry& entry, const CertValues& values) {
    for (std::size_t key = 0; key < k_match_key_count; ++key)
        if (UserStorage::has(entry, key) && !contains(values[key], storage.value(entry, key))) return false;
    return true;
}

// What a match hands out: the entry's attributes plus "cn".
std::shared_ptr<const json> user_object(const UserStorage& storage, const StoredEntry& entry, const std::string& cn) {
    auto object = std::make_shared<json>(entry.attributes.size > 0 ? json::parse(storage.view(entry.attributes))
                                                                   : json::object());
    (*object)["cn"] = cn;
    return object;
}

const UserStorage& empty_storage() {
    static const UserStorage storage;
    return storage;
}

} // namespace

std::optional<std::string>& UserEntry::value(MatchKey key) noexcept {
    switch (key) {
    case MatchKey::cn: return cn;
    case MatchKey::o: return o;
    case MatchKey::ou: return ou;
    case MatchKey::email: return email;
    case MatchKey::dns: return dns;
    case MatchKey::uri: return uri;
    case MatchKey::ip: return ip;
    case MatchKey::fingerprint256: return fingerprint256;
    case MatchKey::serial: return serial;
    case MatchKey::issuer_cn: return issuer_cn;
    }
    return cn; // not reached: every key is listed
}

const std::optional<std::string>& UserEntry::value(MatchKey key) const noexcept {
    return const_cast<UserEntry*>(this)->value(key);
}

bool UserEntry::matches(const x509::CertFacts& facts) const {
    const CertValues values = cert_values(facts);
    for (MatchKey key : k_match_keys) {
        const std::optional<std::string>& wanted = value(key);
        if (wanted && !contains(values[index_of(key)], *wanted)) return false;
    }
    return true;
}

std::size_t UserEntries::size() const noexcept { return m_storage->entries.size(); }

UserEntry UserEntries::operator[](std::size_t index) const { return m_storage->expand(index); }

UserEntry UserEntries::iterator::operator*() const { return m_storage->expand(m_index); }

UserList::UserList() : m_storage(std::shared_ptr<const UserStorage>(), &empty_storage()) {}

const std::vector<Route>& UserList::routes() const noexcept { return m_storage->routes; }

const std::vector<std::string>& UserList::match_keys() const noexcept { return m_storage->match_keys; }

const std::vector<std::string>& UserList::warnings() const noexcept { return m_storage->warnings; }

Result<UserList> UserList::parse(std::string_view text, std::string_view origin) {
    Result<json> document = parse_json(text, origin, DuplicateKeys::refused);
    if (!document) return document.error();
    UserListBuilder builder{std::string(origin)};
    std::optional<Error> first;
    builder.add_document(*document, [&first](const Error& problem) {
        first = problem;
        return false;
    });
    if (first) return *first;
    return std::move(builder).build();
}

Result<std::string> read_user_list_text(const std::filesystem::path& file) {
    Result<std::string> text = x509::read_file(file); // size-capped, regular files only
    if (!text) return text.error();
    if (text->empty()) return Error{file.string() + ": empty file; expected a JSON object with \"users\""};
    return text;
}

Result<UserList> UserList::load(const std::filesystem::path& file) {
    Result<std::string> text = read_user_list_text(file);
    if (!text) return text.error();
    return parse(*text, file.string());
}

std::shared_ptr<const nlohmann::json> UserList::find(const x509::CertFacts& facts) const {
    const UserStorage& storage = *m_storage;
    const std::size_t count = storage.entries.size();
    if (count == 0) return nullptr;
    const CertValues values = cert_values(facts, storage.used_keys);
    std::uint32_t best = k_no_entry;
    for (std::size_t key = 0; key < k_match_key_count; ++key)
        for (const std::string& value : values[key])
            for (std::uint32_t i = storage.first_indexed(key, value); i != k_no_entry && i < best; i = storage.next[i])
                if (stored_entry_matches(storage, storage.entries[i], values)) {
                    best = i; // chains ascend, so nothing later in this one is better
                    break;
                }
    if (best == k_no_entry) return nullptr;
    const StoredEntry& entry = storage.entries[best];
    const std::string cn = facts.cn();
    if (UserStorage::has(entry, index_of(MatchKey::cn)) && storage.value(entry, index_of(MatchKey::cn)) == cn)
        return storage.objects.get(best, [&] { return user_object(storage, entry, cn); });
    return user_object(storage, entry, cn);
}

const Route* UserList::route_for(std::string_view path) const {
    const Route* best = nullptr;
    for (const Route& route : m_storage->routes) {
        const std::string& prefix = route.path;
        const bool covers = path.substr(0, prefix.size()) == prefix &&
                            (path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/');
        if (covers && (best == nullptr || prefix.size() > best->path.size())) best = &route;
    }
    return best;
}

} // namespace certauth::policy
