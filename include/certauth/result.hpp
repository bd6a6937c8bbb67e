#pragma once
// Result<T>: a value or an Error carrying a message for a person, spelled like
// std::expected (which needs -std=c++2b on g++ 12). Expected failures - a bad
// file, bad PEM, bad JSON, an OpenSSL set-up error - travel as Result; the
// message already holds its context ("users.json:12:7: users[3].cn: ...").
//
// An error about one of the caller's settings names it in `setting`, by the
// name the library's options give it (ClientTlsOptions::cacert is "cacert"),
// and its message says what is wrong without saying how the setting was
// given. The caller adds that: the CLI names the flag (src/cli/setting_flag.cpp),
// a scenario file the case's key (src/client/scenario_runner.cpp).

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace certauth {

struct Error {
    std::string message;
    std::string setting = {}; // "" when the error concerns no one setting
};

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_state(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const noexcept { return m_state.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { return checked(); }
    const T& value() const& { return const_cast<Result*>(this)->checked(); }
    T&& value() && { return std::move(checked()); }
    T& operator*() & { return checked(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &checked(); }
    const T* operator->() const { return &value(); }

    const Error& error() const {
        if (has_value()) throw std::logic_error("Result::error() on a value");
        return std::get<1>(m_state);
    }

  private:
    T& checked() {
        if (!has_value()) throw std::logic_error("Result::value() on an error: " + std::get<1>(m_state).message);
        return std::get<0>(m_state);
    }
    std::variant<T, Error> m_state;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_failed(true) {}

    bool has_value() const noexcept { return !m_failed; }
    explicit operator bool() const noexcept { return has_value(); }
    const Error& error() const {
        if (!m_failed) throw std::logic_error("Result::error() on a value");
        return m_error;
    }

  private:
    Error m_error;
    bool m_failed = false;
};

} // namespace certauth
