#pragma once
// tests/e2e/apps/echo_app.py as a child process: the application behind
// `certauth serve --upstream` in the forwarding tests. It answers what
// reached it (method, path, headers, body size and SHA-256), and counts the
// requests it saw.

#include "support/process.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace certauth::test {

class EchoApp {
  public:
    // `extra`: more arguments (--user-body, --unix PATH).
    explicit EchoApp(const std::vector<std::string>& extra = {});
    bool started() const noexcept { return !m_address.empty(); }
    // "http://127.0.0.1:PORT" or "unix:/path": what --upstream takes.
    const std::string& upstream() const noexcept { return m_address; }
    unsigned short port() const noexcept { return m_port; }
    // How many requests the application has seen (asking is not one); -1,
    // and a failed CHECK, when curl did not get the count whole.
    int requests_seen() const;

  private:
    std::unique_ptr<ChildProcess> m_process;
    std::string m_address;
    unsigned short m_port = 0;
};

// curl against certauth on 127.0.0.1:port with a fixture client ("" for
// none): `args` go before the URL (https://localhost:PORT + path).
ProcessResult curl(unsigned short port, const std::string& client, const std::string& path,
                   const std::vector<std::string>& args = {});

} // namespace certauth::test
