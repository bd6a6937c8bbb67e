#include <certauth/server/tls_context.hpp>

#include "verified_chains.hpp"

#include <certauth/x509/certificate.hpp>
#include <certauth/x509/time_text.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <new>
#include <string_view>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

namespace certauth::server {
namespace {

// Mozilla's "intermediate" configuration (v5.7) for TLS 1.2; TLS 1.3 keeps
// OpenSSL's default suites, which are that configuration's too.
constexpr const char* k_tls12_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                                        "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"
                                        "DHE-RSA-CHACHA20-POLY1305";
// Key exchange: the hybrid post-quantum X25519MLKEM768 first where OpenSSL
// has it (3.5 and later, which also offers it first as a client), else the
// classical groups alone.
constexpr const char* k_groups_hybrid = "X25519MLKEM768:X25519:P-256:P-384";
constexpr const char* k_groups = "X25519:P-256:P-384";
constexpr unsigned char k_session_id_context[] = "certauth";
// The largest Certificate message a client may send (its whole chain): a
// longer one is refused at the message header, before it is read (OpenSSL's
// default, stated here so that it is ours; tests/e2e/hostile_clients_test.cpp).
constexpr long k_max_client_chain_bytes = 100 * 1024;

// STACK_OF(X509_NAME) owning its names.
struct NameStackDeleter {
    void operator()(STACK_OF(X509_NAME) * p) const noexcept { sk_X509_NAME_pop_free(p, X509_NAME_free); }
};
using NameStack = std::unique_ptr<STACK_OF(X509_NAME), NameStackDeleter>;

int verification_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// What a session remembers of the full handshake that created it: that the
// chain verified, under which configuration, when, and until when that holds.
// Small (one allocation per session, copied when OpenSSL copies the session
// to resume it): every open connection holds its session.
struct VerifiedSession {
    std::uint64_t generation = 0;
    std::chrono::system_clock::time_point verified_at;
    std::chrono::system_clock::time_point valid_until;
};

// The SSL_SESSION's ex_data slot holds a heap VerifiedSession (or nothing);
// OpenSSL calls these when it copies a session for resumption and when it
// frees one.
int dup_verified_session(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** from, int, long, void*) {
    const auto* remembered = static_cast<const VerifiedSession*>(*from);
    if (remembered == nullptr) return 1;
    *from = new (std::nothrow) VerifiedSession(*remembered);
    return *from != nullptr ? 1 : 0;
}

void free_verified_session(void*, void* data, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<VerifiedSession*>(data);
}

int session_verification_index() {
    static const int index =
        SSL_SESSION_get_ex_new_index(0, nullptr, nullptr, dup_verified_session, free_verified_session);
    return index;
}

// Called when a session enters the server's cache. After a TLS 1.3 full
// handshake that verified the client's chain, the verification goes with the
// session. This runs while the ticket that names the session is being built,
// before the client can have it, so no other connection reads the session
// yet. TLS 1.2 names the session before the handshake ends: its sessions
// carry nothing and are verified again when resumed.
int remember_verification(SSL* ssl, SSL_SESSION* session) {
    const auto* verification = static_cast<const HandshakeVerification*>(SSL_get_ex_data(ssl, verification_index()));
    if (verification == nullptr || !verification->status || !verification->status->verified() ||
        SSL_version(ssl) != TLS1_3_VERSION || SSL_SESSION_get_ex_data(session, session_verification_index()) != nullptr)
        return 0;
    // Without memory it is not remembered: a resumption verifies again.
    std::unique_ptr<VerifiedSession> remembered(new (std::nothrow) VerifiedSession{
        verification->generation, std::chrono::system_clock::now(), verification->status->valid_until});
    if (remembered && SSL_SESSION_set_ex_data(session, session_verification_index(), remembered.get()) == 1)
        (void)remembered.release(); // owned by the session now
    return 0;                       // no reference to `session` kept
}

// Replaces OpenSSL's chain verification for client certificates: the
// TrustStore of the connection's state verifies (the same code `check`
// runs) and the result is recorded for the session. Returns 1 so that the
// application answers 401 itself, unless the context requires a certificate
// (--require-cert), where a chain that does not verify fails the handshake
// with the alert that matches OpenSSL's error.
int verify_certificate(X509_STORE_CTX* store_ctx, void* arg) {
    const bool require = arg != nullptr;
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* verification =
        ssl ? static_cast<HandshakeVerification*>(SSL_get_ex_data(ssl, verification_index())) : nullptr;
    X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
    if (verification == nullptr || verification->trust == nullptr || leaf == nullptr) {
        // Not attached: fail closed.
        X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    try {
        verification->status =
            detail::verify_remembered(*verification->trust, verification->generation, leaf,
                                      X509_STORE_CTX_get0_untrusted(store_ctx), std::chrono::system_clock::now());
    } catch (...) {
        // Out of memory (the only exception here): nothing may unwind
        // through OpenSSL's C frames. Fail closed.
        X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
    if (verification->status->verified() || !require) {
        X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
        return 1;
    }
    X509_STORE_CTX_set_error(store_ctx, verification->status->error != X509_V_OK ? verification->status->error
                                                                                 : X509_V_ERR_CERT_REJECTED);
    return 0;
}

// Never asks for a passphrase: an encrypted key is an error that says so.
int no_passphrase(char*, int, int, void*) { return -1; }

Error tls_error(std::string message) {
    const std::string openssl = x509::drain_errors();
    if (!openssl.empty()) message += " (" + openssl + ")";
    return Error{std::move(message)};
}

Result<x509::Ptr<EVP_PKEY>> load_key(const std::string& file) {
    auto bytes = x509::read_file(file);
    if (!bytes) return bytes.error();
    const std::string& text = *bytes;
    if (text.find("ENCRYPTED") != std::string::npos)
        return Error{file +
                     ": the private key is encrypted; certauth needs an unencrypted key (e.g. `openssl pkey -in " +
                     file + " -out plain.key`)"};
    x509::Ptr<BIO> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio) return tls_error(file + ": out of memory");
    x509::Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!key) {
        // DER as a fallback.
        x509::drain_errors();
        const auto* p = reinterpret_cast<const unsigned char*>(text.data());
        key.reset(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(text.size())));
    }
    if (!key) {
        x509::drain_errors();
        return Error{file + ": no private key found (expected a PEM \"PRIVATE KEY\" block)"};
    }
    return key;
}

} // namespace

void attach_verification(SSL* ssl, HandshakeVerification* verification) noexcept {
    SSL_set_ex_data(ssl, verification_index(), verification);
}

std::optional<x509::ChainStatus> resumed_verification(SSL* ssl, std::uint64_t generation,
                                                      std::chrono::system_clock::time_point now) {
    if (ssl == nullptr || SSL_session_reused(ssl) != 1) return std::nullopt;
    const SSL_SESSION* session = SSL_get_session(ssl);
    const auto* remembered =
        session ? static_cast<const VerifiedSession*>(SSL_SESSION_get_ex_data(session, session_verification_index()))
                : nullptr;
    if (remembered == nullptr || remembered->generation != generation || now < remembered->verified_at ||
        now >= remembered->valid_until)
        return std::nullopt;
    return x509::ChainStatus{x509::ChainProblem::none, 0, -1,
                             "verified by the full handshake of the resumed TLS session", remembered->valid_until};
}

Result<TlsContext> TlsContext::create(const TlsSettings& settings, const x509::TrustStore& trust) {
    if (settings.cert_file.empty()) return Error{"no server certificate given", "cert_file"};
    if (settings.key_file.empty()) return Error{"no server key given", "key_file"};
    x509::drain_errors();

    auto chain = x509::load_chain(settings.cert_file);
    if (!chain) return Error{chain.error().message, "cert_file"};
    auto key = load_key(settings.key_file);
    if (!key) return Error{key.error().message, "key_file"};

    TlsContext context;
    context.m_ctx.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX* ctx = context.m_ctx.get();
    if (ctx == nullptr) return tls_error("cannot create a TLS context");

    // The security level that verifies client chains (TrustStore) holds for
    // the handshake too: the server's own key, the ciphers, the signatures.
    SSL_CTX_set_security_level(ctx, trust.config().security_level);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
    // Our own chain is configured explicitly: no chain building per handshake.
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, k_tls12_ciphers) != 1) return tls_error("cannot set the TLS 1.2 ciphers");
    if (SSL_CTX_set1_groups_list(ctx, k_groups_hybrid) != 1) {
        ERR_clear_error(); // an OpenSSL without ML-KEM: not an error
        if (SSL_CTX_set1_groups_list(ctx, k_groups) != 1) return tls_error("cannot set the key exchange groups");
    }
    SSL_CTX_set_dh_auto(ctx, 1);
    SSL_CTX_set_max_cert_list(ctx, k_max_client_chain_bytes);

    // Resumption from a bounded server-side cache (TLS 1.3 then issues
    // stateful tickets: session ids, not the encrypted session).
    // 0 turns the cache off (OpenSSL would take a size of 0 as unlimited).
    SSL_CTX_set_session_cache_mode(ctx, settings.session_cache_size == 0 ? SSL_SESS_CACHE_OFF : SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, static_cast<long>(settings.session_cache_size));
    SSL_CTX_set_timeout(ctx, static_cast<long>(settings.session_timeout.count()));
    SSL_CTX_set_num_tickets(ctx, settings.session_cache_size == 0 ? 0 : 1);
    SSL_CTX_sess_set_new_cb(ctx, remember_verification);
    if (SSL_CTX_set_session_id_context(ctx, k_session_id_context, sizeof k_session_id_context - 1) != 1)
        return tls_error("cannot set the session id context");

    // Server certificate, its intermediates and key.
    const x509::Chain& certs = *chain;
    if (SSL_CTX_use_certificate(ctx, certs.front().native()) != 1)
        return tls_error(settings.cert_file + ": cannot use the certificate");
    for (std::size_t i = 1; i < certs.size(); ++i)
        if (SSL_CTX_add1_chain_cert(ctx, certs[i].native()) != 1)
            return tls_error(settings.cert_file + ": cannot use intermediate certificate " + std::to_string(i));
    if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        x509::drain_errors();
        return Error{settings.key_file + ": the key does not match the certificate in " + settings.cert_file};
    }

    // Client certificates: requested (or required), verified by the
    // TrustStore, with the trusted CAs named in the CertificateRequest.
    const bool require = settings.client_cert == ClientCertMode::require;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
    // The callback's argument only says whether to refuse: a non-null marker.
    static int k_require_marker = 1;
    SSL_CTX_set_cert_verify_callback(ctx, verify_certificate, require ? &k_require_marker : nullptr);
    NameStack names(sk_X509_NAME_new_null());
    if (!names) return tls_error("out of memory");
    for (const x509::Certificate& ca : trust.authorities()) {
        x509::Ptr<X509_NAME> name(X509_NAME_dup(X509_get_subject_name(ca.native())));
        if (!name || sk_X509_NAME_push(names.get(), name.get()) == 0) return tls_error("out of memory");
        (void)name.release(); // owned by the stack now
    }
    SSL_CTX_set_client_CA_list(ctx, names.release()); // takes ownership

    const x509::Certificate& leaf = certs.front();
    const x509::CertFacts facts = leaf.facts();
    const std::string subject = facts.subject.to_string();
    context.m_description = (subject.empty() ? std::string("(empty subject)") : subject) + ", " +
                            leaf.key_description() + ", expires " + x509::date_text(facts.not_after);
    const auto now = std::chrono::system_clock::now();
    if (now > facts.not_after)
        context.m_warning = settings.cert_file + ": the server certificate expired " + x509::date_text(facts.not_after);
    else if (now < facts.not_before)
        context.m_warning =
            settings.cert_file + ": the server certificate is not valid before " + x509::date_text(facts.not_before);
    context.m_chain = std::move(*chain);
    return context;
}

} // namespace certauth::server
