#pragma once
// The compact form of a UserList (include/certauth/policy/user_list.hpp):
// every match value and attributes object lives in one text arena; an entry
// is a 16-byte record; an open-addressing index maps (match key, value) to
// the first entry indexed under it, and `next` chains the later ones in list
// order. User objects for entries matching on cn are built on first use and
// kept (one per entry, shared by every connection of that user).

#include <certauth/policy/match_key.hpp>
#include <certauth/policy/user_list.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace certauth::policy {

inline constexpr std::uint32_t k_no_entry = 0xFFFFFFFF;

// A piece of UserStorage::text.
struct TextRef {
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
};

struct StoredEntry {
    std::uint32_t first_value = 0; // index into UserStorage::values of its first match value
    std::uint16_t keys = 0;        // bit i set: it has match key i (its values follow in key order)
    std::uint8_t primary = 0;      // the key it is indexed under
    TextRef attributes;            // compact JSON object text; empty when it has none
};

// The user objects of entries that match on cn, built on first use and kept.
// Lock-free: a slot is published once with compare-and-swap.
class ObjectCache {
  public:
    ObjectCache() = default;
    explicit ObjectCache(std::size_t slots);
    ~ObjectCache();
    ObjectCache(ObjectCache&& other) noexcept = default;
    ObjectCache& operator=(ObjectCache&& other) noexcept;
    ObjectCache(const ObjectCache&) = delete;
    ObjectCache& operator=(const ObjectCache&) = delete;

    // The object kept in `slot`, made by `make` when there is none yet.
    template <class Make>
    std::shared_ptr<const nlohmann::json> get(std::size_t slot, Make&& make) const {
        if (const Object* kept = m_slots[slot].load(std::memory_order_acquire)) return *kept;
        return publish(slot, make());
    }

  private:
    using Object = std::shared_ptr<const nlohmann::json>;
    std::shared_ptr<const nlohmann::json> publish(std::size_t slot, Object made) const;
    void clear() noexcept;

    std::unique_ptr<std::atomic<const Object*>[]> m_slots;
    std::size_t m_size = 0;
};

struct UserStorage {
    std::string text;
    std::vector<StoredEntry> entries;
    std::vector<TextRef> values;
    std::vector<std::uint32_t> next; // per entry: the next entry with its index key, or k_no_entry

    struct Slot {
        std::uint32_t hash = 0;
        std::uint32_t entry = k_no_entry; // the first entry with this index key
    };
    std::vector<Slot> slots;        // a power of two, at most half full
    std::uint16_t indexed_keys = 0; // bit i set: some entry is indexed under key i
    std::uint16_t used_keys = 0;    // bit i set: some entry has key i
    ObjectCache objects;

    std::vector<Route> routes;
    std::vector<std::string> match_keys;
    std::vector<std::string> warnings;

    std::string_view view(TextRef ref) const noexcept { return {text.data() + ref.offset, ref.size}; }
    static bool has(const StoredEntry& entry, std::size_t key) noexcept { return (entry.keys >> key) & 1U; }
    // Entry `entry`'s value for `key`, which it has.
    std::string_view value(const StoredEntry& entry, std::size_t key) const noexcept;

    // Indexes every entry under its primary key (once, after the last entry).
    void build_index();
    // The first entry indexed under (key, value), or k_no_entry; the next
    // ones follow through `next`.
    std::uint32_t first_indexed(std::size_t key, std::string_view value) const noexcept;

    // The expanded form of entry `index`.
    UserEntry expand(std::size_t index) const;
};

} // namespace certauth::policy
