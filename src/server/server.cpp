// The server's frame: worker threads and their io_contexts, the listeners
// (one per address, or one per address and thread with SO_REUSEPORT), the
// signals (SIGHUP reload, SIGUSR1 access log reopened, SIGTERM/SIGINT
// graceful stop) and the status listener (--status) on the thread that
// calls run(), and the start-up, reload and stop lines on stderr.
#include <certauth/server/server.hpp>

#include "connection_set.hpp"
#include "diagnostic.hpp"
#include "server_context.hpp"
#include "status_report.hpp"
#include "status_server.hpp"
#include "thread_buffers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <thread>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace certauth::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
using Acceptor = asio::basic_socket_acceptor<tcp, asio::io_context::executor_type>;
using unix_socket = asio::local::stream_protocol;
using UnixAcceptor = asio::basic_socket_acceptor<unix_socket, asio::io_context::executor_type>;

using detail::diagnostic;

// The connection as the session takes it: a TCP socket as accepted; a unix
// socket's descriptor in a Socket (the session only waits, reads and writes).
detail::Socket session_socket(asio::io_context&, detail::Socket&& socket) { return std::move(socket); }

detail::Socket session_socket(asio::io_context& io,
                              asio::basic_stream_socket<unix_socket, asio::io_context::executor_type>&& socket) {
    detail::Socket out(io);
    error_code ec;
    const int fd = socket.release(ec);
    if (!ec) out.assign(tcp::v4(), fd, ec);
    if (ec && fd >= 0) ::close(fd);
    return out;
}

// Listeners of any kind: the common interface of BasicListener.
class Listener {
  public:
    virtual ~Listener() = default;
    virtual void start() = 0;
    virtual void stop() = 0;

  protected:
    Listener() = default;
    Listener(const Listener&) = default;
    Listener& operator=(const Listener&) = default;
};

// Accepts connections on one acceptor; its sessions run on the same worker
// thread (`io`), owned by its `connections`.
template <class Protocol>
class BasicListener final : public Listener, public std::enable_shared_from_this<BasicListener<Protocol>> {
  public:
    using Acceptor = asio::basic_socket_acceptor<Protocol, asio::io_context::executor_type>;
    using AcceptedSocket = asio::basic_stream_socket<Protocol, asio::io_context::executor_type>;
    BasicListener(asio::io_context& io, Acceptor acceptor, detail::ServerContext& context, detail::WorkerLocal& local,
                  detail::ConnectionSet& connections, detail::Listening listening)
        : m_io(io), m_acceptor(std::move(acceptor)), m_context(context), m_local(local), m_connections(connections),
          m_retry(io), m_listening(listening) {}

    void start() override {
        asio::post(m_acceptor.get_executor(), [self = this->shared_from_this()] { self->do_accept(); });
    }
    void stop() override {
        asio::post(m_acceptor.get_executor(), [self = this->shared_from_this()] {
            error_code ignored;
            self->m_acceptor.close(ignored);
            self->m_retry.cancel();
        });
    }

  private:
    void do_accept() noexcept {
        if (!m_acceptor.is_open()) return;
        try {
            auto handler = [self = this->shared_from_this()](error_code ec, AcceptedSocket socket) {
                self->on_accept(ec, std::move(socket));
            };
            m_acceptor.async_accept(m_io, std::move(handler));
        } catch (const std::exception& e) {
            retry_later(std::string("accept: ") + e.what());
        }
    }

    // Accepting resumes after a pause (out of file descriptors or memory)
    // instead of spinning or stopping for good.
    void retry_later(const std::string& why) noexcept {
        if (!m_warned) diagnostic("warning: " + why + " (retrying)");
        m_warned = true;
        try {
            m_retry.expires_after(std::chrono::milliseconds(100));
            m_retry.async_wait([self = this->shared_from_this()](error_code e) {
                if (!e) self->do_accept();
            });
        } catch (const std::exception& e) {
            diagnostic(std::string("error: cannot accept connections any more: ") + e.what());
        }
    }

    void on_accept(error_code ec, AcceptedSocket socket) {
        if (ec == asio::error::operation_aborted || !m_acceptor.is_open()) return;
        if (ec) {
            if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory)
                return retry_later("accept: " + ec.message());
            return do_accept(); // e.g. a connection aborted before accept: next
        }
        m_warned = false;
        // Accepting goes on whatever happens to this connection (the wait
        // is registered now and runs later, on this thread).
        do_accept();
        const std::size_t before = m_context.connections.fetch_add(1, std::memory_order_acq_rel);
        const bool stopping = m_context.stopping.load(std::memory_order_acquire);
        if (before >= m_context.limits.max_connections || stopping) {
            m_context.connection_closed();
            error_code ignored;
            socket.close(ignored); // over --max-connections: refused at accept
            if (m_context.count_metrics)
                m_local.metrics.refused(stopping ? detail::RefusedConnection::stopping
                                                 : detail::RefusedConnection::max_connections);
            return;
        }
        if (m_context.count_metrics) m_local.metrics.accepted();
        detail::Socket session = session_socket(m_io, std::move(socket));
        error_code ignored;
        if (m_listening != detail::Listening::trusted_unix) session.set_option(tcp::no_delay(true), ignored);
        detail::start_session(std::move(session), m_context, m_local, m_connections, m_listening);
    }

    asio::io_context& m_io;
    Acceptor m_acceptor;
    detail::ServerContext& m_context;
    detail::WorkerLocal& m_local;
    detail::ConnectionSet& m_connections;
    asio::steady_timer m_retry;
    detail::Listening m_listening;
    bool m_warned = false;
};

// Raises the open-file limit to what `connections` clients need, as far as
// the hard limit allows: `each` descriptors per connection (two when
// forwarding: the client's and the application's) and 64 for the listeners
// and the files.
void raise_file_limit(std::size_t connections, std::size_t each) {
    constexpr std::size_t k_other_descriptors = 64;
    const std::size_t wanted = connections * each + k_other_descriptors;
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur >= wanted) return;
    rlimit raised = limit;
    raised.rlim_cur = std::min<rlim_t>(limit.rlim_max, wanted);
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) raised = limit;
    if (raised.rlim_cur < wanted)
        diagnostic("warning: the open-file limit (" + std::to_string(raised.rlim_cur) + ") is too low for " +
                   std::to_string(connections) + " connections, the most allowed (they need " + std::to_string(wanted) +
                   " descriptors: " + std::to_string(each) +
                   " each and 64 more); raise it (ulimit -n) to serve that many clients");
}

// How often a worker drops its connections past their deadline: a timeout
// closes a connection at most this much late.
constexpr std::chrono::milliseconds k_sweep_interval{250};

// One worker thread: its event loop, its listeners (SO_REUSEPORT: the kernel
// spreads connections), and the connections it serves, all of whose I/O
// stays on this thread (hence Asio's reactor without I/O locking).
struct Worker {
    explicit Worker(detail::ServerContext& server) : context(server) {}
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    detail::ServerContext& context;
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    detail::WorkerLocal local{io};
    // Declared after `io` and `local`: the connections left when the thread
    // stopped go first (they refer to both).
    detail::ConnectionSet connections;
    asio::steady_timer sweep_timer{io};

    // Every k_sweep_interval: connections past their deadline end, tunnels
    // see a reload, idle connections to the application past their timeout close.
    void sweep() {
        sweep_timer.expires_after(k_sweep_interval);
        sweep_timer.async_wait([this](error_code ec) {
            if (ec) return;
            const auto now = std::chrono::steady_clock::now();
            connections.sweep(now, context.states.generation());
            if (context.forwarding) local.pool.prune(now, context.forwarding->options.idle_timeout);
            sweep();
        });
    }
};

} // namespace

std::string BoundAddress::url() const {
    if (!unix_path.empty()) return "unix:" + unix_path;
    const bool v6 = host.find(':') != std::string::npos;
    return (trusted ? "http://" : "https://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

struct Server::Impl final : private detail::StatusPages {
    Impl(ServerOptions opts, std::shared_ptr<const State> initial, std::optional<detail::ForwardingConfig> forwarding,
         AccessLog access_log)
        : options(std::move(opts)), holder(std::move(initial)), log(std::move(access_log)),
          context(holder, options.limits, log, options.fault_injection, std::move(forwarding), options.trusted),
          signals(control) {
        threads = options.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : options.threads;
        context.count_metrics = options.status.has_value();
        for (std::size_t i = 0; i < threads; ++i) {
            workers.push_back(std::make_unique<Worker>(context));
            worker_metrics.push_back(&workers.back()->local.metrics);
        }
        reloads.loaded = started;
    }

    ~Impl() {
        for (const std::string& path : unix_paths)
            ::unlink(path.c_str());
    }

    Result<void> bind() {
        for (const ListenAddress& listen : options.listen)
            if (auto bound = bind_tcp(listen, detail::Listening::tls); !bound) return bound;
        if (options.trusted)
            for (const ListenAddress& listen : options.trusted->listen) {
                auto bound = listen.unix_path.empty() ? bind_tcp(listen, detail::Listening::trusted)
                                                      : bind_unix(listen.unix_path);
                if (!bound) return bound;
            }
        if (options.status) {
            auto bound = detail::StatusServer::bind(control, *options.status, *this);
            if (!bound) return bound.error();
            status_listener = std::move(*bound);
        }
        return {};
    }

    // A unix socket: one listening socket, a descriptor of it per worker (the
    // kernel hands each connection to one of them). A socket file left by a
    // server that is gone is replaced; one in use is an error.
    Result<void> bind_unix(const std::string& path) {
        const std::string text = "cannot listen on unix:" + path;
        if (path.size() >= sizeof(sockaddr_un::sun_path))
            return Error{text + ": the path is longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                         " bytes"};
        struct stat status {};
        if (::lstat(path.c_str(), &status) == 0) {
            if (!S_ISSOCK(status.st_mode)) return Error{text + ": the file exists and is not a socket"};
            unix_socket::socket probe(control);
            error_code ec;
            probe.connect(unix_socket::endpoint(path), ec);
            if (!ec) return Error{text + ": another server is listening on it"};
            ::unlink(path.c_str());
        }
        UnixAcceptor first(workers.front()->io);
        error_code ec;
        first.open(unix_socket(), ec);
        if (!ec) first.bind(unix_socket::endpoint(path), ec);
        if (!ec) first.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return Error{text + ": " + ec.message()};
        unix_paths.push_back(path);
        for (auto& worker : workers) {
            const int fd = ::dup(first.native_handle());
            UnixAcceptor acceptor(worker->io);
            if (fd < 0) return Error{text + ": " + std::strerror(errno)};
            acceptor.assign(unix_socket(), fd, ec);
            if (ec) {
                ::close(fd);
                return Error{text + ": " + ec.message()};
            }
            listeners.push_back(std::make_shared<BasicListener<unix_socket>>(worker->io, std::move(acceptor), context,
                                                                             worker->local, worker->connections,
                                                                             detail::Listening::trusted_unix));
        }
        BoundAddress b;
        b.trusted = true;
        b.unix_path = path;
        addresses.push_back(std::move(b));
        return {};
    }

    Result<void> bind_tcp(const ListenAddress& listen, detail::Listening listening) {
        tcp::resolver resolver(control);
        const std::string text = listen.text.empty() ? listen.host + ":" + std::to_string(listen.port) : listen.text;
        error_code ec;
        std::vector<tcp::endpoint> endpoints;
        if (listen.host == "localhost") {
            // Every loopback address the name stands for (RFC 6761), as
            // nginx listens on each address a name resolves to; /etc/hosts
            // may list only one of them.
            endpoints.emplace_back(asio::ip::make_address("127.0.0.1"), listen.port);
            endpoints.emplace_back(asio::ip::make_address("::1"), listen.port);
        } else {
            const auto results = resolver.resolve(listen.host, std::to_string(listen.port),
                                                  tcp::resolver::numeric_service | tcp::resolver::passive, ec);
            if (ec || results.empty())
                return Error{"cannot listen on " + text + ": " + (ec ? ec.message() : "no address")};
            for (const auto& entry : results)
                endpoints.push_back(entry.endpoint());
        }
        // Port 0: the port the first address got, for every address of the name.
        unsigned short chosen = listen.port;
        for (tcp::endpoint endpoint : endpoints) {
            if (chosen != 0) endpoint.port(chosen);
            // Bind once without SO_REUSEPORT: fails when anything holds
            // the port (even another server using SO_REUSEPORT), and
            // gives the real port for port 0.
            tcp::acceptor first(workers.front()->io);
            first.open(endpoint.protocol(), ec);
            if (!ec && endpoint.address().is_v6()) first.set_option(asio::ip::v6_only(true), ec);
            if (!ec) first.set_option(tcp::acceptor::reuse_address(true), ec);
            if (!ec) first.bind(endpoint, ec);
            if (ec)
                return Error{"cannot listen on " + text + " (" + endpoint.address().to_string() + "): " + ec.message()};
            const unsigned short port = first.local_endpoint().port();
            chosen = port;
            const tcp::endpoint bound(endpoint.address(), port);
            first.close();
            for (auto& worker : workers) {
                Acceptor acceptor(worker->io);
                acceptor.open(bound.protocol(), ec);
                if (!ec && bound.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
                if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
                if (!ec) acceptor.set_option(reuse_port(true), ec);
                if (!ec) acceptor.bind(bound, ec);
                if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
                if (ec) return Error{"cannot listen on " + text + ": " + ec.message()};
                listeners.push_back(std::make_shared<BasicListener<tcp>>(
                    worker->io, std::move(acceptor), context, worker->local, worker->connections, listening));
            }
            BoundAddress b;
            b.host = bound.address().to_string();
            b.port = port;
            b.trusted = listening == detail::Listening::trusted;
            addresses.push_back(std::move(b));
        }
        return {};
    }

    // --- the status listener's pages (on this thread: the control thread) -----

    detail::StatusView view(const State& state) const {
        return detail::StatusView{state,
                                  worker_metrics,
                                  context.connections.load(std::memory_order_acquire),
                                  reloads,
                                  options.build,
                                  options.upstream ? &*options.upstream : nullptr,
                                  options.tls.client_cert == ClientCertMode::require,
                                  context.stopping.load(std::memory_order_acquire),
                                  addresses,
                                  started,
                                  std::chrono::system_clock::now(),
                                  options.status_sources};
    }
    std::string metrics() override { return detail::metrics_text(view(*holder.current())); }
    std::string status() override { return detail::status_json(view(*holder.current())); }
    bool serving() override { return !context.stopping.load(std::memory_order_acquire); }

    void announce() {
        const auto state = holder.current();
        diagnostic("configuration: " +
                   (options.config_file.empty() ? std::string("none (command line only)") : options.config_file));
        diagnostic("loaded (generation " + std::to_string(state->generation) + "): " + state->summary);
        for (const std::string& warning : state->warnings)
            diagnostic("warning: " + warning);
        const std::string thread_count =
            std::to_string(threads) + (threads == 1 ? " thread" : " threads") + " (one event loop each, SO_REUSEPORT)";
        if (!options.listen.empty())
            diagnostic(std::string("client certificates ") +
                       (options.tls.client_cert == ClientCertMode::require ? "required at the handshake"
                                                                           : "requested; denials answered 401/403") +
                       "; " + thread_count);
        if (const auto& trusted = options.trusted) {
            diagnostic("trusted proxies send the client certificate in " + trusted->header.name +
                       (trusted->header.format == HeaderFormat::rfc9440 ? " and " + trusted->header.chain_name()
                                                                        : std::string()) +
                       " (" + std::string(to_string(trusted->header.format)) + "); routes from " +
                       (trusted->original_uri.empty() || context.forwarding ? std::string("the request target")
                                                                            : trusted->original_uri) +
                       "; TCP peers allowed: " + ranges_text(trusted->proxies) +
                       (options.listen.empty() ? "; " + thread_count : std::string()));
        }
        if (context.forwarding) {
            std::string to;
            for (const client::UpstreamAddress& address : context.forwarding->addresses)
                to += (to.empty() ? "" : ", ") + address.text;
            diagnostic("forwarding authorised requests to " + context.forwarding->options.target.text + " (" + to +
                       "); denials are answered here");
        }
        for (const BoundAddress& address : addresses)
            diagnostic("listening on " + address.url());
        if (status_listener) diagnostic("status on " + status_listener->url() + " (/metrics, /status, /healthz)");
        if (!log.path().empty()) diagnostic("access log: " + log.path() + " (reopened on SIGUSR1)");
    }

    void do_reload() {
        const std::uint64_t current = holder.generation();
        const auto now = std::chrono::system_clock::now();
        auto inputs = options.loader();
        if (!inputs) return reload_failed(now, described(inputs.error()));
        auto next = build_state(std::move(*inputs), options.tls, current + 1, now);
        if (!next) return reload_failed(now, described(next.error()));
        holder.publish(*next);
        reloads.success(now);
        diagnostic("reloaded (generation " + std::to_string((*next)->generation) + "): " + (*next)->summary);
        for (const std::string& warning : (*next)->warnings)
            diagnostic("warning: " + warning);
    }

    std::string described(const Error& error) const {
        return options.describe_error ? options.describe_error(error) : error.message;
    }

    void reload_failed(std::chrono::system_clock::time_point at, const std::string& why) {
        reloads.failure(at, why);
        diagnostic("reload failed, keeping generation " + std::to_string(holder.generation()) + ": " + why);
    }

    // SIGUSR1: the access log file is opened again by its name (logrotate
    // moved the old one away).
    void reopen_access_log() {
        const auto reopened = log.reopen();
        if (!reopened)
            diagnostic("warning: " + reopened.error().message + " (still writing to the old file)");
        else if (*reopened)
            diagnostic("access log reopened: " + log.path());
    }

    void wait_signal() {
        signals.async_wait([this](error_code ec, int signal) {
            if (ec) return;
            if (signal == SIGHUP) {
                // Loading reports its errors as values; an exception here
                // (out of memory) still must not end the signal handling.
                try {
                    do_reload();
                } catch (const std::exception& e) {
                    reload_failed(std::chrono::system_clock::now(), e.what());
                }
                wait_signal();
            } else if (signal == SIGUSR1) {
                reopen_access_log();
                wait_signal();
            } else {
                context.stopping.store(true, std::memory_order_release);
                diagnostic(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
                do_stop();
            }
        });
    }

    void do_stop() {
        if (stopped) return;
        stopped = true;
        context.stopping.store(true, std::memory_order_release);
        for (auto& listener : listeners)
            listener->stop();
        for (auto& worker : workers)
            asio::post(worker->io, [w = worker.get()] { w->connections.stop_gracefully(); });
        // Finish in-flight requests within the shutdown timeout.
        std::size_t left = 0;
        {
            std::unique_lock lock(context.drain_mutex);
            context.drained.wait_for(lock, options.limits.shutdown_timeout,
                                     [&] { return context.connections.load(std::memory_order_acquire) == 0; });
            left = context.connections.load(std::memory_order_acquire);
        }
        if (left > 0)
            diagnostic("shutdown timeout: closing " + std::to_string(left) +
                       (left == 1 ? " connection" : " connections") + " still open");
        for (auto& worker : workers)
            worker->io.stop();
        join();
        signals.cancel();
        if (status_listener) status_listener->stop();
        control.stop();
        diagnostic("stopped");
    }

    void join() {
        for (auto& thread : threads_running)
            if (thread.joinable()) thread.join();
        threads_running.clear();
    }

    int run() {
        std::signal(SIGPIPE, SIG_IGN);
        signals.add(SIGHUP);
        signals.add(SIGUSR1);
        signals.add(SIGTERM);
        signals.add(SIGINT);
        wait_signal();
        for (auto& listener : listeners)
            listener->start();
        if (status_listener) status_listener->start();
        for (auto& worker : workers) {
            worker->sweep();
            asio::io_context& io = worker->io;
            threads_running.emplace_back([&io] {
                for (;;) {
                    try {
                        io.run();
                        return;
                    } catch (const std::exception& e) {
                        diagnostic(std::string("error in a connection: ") + e.what());
                    }
                }
            });
        }
        announce();
        for (;;) {
            try {
                control.run();
                break;
            } catch (const std::exception& e) {
                diagnostic(std::string("error: ") + e.what());
            }
        }
        join();
        return 0;
    }

    ServerOptions options;
    StateHolder holder;
    AccessLog log;
    detail::ServerContext context;
    unsigned threads = 1;
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
    detail::ReloadHistory reloads; // kept and read on the control thread
    asio::io_context control{1};
    asio::signal_set signals;
    std::unique_ptr<detail::StatusServer> status_listener; // --status; declared after `control`: goes first
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<const detail::WorkerMetrics*> worker_metrics; // the workers', for the status listener
    std::vector<std::shared_ptr<Listener>> listeners;
    std::vector<BoundAddress> addresses;
    std::vector<std::string> unix_paths; // socket files made here, removed at the end
    std::vector<std::thread> threads_running;
    bool stopped = false;
};

Server::Server(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Server::~Server() {
    if (m_impl) {
        for (auto& worker : m_impl->workers)
            worker->io.stop();
        m_impl->join();
    }
}

Result<std::unique_ptr<Server>> Server::create(ServerOptions options) {
    if (!options.loader) return Error{"no configuration loader"};
    if (options.listen.empty() && (!options.trusted || options.trusted->listen.empty()))
        return Error{"no address to listen on"};
    if (!options.listen.empty() && (options.tls.cert_file.empty() || options.tls.key_file.empty()))
        return Error{"a TLS listener needs the server certificate and key"};
    auto inputs = options.loader();
    if (!inputs) return inputs.error();
    auto state = build_state(std::move(*inputs), options.tls, 1, std::chrono::system_clock::now());
    if (!state) return state.error();
    std::optional<detail::ForwardingConfig> forwarding;
    if (options.upstream) {
        auto addresses = client::resolve_upstream(options.upstream->target);
        if (!addresses) return addresses.error();
        forwarding = detail::ForwardingConfig{*options.upstream, std::move(*addresses), options.limits, {}};
        if (options.trusted) {
            forwarding->dropped_headers.push_back(options.trusted->header.name);
            if (const std::string chain = options.trusted->header.chain_name(); !chain.empty())
                forwarding->dropped_headers.push_back(chain);
            // Forwarding routes the target it forwards: a client's own
            // original-URI header would only mislead the application.
            if (!options.trusted->original_uri.empty())
                forwarding->dropped_headers.push_back(options.trusted->original_uri);
        }
    }
    auto log = options.access_log_file.empty() || options.log_format == LogFormat::none
                   ? Result<AccessLog>(AccessLog(options.log_format))
                   : AccessLog::open(options.log_format, options.access_log_file);
    if (!log) return log.error();
    raise_file_limit(options.limits.max_connections, options.upstream ? 2 : 1);
    auto impl = std::make_unique<Impl>(std::move(options), std::move(*state), std::move(forwarding), std::move(*log));
    if (auto bound = impl->bind(); !bound) return bound.error();
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

const std::vector<BoundAddress>& Server::addresses() const noexcept { return m_impl->addresses; }

std::size_t Server::open_connections() const noexcept {
    return m_impl->context.connections.load(std::memory_order_acquire);
}

std::string Server::status_url() const {
    return m_impl->status_listener ? m_impl->status_listener->url() : std::string();
}

int Server::run() { return m_impl->run(); }

void Server::reload() {
    asio::post(m_impl->control, [impl = m_impl.get()] { impl->do_reload(); });
}

void Server::stop() {
    asio::post(m_impl->control, [impl = m_impl.get()] { impl->do_stop(); });
}

} // namespace certauth::server
