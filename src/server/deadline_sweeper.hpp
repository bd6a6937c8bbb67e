#pragma once
// Private to src/server: coarse deadlines for the connections of one worker
// thread. Each connection stores its deadline (a steady-clock time, set per
// phase with one store, no timer); one periodic timer per thread calls
// sweep(), which expires every connection past its deadline. A connection
// is therefore dropped at most one sweep interval after its timeout, and a
// request costs no timer operation at all. Not thread-safe: the list and its
// connections belong to one thread (one io_context per thread).

#include <chrono>
#include <cstddef>

namespace certauth::server::detail {

using SteadyClock = std::chrono::steady_clock;

// A connection as the sweeper sees it: a deadline and a way to end it.
class Expirable {
  public:
    static constexpr SteadyClock::time_point k_never = SteadyClock::time_point::max();

    void set_deadline(SteadyClock::time_point deadline) noexcept { m_deadline = deadline; }
    void clear_deadline() noexcept { m_deadline = k_never; }
    SteadyClock::time_point deadline() const noexcept { return m_deadline; }

    // Its deadline passed (the deadline is already cleared): end the
    // connection. It may remove itself from the list (sweep() steps past a
    // node before calling it), not other nodes.
    virtual void expire() noexcept = 0;

    Expirable(const Expirable&) = delete;
    Expirable& operator=(const Expirable&) = delete;

  protected:
    Expirable() = default;
    ~Expirable() = default;

  private:
    friend class DeadlineSweeper;
    Expirable* m_prev = nullptr;
    Expirable* m_next = nullptr;
    SteadyClock::time_point m_deadline = k_never;
};

// The connections of one thread, in an intrusive list (no allocation).
class DeadlineSweeper {
  public:
    DeadlineSweeper() = default;
    DeadlineSweeper(const DeadlineSweeper&) = delete;
    DeadlineSweeper& operator=(const DeadlineSweeper&) = delete;

    void add(Expirable& node) noexcept {
        node.m_prev = nullptr;
        node.m_next = m_head;
        if (m_head) m_head->m_prev = &node;
        m_head = &node;
        ++m_size;
    }

    void remove(Expirable& node) noexcept {
        if (node.m_prev)
            node.m_prev->m_next = node.m_next;
        else if (m_head == &node)
            m_head = node.m_next;
        else
            return; // not in the list
        if (node.m_next) node.m_next->m_prev = node.m_prev;
        node.m_prev = node.m_next = nullptr;
        --m_size;
    }

    std::size_t size() const noexcept { return m_size; }
    bool empty() const noexcept { return m_size == 0; }

    // Expires every connection whose deadline is at or before `now`;
    // returns how many.
    std::size_t sweep(SteadyClock::time_point now) noexcept {
        std::size_t expired = 0;
        for (Expirable* node = m_head; node != nullptr;) {
            Expirable* next = node->m_next;
            if (node->m_deadline <= now) {
                node->m_deadline = Expirable::k_never;
                ++expired;
                node->expire();
            }
            node = next;
        }
        return expired;
    }

    // Calls f(node) for every connection (f may remove the node it is given).
    template <class F>
    void for_each(F&& f) {
        for (Expirable* node = m_head; node != nullptr;) {
            Expirable* next = node->m_next;
            f(*node);
            node = next;
        }
    }

  private:
    Expirable* m_head = nullptr;
    std::size_t m_size = 0;
};

} // namespace certauth::server::detail
