#pragma once
// Private to src/server: the status listener (--status) - plain HTTP/1.1 on
// a loopback address or a unix socket, apart from the clients' listeners,
// serving /metrics, /status and /healthz (GET and HEAD) from what
// StatusPages makes of the server. It runs on the io_context it is given
// (the server's control thread, which also handles the signals), with a
// read timeout and a bound on its own connections. Asio and Beast stay in
// status_server.cpp.

#include <certauth/result.hpp>
#include <certauth/server/server.hpp>

#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace certauth::server::detail {

class StatusPages {
  public:
    virtual std::string metrics() = 0; // Prometheus's text format
    virtual std::string status() = 0;  // JSON
    virtual bool serving() = 0;        // false once the server is stopping: /healthz answers 503

  protected:
    StatusPages() = default;
    ~StatusPages() = default;
    StatusPages(const StatusPages&) = default;
    StatusPages& operator=(const StatusPages&) = default;
};

class StatusServer {
  public:
    // Binds `address` (a unix socket file left by a process that is gone is
    // replaced; one in use is an error). `pages` must outlive the server.
    static Result<std::unique_ptr<StatusServer>> bind(boost::asio::io_context& io, const StatusAddress& address,
                                                      StatusPages& pages);
    ~StatusServer();
    StatusServer(const StatusServer&) = delete;
    StatusServer& operator=(const StatusServer&) = delete;

    void start();
    // Closes the listener and its connections, and removes its socket file.
    void stop();
    // "http://127.0.0.1:9090", "http://[::1]:9090", "unix:/run/certauth/status.sock".
    const std::string& url() const noexcept;

    struct Impl;

  private:
    explicit StatusServer(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> m;
};

} // namespace certauth::server::detail
