#pragma once
// A certauth server inside the test process: server::Server on 127.0.0.1:0
// with the fixtures' CA, CRL and users (the demo configuration), run on a
// thread of its own and stopped when the object goes. What a test needs to
// see that a child process does not show: the server's own counters, and
// hooks such as ServerOptions::fault_injection.

#include <certauth/server/server.hpp>

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace certauth::test {

// What the server loads at start-up and at each reload: the fixtures' CA
// and CRL, and the user list in `users`.
server::StateLoader fixture_loader(const std::string& users);

class InProcessServer {
  public:
    // `configure` may change the options before the server is created
    // (threads, limits, hooks); REQUIREs that the server starts.
    explicit InProcessServer(const std::function<void(server::ServerOptions&)>& configure = {});
    ~InProcessServer();
    InProcessServer(const InProcessServer&) = delete;
    InProcessServer& operator=(const InProcessServer&) = delete;

    unsigned short port() const;
    server::Server& server() { return *m_server; }

  private:
    std::unique_ptr<server::Server> m_server;
    std::thread m_thread;
};

} // namespace certauth::test
