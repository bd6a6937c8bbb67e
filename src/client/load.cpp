// The load generator (certauth probe --load). The second of the client's two
// translation units with Asio and Beast. Callback style on purpose: one
// connection object per connection, reused for every request, with its
// buffers; one io_context per thread; no locks on the request path.
#include <certauth/client/load.hpp>

#include "client_tls.hpp"

#include <certauth/ascii.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace certauth::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t k_kinds = static_cast<std::size_t>(FailureKind::http_error) + 1;
constexpr std::size_t k_keep_body = 4096; // enough for certauth's JSON bodies; the rest is skipped

// A response parser that keeps the status and the start of the body in a
// buffer owned by the connection, and ignores every field: no allocation
// per response.
class LeanParser : public http::basic_parser<false> {
  public:
    explicit LeanParser(std::string& body) : m_body(body) { m_body.clear(); }
    int status() const noexcept { return m_status; }

  private:
    void on_request_impl(http::verb, beast::string_view, beast::string_view, int, beast::error_code&) override {}
    void on_response_impl(int code, beast::string_view, int, beast::error_code&) override { m_status = code; }
    void on_field_impl(http::field, beast::string_view, beast::string_view, beast::error_code&) override {}
    void on_header_impl(beast::error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {}
    std::size_t on_body_impl(beast::string_view data, beast::error_code&) override {
        keep(data);
        return data.size();
    }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view data, beast::error_code&) override {
        keep(data);
        return data.size();
    }
    void on_finish_impl(beast::error_code&) override {}

    void keep(beast::string_view data) {
        if (m_body.size() < k_keep_body) m_body.append(data.data(), std::min(data.size(), k_keep_body - m_body.size()));
    }

    std::string& m_body;
    int m_status = 0;
};

// Read-only while the load runs.
struct Plan {
    const ClientContext& context;
    ssl::context& tls;
    std::string request_bytes;
    tcp::endpoint endpoint;
    std::string target; // "127.0.0.1:3443", for messages
    std::string verify_name;
    bool head = false;
    ConnectionMode mode = ConnectionMode::keep_alive;
    bool resume = false;
    std::chrono::milliseconds timeout{10000};
};

struct alignas(64) Counters {
    std::atomic<std::uint64_t> done{0};
    std::atomic<std::uint64_t> errors{0};
};

struct ThreadStats {
    Histogram latency;
    std::array<std::uint64_t, 1000> status{};
    std::vector<std::pair<std::string, std::uint64_t>> reasons;
    std::array<ErrorCount, k_kinds> errors{};
    std::uint64_t responses = 0, handshakes = 0, resumed = 0, bytes = 0;

    void count_reason(std::string_view reason) {
        if (reason.empty()) return;
        for (auto& [name, count] : reasons)
            if (name == reason) {
                ++count;
                return;
            }
        reasons.emplace_back(std::string(reason), 1);
    }
};

class Worker;

class Connection {
  public:
    Connection(Worker& worker) : m_worker(worker) {}
    void next();
    void check_deadline(Clock::time_point now);

  private:
    void connect();
    void on_connect(const beast::error_code& ec);
    void on_handshake(const beast::error_code& ec);
    void write();
    void on_write(const beast::error_code& ec, std::size_t bytes);
    void read();
    void parse();
    void on_read(const beast::error_code& ec);
    void fail(const beast::error_code& ec, std::string_view during);
    void close();

    Worker& m_worker;
    std::optional<ssl::stream<tcp::socket>> m_stream;
    beast::flat_buffer m_buffer;
    std::string m_body;
    std::optional<LeanParser> m_parser;
    std::size_t m_written = 0; // bytes of the request sent
    std::size_t m_parsed = 0;  // bytes of the response parsed
    detail::HandshakeRecord m_record;
    x509::Ptr<SSL_SESSION> m_session;
    Clock::time_point m_started;
    bool m_busy = false;
    bool m_connected = false;
    bool m_reused = false;  // the connection has answered a request already
    bool m_retried = false; // this request was retried once on a fresh connection
    bool m_timed_out = false;
};

class Worker {
  public:
    Worker(const Plan& plan, unsigned connections, std::optional<std::uint64_t> quota, Clock::time_point stop_at)
        : m_plan(plan), m_quota(quota), m_stop_at(stop_at), m_watchdog(m_io) {
        for (unsigned i = 0; i < connections; ++i)
            m_connections.push_back(std::make_unique<Connection>(*this));
    }

    void run() {
        m_active = static_cast<unsigned>(m_connections.size());
        for (auto& connection : m_connections)
            connection->next();
        arm_watchdog();
        m_io.run();
    }

    bool take() {
        if (m_quota) {
            if (*m_quota == 0) return false;
            --*m_quota;
            return true;
        }
        return Clock::now() < m_stop_at;
    }

    void finished_connection() {
        if (--m_active == 0) m_watchdog.cancel();
    }

    void completed(bool error) {
        m_counters.done.fetch_add(1, std::memory_order_relaxed);
        if (error) m_counters.errors.fetch_add(1, std::memory_order_relaxed);
    }

    const Plan& plan() const { return m_plan; }
    asio::io_context& io() { return m_io; }
    ThreadStats& stats() { return m_stats; }
    Counters& counters() { return m_counters; }

  private:
    void arm_watchdog() {
        m_watchdog.expires_after(std::chrono::milliseconds(100));
        m_watchdog.async_wait([this](const beast::error_code& ec) {
            if (ec || m_active == 0) return;
            const Clock::time_point now = Clock::now();
            for (auto& connection : m_connections)
                connection->check_deadline(now);
            arm_watchdog();
        });
    }

    const Plan& m_plan;
    asio::io_context m_io{1};
    std::optional<std::uint64_t> m_quota;
    Clock::time_point m_stop_at;
    asio::steady_timer m_watchdog;
    std::vector<std::unique_ptr<Connection>> m_connections;
    unsigned m_active = 0;
    ThreadStats m_stats;
    Counters m_counters;
};

void Connection::next() {
    if (!m_worker.take()) {
        close();
        m_busy = false;
        m_worker.finished_connection();
        return;
    }
    m_busy = true;
    m_retried = false;
    m_timed_out = false;
    m_started = Clock::now();
    if (m_connected)
        write();
    else
        connect();
}

void Connection::check_deadline(Clock::time_point now) {
    if (!m_busy || !m_stream || now - m_started < m_worker.plan().timeout) return;
    m_timed_out = true;
    beast::error_code ignored;
    m_stream->lowest_layer().close(ignored); // the pending operation completes with operation_aborted
}

void Connection::connect() {
    const Plan& plan = m_worker.plan();
    m_stream.emplace(m_worker.io(), plan.tls);
    m_record = detail::HandshakeRecord{};
    SSL* ssl = m_stream->native_handle();
    detail::prepare_ssl(ssl, plan.context, plan.verify_name, &m_record, detail::Detail::lean);
    if (m_session) SSL_set_session(ssl, m_session.get());
    m_buffer.clear();
    m_written = 0;
    m_reused = false;
    m_stream->lowest_layer().async_connect(plan.endpoint, [this](const beast::error_code& ec) { on_connect(ec); });
}

void Connection::on_connect(const beast::error_code& ec) {
    if (ec) return fail(ec, "while connecting");
    beast::error_code ignored;
    m_stream->lowest_layer().set_option(tcp::no_delay(true), ignored);
    m_stream->async_handshake(ssl::stream_base::client, [this](const beast::error_code& e) { on_handshake(e); });
}

void Connection::on_handshake(const beast::error_code& ec) {
    if (ec) return fail(ec, "during the TLS handshake");
    ThreadStats& stats = m_worker.stats();
    ++stats.handshakes;
    if (SSL_session_reused(m_stream->native_handle()) == 1) ++stats.resumed;
    m_connected = true;
    write();
}

// The request goes out and the response comes in through the TLS stream's
// own read_some and write_some, and the parser is fed here: no composed
// operation (and no executor copied into one) per request.
void Connection::write() {
    const std::string& bytes = m_worker.plan().request_bytes;
    m_stream->async_write_some(asio::buffer(bytes.data() + m_written, bytes.size() - m_written),
                               [this](const beast::error_code& ec, std::size_t n) { on_write(ec, n); });
}

void Connection::on_write(const beast::error_code& ec, std::size_t bytes) {
    if (ec) return fail(ec, "while sending the request");
    m_written += bytes;
    if (m_written < m_worker.plan().request_bytes.size()) return write();
    m_written = 0;
    m_parser.emplace(m_body);
    m_parser->body_limit(k_body_limit);
    m_parser->header_limit(64 * 1024);
    if (m_worker.plan().head) m_parser->skip(true);
    m_parsed = 0;
    parse(); // a kept-alive connection may hold the start of this response already
}

void Connection::read() {
    constexpr std::size_t k_read_size = 16 * 1024;
    m_stream->async_read_some(m_buffer.prepare(k_read_size), [this](const beast::error_code& ec, std::size_t n) {
        if (ec == asio::error::eof && m_parser->got_some()) {
            // A response whose body ends with the connection.
            beast::error_code end;
            m_parser->put_eof(end);
            return on_read(end);
        }
        if (ec) return on_read(ec == asio::error::eof ? beast::error_code(http::error::end_of_stream) : ec);
        m_buffer.commit(n);
        parse();
    });
}

void Connection::parse() {
    while (m_buffer.size() > 0 && !m_parser->is_done()) {
        beast::error_code ec;
        const std::size_t used = m_parser->put(m_buffer.data(), ec);
        m_buffer.consume(used);
        m_parsed += used;
        if (ec == http::error::need_more) break;
        if (ec) return on_read(ec);
        if (used == 0) break;
    }
    if (m_parser->is_done()) return on_read({});
    read();
}

void Connection::on_read(const beast::error_code& ec) {
    if (ec) return fail(ec, "waiting for the response");
    const Clock::time_point now = Clock::now();
    ThreadStats& stats = m_worker.stats();
    stats.latency.record(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - m_started).count()));
    ++stats.responses;
    stats.bytes += m_parsed;
    const int status = m_parser->status();
    ++stats.status[static_cast<std::size_t>(std::clamp(status, 0, 999))];
    stats.count_reason(body_reason(m_body));
    m_reused = true;
    const Plan& plan = m_worker.plan();
    if (plan.mode == ConnectionMode::new_connections || !m_parser->keep_alive()) {
        if (plan.resume) {
            SSL* ssl = m_stream->native_handle();
            // The response is complete: closing without close_notify must not
            // mark the session bad (SSL_free would make it not resumable).
            SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
            m_session.reset(SSL_get1_session(ssl));
        }
        close();
    }
    m_worker.completed(false);
    next();
}

void Connection::fail(const beast::error_code& ec, std::string_view during) {
    const Plan& plan = m_worker.plan();
    const bool closed_by_peer = ec == asio::error::eof || ec == ssl::error::stream_truncated ||
                                ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
                                ec == http::error::end_of_stream;
    // A kept-alive connection the server closed between requests: retry once
    // on a new connection (not an error, as browsers and ab do).
    if (closed_by_peer && m_reused && !m_retried && !m_timed_out && m_buffer.size() == 0) {
        close();
        m_retried = true;
        connect();
        return;
    }
    Failure failure;
    if (m_timed_out) {
        failure = {FailureKind::timed_out, "timed out " + std::string(during)};
    } else if (ec.category() == asio::error::get_ssl_category()) {
        failure = detail::classify_tls_failure(static_cast<unsigned long>(ec.value()), &m_record, plan.context,
                                               plan.verify_name);
        ERR_clear_error();
    } else if (ec == asio::error::connection_refused) {
        failure = {FailureKind::connection_refused, "connection refused: nothing listens on " + plan.target};
    } else if (closed_by_peer || ec == http::error::partial_message) {
        failure = {FailureKind::connection_closed, "the server closed the connection " + std::string(during)};
    } else if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
        failure = {FailureKind::http_error, "invalid HTTP response: " + ec.message()};
    } else {
        failure = {FailureKind::connection_failed,
                   "connection to " + plan.target + " failed " + std::string(during) + ": " + ec.message()};
    }
    ErrorCount& count = m_worker.stats().errors[static_cast<std::size_t>(failure.kind)];
    if (count.count++ == 0) count.first_message = failure.message;
    close();
    m_worker.completed(true);
    next();
}

void Connection::close() {
    if (m_stream) {
        beast::error_code ignored;
        m_stream->lowest_layer().close(ignored);
        m_stream.reset();
    }
    m_connected = false;
    m_buffer.clear();
}

std::string request_bytes(const LoadOptions& options) {
    const ClientRequest& request = options.request;
    std::vector<Header> headers{
        {"Host", request.url.authority()}, {"User-Agent", "certauth-probe/0.1.0"}, {"Accept", "*/*"}};
    if (options.mode == ConnectionMode::new_connections) headers.push_back({"Connection", "close"});
    for (const Header& header : request.headers) {
        headers.erase(std::remove_if(headers.begin(), headers.end(),
                                     [&](const Header& h) { return ascii::iequals(h.name, header.name); }),
                      headers.end());
        if (!header.value.empty()) headers.push_back(header);
    }
    std::string out = std::string(to_string(request.method)) + " " + request.url.target + " HTTP/1.1\r\n";
    for (const Header& header : headers)
        out += header.name + ": " + header.value + "\r\n";
    out += "\r\n";
    return out;
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
    const std::string address = endpoint.address().to_string();
    return (endpoint.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(endpoint.port());
}

// Resolves the target and picks the first address that accepts a TCP
// connection, so that the load does not pay a refused attempt per connection
// (localhost: ::1 then 127.0.0.1).
Result<tcp::endpoint> pick_endpoint(const LoadOptions& options) {
    const ClientRequest& request = options.request;
    const std::string host = connect_host(request.url, request.resolve);
    std::vector<tcp::endpoint> endpoints;
    asio::io_context io(1);
    if (is_ip_address(host)) {
        endpoints.emplace_back(asio::ip::make_address(host), request.url.port);
    } else {
        tcp::resolver resolver(io);
        beast::error_code ec;
        auto results = resolver.resolve(host, std::to_string(request.url.port), ec);
        if (ec || results.empty())
            return Error{"name not resolved: '" + host + "' (" + (ec ? ec.message() : "no address") + ")"};
        for (const auto& entry : results)
            endpoints.push_back(entry.endpoint());
    }
    std::string last_error;
    for (const tcp::endpoint& endpoint : endpoints) {
        tcp::socket socket(io);
        beast::error_code result = asio::error::timed_out;
        socket.async_connect(endpoint, [&](const beast::error_code& ec) { result = ec; });
        io.restart();
        io.run_for(request.timeout);
        if (!result) return endpoint;
        if (result == asio::error::connection_refused)
            last_error = "connection refused: nothing listens on " + endpoint_text(endpoint);
        else if (result == asio::error::timed_out)
            last_error = "timed out connecting to " + endpoint_text(endpoint);
        else
            last_error = "connection to " + endpoint_text(endpoint) + " failed: " + result.message();
        beast::error_code ignored;
        socket.close(ignored);
        io.restart();
        io.poll(); // let the aborted handler run before `result` goes
    }
    return Error{last_error};
}

} // namespace

std::uint64_t LoadResult::error_count() const {
    std::uint64_t total = 0;
    for (const auto& [kind, count] : errors)
        total += count.count;
    return total;
}

double LoadResult::requests_per_second() const {
    return elapsed.count() > 0 ? static_cast<double>(responses) / elapsed.count() : 0.0;
}

double LoadResult::handshakes_per_second() const {
    return elapsed.count() > 0 ? static_cast<double>(handshakes) / elapsed.count() : 0.0;
}

unsigned default_load_threads(bool loopback_target, unsigned cores) noexcept {
    cores = std::max(1u, cores);
    return loopback_target ? std::max(1u, cores / 2) : cores;
}

Result<LoadResult> run_load(const ClientContext& context, const LoadOptions& options,
                            const std::function<void(const LoadProgress&)>& progress,
                            std::chrono::milliseconds progress_interval) {
    if (options.concurrency == 0) return Error{"the concurrency must be at least 1", "concurrency"};
    if (options.requests && *options.requests == 0)
        return Error{"the number of requests must be at least 1", "requests"};
    auto endpoint = pick_endpoint(options);
    if (!endpoint) return endpoint.error();

    SSL_CTX_up_ref(context.native()); // asio's context takes one reference
    ssl::context tls(context.native());
    Plan plan{context,
              tls,
              request_bytes(options),
              *endpoint,
              endpoint_text(*endpoint),
              options.request.servername.empty() ? options.request.url.host : options.request.servername,
              options.request.method == HttpMethod::head,
              options.mode,
              options.mode == ConnectionMode::new_connections && options.resumption == Resumption::on,
              options.request.timeout};

    unsigned threads =
        options.threads ? options.threads
                        : default_load_threads(endpoint->address().is_loopback(), std::thread::hardware_concurrency());
    threads = std::min(threads, options.concurrency);

    const Clock::time_point start = Clock::now();
    const Clock::time_point stop_at = start + options.duration;
    std::vector<std::unique_ptr<Worker>> workers;
    std::uint64_t assigned = 0;
    for (unsigned t = 0; t < threads; ++t) {
        const unsigned connections = options.concurrency / threads + (t < options.concurrency % threads ? 1 : 0);
        std::optional<std::uint64_t> quota;
        if (options.requests) {
            // Split N in proportion to the connections; the last worker takes the rest.
            const std::uint64_t share =
                t + 1 == threads ? *options.requests - assigned : *options.requests * connections / options.concurrency;
            quota = share;
            assigned += share;
        }
        workers.push_back(std::make_unique<Worker>(plan, connections, quota, stop_at));
    }

    std::mutex mutex;
    std::condition_variable finished_cv;
    unsigned finished = 0;
    Clock::time_point last_finish = start;
    std::vector<std::thread> pool;
    pool.reserve(workers.size());
    for (auto& worker : workers)
        pool.emplace_back([&, w = worker.get()] {
            w->run();
            std::lock_guard lock(mutex);
            ++finished;
            last_finish = std::max(last_finish, Clock::now());
            finished_cv.notify_all();
        });

    {
        std::unique_lock lock(mutex);
        while (finished < threads) {
            finished_cv.wait_for(lock, progress_interval);
            if (progress && finished < threads) {
                LoadProgress p;
                for (auto& worker : workers) {
                    p.done += worker->counters().done.load(std::memory_order_relaxed);
                    p.errors += worker->counters().errors.load(std::memory_order_relaxed);
                }
                p.elapsed = Clock::now() - start;
                lock.unlock();
                progress(p);
                lock.lock();
            }
        }
    }
    for (auto& thread : pool)
        thread.join();

    LoadResult result;
    result.threads = threads;
    result.concurrency = options.concurrency;
    result.elapsed = last_finish - start;
    for (auto& worker : workers) {
        ThreadStats& stats = worker->stats();
        result.latency.merge(stats.latency);
        result.responses += stats.responses;
        result.handshakes += stats.handshakes;
        result.resumed += stats.resumed;
        result.bytes_received += stats.bytes;
        for (std::size_t s = 0; s < stats.status.size(); ++s)
            if (stats.status[s]) result.by_status[static_cast<int>(s)] += stats.status[s];
        for (const auto& [reason, count] : stats.reasons)
            result.by_reason[reason] += count;
        for (std::size_t k = 0; k < k_kinds; ++k) {
            const ErrorCount& count = stats.errors[k];
            if (count.count == 0) continue;
            ErrorCount& total = result.errors[std::string(to_string(static_cast<FailureKind>(k)))];
            if (total.count == 0) total.first_message = count.first_message;
            total.count += count.count;
        }
    }
    return result;
}

} // namespace certauth::client
