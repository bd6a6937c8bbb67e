#include "support/in_process_server.hpp"

#include "support/catch.hpp"
#include "support/files.hpp"

#include <certauth/policy/user_list.hpp>
#include <certauth/x509/trust_store.hpp>

namespace certauth::test {

server::StateLoader fixture_loader(const std::string& users) {
    return [users]() -> Result<server::StateInputs> {
        x509::TrustConfig trust;
        trust.ca_files = {fixture("ca.crt")};
        trust.crl_files = {fixture("ca.crl")};
        auto store = x509::TrustStore::load(trust);
        if (!store) return store.error();
        auto list = policy::UserList::load(users);
        if (!list) return list.error();
        return server::StateInputs{std::move(*store), std::move(*list)};
    };
}

InProcessServer::InProcessServer(const std::function<void(server::ServerOptions&)>& configure) {
    server::ServerOptions options;
    options.listen = {server::ListenAddress{"127.0.0.1", 0, "127.0.0.1:0", {}}};
    options.tls.cert_file = fixture("server.crt");
    options.tls.key_file = fixture("server.key");
    options.threads = 1;
    options.log_format = server::LogFormat::none;
    options.loader = fixture_loader(fixture("users.json"));
    if (configure) configure(options);
    auto created = server::Server::create(std::move(options));
    INFO((created ? std::string() : created.error().message));
    REQUIRE(created);
    m_server = std::move(*created);
    m_thread = std::thread([server = m_server.get()] { server->run(); });
}

InProcessServer::~InProcessServer() {
    m_server->stop();
    if (m_thread.joinable()) m_thread.join();
}

unsigned short InProcessServer::port() const { return m_server->addresses().front().port; }

} // namespace certauth::test
