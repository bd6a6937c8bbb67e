#pragma once
// TLS servers the client tests talk to: `openssl s_server` and a small
// Python HTTPS server with keep-alive, each on an ephemeral port of
// 127.0.0.1, started with a bounded wait for readiness and stopped when the
// object goes (ChildProcess).

#include "support/process.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace certauth::test {

// A port nothing listens on right now (bound to 127.0.0.1:0, then closed).
std::uint16_t free_port();

// A listening socket that never accepts or answers (its backlog holds the
// connections): for timeouts, and to see that nobody connected.
class SilentListener {
  public:
    SilentListener();
    ~SilentListener();
    SilentListener(const SilentListener&) = delete;
    SilentListener& operator=(const SilentListener&) = delete;
    std::uint16_t port() const { return m_port; }
    // True when a connection is waiting in the backlog.
    bool has_pending_connection() const;

  private:
    int m_fd = -1;
    std::uint16_t m_port = 0;
};

struct TestServer {
    std::unique_ptr<ChildProcess> process;
    std::uint16_t port = 0;
    std::string url(const std::string& path = "/") const { return "https://localhost:" + std::to_string(port) + path; }
};

// openssl s_server -www on 127.0.0.1 with fixtures/server.crt; `extra` adds
// options (-verify 1 -CAfile ..., -Verify 1, -tls1_2, ...). REQUIREs that it
// started.
TestServer start_s_server(const std::vector<std::string>& extra = {}, const std::string& cert = "fixtures/server.crt",
                          const std::string& key = "fixtures/server.key");

// A Python HTTPS server (HTTP/1.1 keep-alive) on 127.0.0.1: 200
// {"cn":"<client CN>"} with a client certificate from fixtures/ca.crt, else
// 401 {"error":"unauthorized","reason":"no_certificate"}; /close answers
// with Connection: close.
TestServer start_python_server();

} // namespace certauth::test
