#pragma once
// Private to src/server: TLS on a connection's own non-blocking socket. OpenSSL
// reads the file descriptor itself (SSL_set_rfd), and its output collects in
// one buffer per thread until the connection is about to wait (flush()): no
// BIO pair, no copy of every record through one, and no buffer of ours held
// by an idle connection; OpenSSL's own buffers are freed whenever they are
// empty (SSL_MODE_RELEASE_BUFFERS). Every call returns at once: done, or
// what the socket must become (readable, writable) before the same call is
// made again. The session waits for that with Asio (socket.async_wait); this
// file has neither Asio nor Beast, so that a test can drive it over a
// socketpair. Output goes out with send(2) and MSG_NOSIGNAL.

#include <certauth/x509/ossl.hpp>

#include <cerrno>
#include <cstddef>
#include <new>
#include <string>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace certauth::server::detail {

// What a non-blocking step did.
enum class Io {
    done,       // completed (`n` bytes for reads and writes)
    want_read,  // wait until the socket is readable, then make the same call again
    want_write, // wait until the socket is writable, then make the same call again
    closed,     // the peer ended the stream: close_notify, or EOF (without close_notify too)
    failed,     // TLS or transport error: drop the connection
};

// Plain TCP (HTTP sent to the TLS port, and TlsSocket's own writes), same
// contract.

// The first byte the client sent, left in the socket: 0x16 opens a TLS
// handshake record; anything else is not TLS.
inline Io peek_first_byte(int fd, unsigned char& byte) noexcept {
    for (;;) {
        const ssize_t r = ::recv(fd, &byte, 1, MSG_PEEK);
        if (r == 1) return Io::done;
        if (r == 0) return Io::closed;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? Io::want_read : Io::failed;
    }
}

inline Io plain_read(int fd, char* data, std::size_t size, std::size_t& n) noexcept {
    n = 0;
    for (;;) {
        const ssize_t r = ::recv(fd, data, size, 0);
        if (r > 0) {
            n = static_cast<std::size_t>(r);
            return Io::done;
        }
        if (r == 0) return Io::closed;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? Io::want_read : Io::failed;
    }
}

// Writes from data + done until all `size` bytes are out (`done` advances).
inline Io plain_write(int fd, const char* data, std::size_t size, std::size_t& done) noexcept {
    while (done < size) {
        const ssize_t r = ::send(fd, data + done, size - done, MSG_NOSIGNAL);
        if (r > 0) {
            done += static_cast<std::size_t>(r);
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Io::want_write : Io::failed;
    }
    return Io::done;
}

class TlsSocket {
  public:
    // Takes the SSL handle (made from the server's SSL_CTX); `fd` is borrowed
    // and must stay open as long as this object is used. valid() is false
    // when OpenSSL could not attach the descriptor (out of memory).
    TlsSocket(x509::Ptr<SSL> ssl, int fd) noexcept : m_ssl(std::move(ssl)), m_fd(fd) {
        if (!m_ssl) return;
        // A client that closes without close_notify ends the stream like one
        // that sends it (the request framing, not TLS, tells a cut request).
        SSL_set_options(m_ssl.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
        // Read what the socket holds in one read(2), not a record header and
        // then its body in two; pending records are served before the next
        // wait (every read is tried before waiting).
        SSL_set_read_ahead(m_ssl.get(), 1);
        // A write that must wait may be retried from another buffer (the
        // session moves an answer off its thread's buffer before waiting).
        SSL_set_mode(m_ssl.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        // Reads straight from the socket; writes collect in m_pending (see
        // flush()).
        BIO* writer = BIO_new(writer_method());
        if (writer == nullptr || SSL_set_rfd(m_ssl.get(), fd) != 1) {
            BIO_free(writer);
            ERR_clear_error();
            m_ssl.reset();
            return;
        }
        BIO_set_data(writer, this);
        BIO_set_init(writer, 1);
        SSL_set0_wbio(m_ssl.get(), writer); // owned by the SSL handle
        // Each read of the socket says how it ended (take_last_read()).
        BIO* reader = SSL_get_rbio(m_ssl.get());
        BIO_set_callback_arg(reader, reinterpret_cast<char*>(this));
        BIO_set_callback_ex(reader, on_socket_call);
        SSL_set_accept_state(m_ssl.get());
    }

    TlsSocket(const TlsSocket&) = delete; // the write BIO points at this object
    TlsSocket& operator=(const TlsSocket&) = delete;
    ~TlsSocket() {
        Outbox& outbox = thread_outbox();
        if (outbox.owner == this) outbox.clear();
    }

    bool valid() const noexcept { return m_ssl != nullptr; }
    SSL* native() const noexcept { return m_ssl.get(); }
    // After Io::failed: the first error OpenSSL had queued (ERR_peek_error;
    // 0 for a reset or a close), for the metrics.
    unsigned long last_error() const noexcept { return m_last_error; }

    Io handshake() noexcept {
        ERR_clear_error();
        const int r = SSL_do_handshake(m_ssl.get());
        return r == 1 ? Io::done : status(r);
    }

    // Up to `size` bytes of application data into `data`. Reads and writes
    // leave OpenSSL's error queue alone (it costs a thread-local lookup per
    // call): the caller keeps it empty between calls, as SSL_get_error()
    // needs; a failure here empties it.
    Io read(char* data, std::size_t size, std::size_t& n) noexcept {
        n = 0;
        if (SSL_read_ex(m_ssl.get(), data, size, &n) == 1) return Io::done;
        return status(0);
    }

    // OpenSSL's writes (handshake flights, the session ticket, answers,
    // alerts, close_notify) collect in the thread's outbox and go out in one
    // write(2) when the connection is about to wait for the client or to
    // close: the last flight of a handshake, the ticket, the answer and
    // close_notify share one segment. Only what the socket does not take
    // stays with the connection (m_pending), so an idle connection holds no
    // output buffer. done: nothing left; want_write: the socket is full.
    Io flush() noexcept {
        Outbox& outbox = thread_outbox();
        if (outbox.owner == this) {
            // Ours alone: m_pending is empty whenever the outbox is in use.
            std::size_t done = 0;
            Io io = plain_write(m_fd, outbox.bytes.data(), outbox.bytes.size(), done);
            if (io == Io::want_write) {
                try {
                    m_pending.assign(outbox.bytes, done);
                } catch (const std::bad_alloc&) {
                    io = Io::failed;
                }
            }
            outbox.clear();
            return io;
        }
        if (m_pending.empty()) return Io::done;
        std::size_t done = 0;
        const Io io = plain_write(m_fd, m_pending.data(), m_pending.size(), done);
        m_pending.erase(0, done);
        if (m_pending.empty()) std::string().swap(m_pending);
        return io;
    }
    bool has_pending() const noexcept { return buffered() > 0; }

    // How OpenSSL's last read of the socket ended, as far as a wait for
    // readability cares:
    // - emptied: it found the socket empty (EAGAIN). Everything that comes
    //   later raises an event, so the wait need not re-arm the descriptor
    //   (emptied_read_wait.hpp).
    // - short_read: it returned fewer bytes than it asked for. The socket
    //   held no more bytes then, so a wait without re-arming is right for
    //   bytes; but the peer's FIN may be behind them, unread and never
    //   announced: that is the caller's to look for (the session's check()
    //   at each sweep).
    // - unknown: no read yet, one that filled its buffer (more may be
    //   there), or one that met the end of the stream or an error.
    // Taking it forgets it: after a wait, only a new read tells.
    enum class LastRead : unsigned char { unknown, emptied, short_read };
    LastRead take_last_read() noexcept { return std::exchange(m_last_read, LastRead::unknown); }

    // All `size` bytes or nothing: after want_*, call again with the same
    // `data` and `size` (OpenSSL holds the record it has begun). The
    // records wait in the write buffer for flush().
    Io write(const char* data, std::size_t size) noexcept {
        if (size == 0) return Io::done;
        std::size_t n = 0;
        if (SSL_write_ex(m_ssl.get(), data, size, &n) == 1) return Io::done;
        return status(0);
    }

    // The connection ended cleanly (the peer closed it, or the closing
    // handshake is over): its TLS session stays resumable. Without this,
    // SSL_free drops from the cache the session of a connection that did not
    // send close_notify itself - and OpenSSL's handling of an EOF (with
    // SSL_OP_IGNORE_UNEXPECTED_EOF) clears that mark.
    void ended_cleanly() noexcept { SSL_set_shutdown(m_ssl.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN); }

    // Sends close_notify (done once it is out), then, with `wait_for_peer`,
    // reads (and discards) until the peer's close_notify or EOF. The caller
    // bounds the wait.
    Io shutdown(bool wait_for_peer) noexcept {
        if (!m_close_sent) {
            ERR_clear_error();
            const int r = SSL_shutdown(m_ssl.get());
            if (r == 1) return Io::done; // the peer's came first
            if (r < 0) {
                const Io io = status(r);
                return io == Io::want_read || io == Io::want_write ? io : Io::done;
            }
            m_close_sent = true;
        }
        if (!wait_for_peer) return Io::done;
        char sink[256];
        for (;;) {
            std::size_t n = 0;
            ERR_clear_error();
            if (SSL_read_ex(m_ssl.get(), sink, sizeof sink, &n) == 1) continue;
            const Io io = status(0);
            return io == Io::want_read || io == Io::want_write ? io : Io::done;
        }
    }

  private:
    // Beyond this much buffered output, writes go to the socket first.
    static constexpr std::size_t k_pending_limit = 64 * 1024;

    // The output being collected on this thread, and whose it is. A
    // connection's writes and its flush run on its thread without another
    // connection's in between; should one not flush (dropped on an error),
    // its bytes are cleared when it goes, or moved to its own m_pending
    // when another connection writes first: never sent on another's socket.
    struct Outbox {
        TlsSocket* owner = nullptr;
        std::string bytes; // keeps its capacity: one buffer per thread

        void clear() noexcept {
            owner = nullptr;
            bytes.clear();
        }
    };
    static Outbox& thread_outbox() noexcept {
        thread_local Outbox outbox;
        return outbox;
    }

    static int bio_write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
        auto* self = static_cast<TlsSocket*>(BIO_get_data(bio));
        BIO_clear_retry_flags(bio);
        if (self->buffered() >= k_pending_limit) {
            if (self->flush() == Io::failed) return 0;
            if (self->buffered() >= k_pending_limit) {
                BIO_set_retry_write(bio);
                return 0;
            }
        }
        try {
            self->buffer_for_writing().append(data, size);
        } catch (const std::bad_alloc&) {
            return 0; // a write error: the connection is dropped
        }
        *written = size;
        return 1;
    }

    std::size_t buffered() const noexcept {
        const Outbox& outbox = thread_outbox();
        return outbox.owner == this ? outbox.bytes.size() : m_pending.size();
    }

    // Where the next bytes go: behind what is pending, else the outbox.
    std::string& buffer_for_writing() {
        if (!m_pending.empty()) return m_pending;
        Outbox& outbox = thread_outbox();
        if (outbox.owner != this) {
            if (outbox.owner != nullptr) outbox.owner->m_pending.assign(outbox.bytes); // not flushed: kept as its own
            outbox.bytes.clear();
            outbox.owner = this;
        }
        return outbox.bytes;
    }

    // The read BIO's callback (OpenSSL's socket BIO): after each read, note
    // how it ended (take_last_read()). Every call goes on with its result.
    static long on_socket_call(BIO* bio, int operation, const char* /*data*/, std::size_t size, int /*argi*/,
                               long /*argl*/, int ret, std::size_t* processed) {
        if (operation == (BIO_CB_READ | BIO_CB_RETURN)) {
            auto* self = reinterpret_cast<TlsSocket*>(BIO_get_callback_arg(bio));
            if (ret <= 0)
                self->m_last_read = BIO_should_retry(bio) != 0 ? LastRead::emptied : LastRead::unknown;
            else
                self->m_last_read =
                    processed != nullptr && *processed < size ? LastRead::short_read : LastRead::unknown;
        }
        return ret;
    }

    static long bio_ctrl(BIO*, int command, long, void*) {
        // OpenSSL flushes after each flight; the session flushes for real
        // before it waits (flush()).
        return command == BIO_CTRL_FLUSH ? 1 : 0;
    }

    static BIO_METHOD* writer_method() {
        static BIO_METHOD* const method = [] {
            BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "certauth write buffer");
            if (m != nullptr) {
                BIO_meth_set_write_ex(m, bio_write);
                BIO_meth_set_ctrl(m, bio_ctrl);
            }
            return m;
        }();
        return method;
    }

    Io status(int ret) noexcept {
        switch (SSL_get_error(m_ssl.get(), ret)) {
        case SSL_ERROR_WANT_READ: return Io::want_read;
        case SSL_ERROR_WANT_WRITE: return Io::want_write;
        case SSL_ERROR_ZERO_RETURN: return Io::closed;
        default:
            // SSL_ERROR_SYSCALL (reset, ...), SSL_ERROR_SSL (bad record,
            // handshake failure, refused certificate): nothing to recover.
            m_last_error = ERR_peek_error();
            ERR_clear_error();
            return Io::failed;
        }
    }

    x509::Ptr<SSL> m_ssl;
    int m_fd;
    std::string m_pending; // written by OpenSSL, not taken by the socket yet (empty: no allocation)
    unsigned long m_last_error = 0;
    bool m_close_sent = false;
    LastRead m_last_read = LastRead::unknown; // see take_last_read()
};

} // namespace certauth::server::detail
