#include "user_storage.hpp"

#include <bit>
#include <functional>
#include <utility>

namespace certauth::policy {
namespace {

// Where (key, value) is indexed: std::hash of the value mixed with the key.
std::uint64_t index_hash(std::size_t key, std::string_view value) noexcept {
    std::uint64_t h = std::hash<std::string_view>{}(value);
    h ^= (key + 1) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return h;
}

std::uint32_t high_half(std::uint64_t hash) noexcept { return static_cast<std::uint32_t>(hash >> 32); }

} // namespace

ObjectCache::ObjectCache(std::size_t slots)
    : m_slots(std::make_unique<std::atomic<const Object*>[]>(slots)), m_size(slots) {}

ObjectCache::~ObjectCache() { clear(); }

ObjectCache& ObjectCache::operator=(ObjectCache&& other) noexcept {
    if (this != &other) {
        clear();
        m_slots = std::move(other.m_slots);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

void ObjectCache::clear() noexcept {
    for (std::size_t i = 0; i < m_size; ++i) {
        const std::unique_ptr<const Object> kept(m_slots[i].exchange(nullptr));
    }
    m_slots.reset();
    m_size = 0;
}

std::shared_ptr<const nlohmann::json> ObjectCache::publish(std::size_t slot, Object made) const {
    auto owned = std::make_unique<const Object>(std::move(made));
    const Object* expected = nullptr;
    if (m_slots[slot].compare_exchange_strong(expected, owned.get(), std::memory_order_acq_rel,
                                              std::memory_order_acquire))
        return *owned.release(); // the slot owns it now
    return *expected;            // another thread was first: theirs is the one kept
}

std::string_view UserStorage::value(const StoredEntry& entry, std::size_t key) const noexcept {
    const unsigned before = std::popcount(static_cast<unsigned>(entry.keys) & ((1U << key) - 1U));
    return view(values[entry.first_value + before]);
}

void UserStorage::build_index() {
    const std::size_t count = entries.size();
    std::size_t capacity = 16;
    while (capacity < 2 * count)
        capacity *= 2;
    const std::size_t mask = capacity - 1;
    slots.assign(capacity, Slot{});
    next.assign(count, k_no_entry);
    std::vector<std::uint32_t> tail(capacity, k_no_entry); // the last entry of each slot's chain
    for (std::size_t i = 0; i < count; ++i) {
        const StoredEntry& entry = entries[i];
        const std::size_t key = entry.primary;
        indexed_keys = static_cast<std::uint16_t>(indexed_keys | (1U << key));
        const std::string_view wanted = value(entry, key);
        const std::uint64_t hash = index_hash(key, wanted);
        std::size_t pos = hash & mask;
        for (;; pos = (pos + 1) & mask) {
            Slot& slot = slots[pos];
            if (slot.entry == k_no_entry) {
                slot = Slot{high_half(hash), static_cast<std::uint32_t>(i)};
                break;
            }
            const StoredEntry& head = entries[slot.entry];
            if (slot.hash == high_half(hash) && head.primary == key && value(head, key) == wanted) {
                next[tail[pos]] = static_cast<std::uint32_t>(i);
                break;
            }
        }
        tail[pos] = static_cast<std::uint32_t>(i);
    }
    objects = ObjectCache(count);
}

std::uint32_t UserStorage::first_indexed(std::size_t key, std::string_view wanted) const noexcept {
    if (slots.empty() || ((indexed_keys >> key) & 1U) == 0) return k_no_entry;
    const std::size_t mask = slots.size() - 1;
    const std::uint64_t hash = index_hash(key, wanted);
    for (std::size_t pos = hash & mask;; pos = (pos + 1) & mask) {
        const Slot& slot = slots[pos];
        if (slot.entry == k_no_entry) return k_no_entry;
        if (slot.hash != high_half(hash)) continue;
        const StoredEntry& head = entries[slot.entry];
        if (head.primary == key && value(head, key) == wanted) return slot.entry;
    }
}

UserEntry UserStorage::expand(std::size_t index) const {
    const StoredEntry& stored = entries[index];
    UserEntry entry;
    for (MatchKey key : k_match_keys)
        if (has(stored, index_of(key))) entry.value(key) = std::string(value(stored, index_of(key)));
    if (stored.attributes.size > 0) entry.attributes = nlohmann::json::parse(view(stored.attributes));
    entry.json_path = "users[" + std::to_string(index) + "]";
    return entry;
}

} // namespace certauth::policy
