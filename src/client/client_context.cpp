// The OpenSSL side of the client: the context (client certificate, trust
// store for the server), per-connection set-up, and the classification of
// TLS failures by verification result and by the alert the server sent.
#include <certauth/client/client.hpp>

#include "client_tls.hpp"

#include <certauth/ascii.hpp>
#include <certauth/client/alert.hpp>
#include <certauth/json_text.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/tls1.h>
#include <openssl/x509_vfy.h>

#include <cstring>

#include <nlohmann/json.hpp>

namespace certauth::client {
namespace {

int record_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

detail::HandshakeRecord* record_of(SSL* ssl) {
    return ssl ? static_cast<detail::HandshakeRecord*>(SSL_get_ex_data(ssl, record_index())) : nullptr;
}

// Records the first verification failure (OpenSSL stops at it unless -k).
int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    detail::HandshakeRecord* record = record_of(ssl);
    if (record == nullptr) return preverify_ok;
    const int depth = X509_STORE_CTX_get_error_depth(store);
    X509* current = X509_STORE_CTX_get_current_cert(store);
    if (depth == 0 && current != nullptr && !record->server_leaf) record->server_leaf = x509::share(current);
    if (!preverify_ok && record->first_verify_error == X509_V_OK) {
        record->first_verify_error = X509_STORE_CTX_get_error(store);
        record->verify_depth = depth;
        if (current != nullptr) record->verify_subject = x509::to_name(X509_get_subject_name(current)).to_string();
    }
    return preverify_ok;
}

// The CompressedCertificate handshake message (RFC 8879); OpenSSL 3.0's
// headers do not name it.
constexpr unsigned char k_compressed_certificate = 25;

// Watches the handshake: CertificateRequest received, our Certificate
// message (empty or not), fatal alerts from the server.
void message_callback(int write_p, int version, int content_type, const void* buf, std::size_t len, SSL* ssl, void*) {
    detail::HandshakeRecord* record = record_of(ssl);
    if (record == nullptr || len == 0) return;
    const auto* bytes = static_cast<const unsigned char*>(buf);
    if (content_type == SSL3_RT_ALERT && !write_p && len >= 2 && bytes[0] == SSL3_AL_FATAL) {
        record->alert = bytes[1];
    } else if (content_type == SSL3_RT_HANDSHAKE && !write_p && bytes[0] == SSL3_MT_CERTIFICATE_REQUEST) {
        record->certificate_requested = true;
    } else if (content_type == SSL3_RT_HANDSHAKE && write_p && bytes[0] == SSL3_MT_CERTIFICATE) {
        // TLS 1.3: type(1) length(3) context_length(1) context list_length(3); TLS 1.2: type(1) length(3)
        // list_length(3)
        std::size_t at = 4;
        if (version == TLS1_3_VERSION) {
            if (len < 5) return;
            at = 5 + bytes[4];
        }
        if (len < at + 3) return;
        const std::size_t list_length =
            (std::size_t{bytes[at]} << 16) | (std::size_t{bytes[at + 1]} << 8) | bytes[at + 2];
        record->certificate_sent = list_length > 0;
    } else if (content_type == SSL3_RT_HANDSHAKE && write_p && bytes[0] == k_compressed_certificate) {
        // RFC 8879 (OpenSSL 3.2 on, when the server offers it): OpenSSL
        // compresses only a non-empty Certificate; an empty one goes plain.
        record->certificate_sent = true;
    }
}

int no_password(char*, int, int, void*) { return 0; }

std::string describe(const x509::Certificate& cert) {
    const x509::CertFacts facts = cert.facts();
    return facts.subject.to_string() + ", issuer " + facts.issuer.to_string();
}

// The key from the key file, or from the certificate file when `combined`
// (no key file given); an error names the file's setting, "key" or "cert".
Result<x509::Ptr<EVP_PKEY>> load_key(const std::filesystem::path& path, bool combined) {
    const std::string setting = combined ? "cert" : "key";
    auto bytes = x509::read_file(path);
    if (!bytes) return Error{bytes.error().message, setting};
    x509::Ptr<BIO> bio(BIO_new_mem_buf(bytes->data(), static_cast<int>(bytes->size())));
    if (!bio) return Error{path.string() + ": out of memory"};
    x509::Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
    if (!key) {
        const std::string why = x509::drain_errors();
        if (why.find("bad decrypt") != std::string::npos || why.find("bad password") != std::string::npos ||
            why.find("interrupted or cancelled") != std::string::npos)
            return Error{path.string() + ": the private key is encrypted; give an unencrypted key", setting};
        if (combined) return Error{"no key file given, and " + path.string() + " holds no private key", "key"};
        return Error{path.string() + ": no PEM private key found" + (why.empty() ? "" : " (" + why + ")"), setting};
    }
    return key;
}

} // namespace

std::string_view to_string(HttpMethod method) noexcept { return method == HttpMethod::head ? "HEAD" : "GET"; }

std::optional<HttpMethod> parse_method(std::string_view text) noexcept {
    if (ascii::iequals(text, "GET")) return HttpMethod::get;
    if (ascii::iequals(text, "HEAD")) return HttpMethod::head;
    return std::nullopt;
}

std::string_view to_string(FailureKind kind) noexcept {
    switch (kind) {
    case FailureKind::name_not_resolved: return "name_not_resolved";
    case FailureKind::connection_refused: return "connection_refused";
    case FailureKind::connection_failed: return "connection_failed";
    case FailureKind::timed_out: return "timed_out";
    case FailureKind::server_untrusted: return "server_untrusted";
    case FailureKind::hostname_mismatch: return "hostname_mismatch";
    case FailureKind::client_certificate_required: return "client_certificate_required";
    case FailureKind::client_certificate_refused: return "client_certificate_refused";
    case FailureKind::handshake_failed: return "handshake_failed";
    case FailureKind::connection_closed: return "connection_closed";
    case FailureKind::http_error: return "http_error";
    }
    return "unknown";
}

Result<ClientContext> ClientContext::create(const ClientTlsOptions& options) {
    ClientContext out;
    out.m_insecure = options.insecure;
    out.m_ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!out.m_ctx) return Error{"cannot create a TLS context: " + x509::drain_errors()};
    SSL_CTX* ctx = out.m_ctx.get();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(ctx, options.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, verify_callback);

    if (!options.cacert.empty()) {
        auto cas = x509::load_chain(options.cacert);
        if (!cas) return Error{cas.error().message, "cacert"};
        X509_STORE* store = SSL_CTX_get_cert_store(ctx);
        for (const x509::Certificate& ca : *cas)
            if (X509_STORE_add_cert(store, ca.native()) != 1) {
                const unsigned long e = ERR_peek_last_error();
                if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
                    return Error{options.cacert.string() + ": cannot add a CA: " + x509::drain_errors(), "cacert"};
                ERR_clear_error();
            }
    } else if (!options.insecure) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1)
            return Error{"cannot load the system's trusted CAs: " + x509::drain_errors()};
    } // -k without --cacert: no store; its per-handshake directory lookups would be wasted

    if (options.cert.empty() && !options.key.empty())
        return Error{"no client certificate given for the key " + options.key.string(), "cert"};
    if (!options.cert.empty()) {
        auto chain = x509::load_chain(options.cert);
        if (!chain) return Error{chain.error().message, "cert"};
        const bool combined = options.key.empty();
        auto key = load_key(combined ? options.cert : options.key, combined);
        if (!key) return key.error();
        const x509::Certificate& leaf = chain->front();
        if (X509_check_private_key(leaf.native(), key->get()) != 1) {
            ERR_clear_error();
            return Error{"client key " + (combined ? options.cert : options.key).string() +
                             " does not match the certificate in " + options.cert.string() + " (" + describe(leaf) +
                             ")",
                         combined ? "cert" : "key"};
        }
        if (SSL_CTX_use_certificate(ctx, leaf.native()) != 1 || SSL_CTX_use_PrivateKey(ctx, key->get()) != 1)
            return Error{options.cert.string() + ": cannot use the certificate: " + x509::drain_errors(), "cert"};
        for (std::size_t i = 1; i < chain->size(); ++i)
            if (SSL_CTX_add1_chain_cert(ctx, (*chain)[i].native()) != 1)
                return Error{options.cert.string() + ": cannot use the chain: " + x509::drain_errors(), "cert"};
        if (chain->size() == 1) {
            // A lone leaf: its intermediates are looked up in --cacert (the
            // store) once, here, not per handshake, and the root is left out -
            // the server has it (RFC 8446 4.4.2), and every certificate sent
            // costs the server a decoding. Without an issuer in the store,
            // the leaf goes alone.
            if (SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_NO_ROOT | SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR) != 1)
                ERR_clear_error();
        }
        // What is sent is what was configured or built above.
        SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
        out.m_chain = std::move(*chain);
    }
    return out;
}

std::string_view body_reason(std::string_view body) noexcept {
    constexpr std::string_view key = "\"reason\"";
    const std::size_t at = body.find(key);
    if (at == std::string_view::npos) return {};
    std::size_t i = at + key.size();
    auto skip_space = [&] {
        while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
            ++i;
    };
    skip_space();
    if (i >= body.size() || body[i] != ':') return {};
    ++i;
    skip_space();
    if (i >= body.size() || body[i] != '"') return {};
    const std::size_t start = ++i;
    while (i < body.size() && body[i] != '"' && body[i] != '\\')
        ++i;
    if (i >= body.size() || body[i] != '"') return {};
    return body.substr(start, i - start);
}

nlohmann::json parse_body(std::string_view body) {
    Result<nlohmann::json> parsed = parse_json(body, "response body");
    // Not `return {...}`: braces would pick json's initializer-list constructor (an array).
    if (!parsed) return nlohmann::json(nlohmann::json::value_t::discarded); // NOLINT(modernize-return-braced-init-list)
    return std::move(*parsed);
}

namespace detail {

void prepare_ssl(SSL* ssl, const ClientContext& context, const std::string& verify_name, HandshakeRecord* record,
                 Detail detail) {
    const bool ip = is_ip_address(verify_name);
    if (!ip && !verify_name.empty()) SSL_set_tlsext_host_name(ssl, verify_name.c_str());
    if (!context.insecure() && !verify_name.empty()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (ip) {
            X509_VERIFY_PARAM_set1_ip_asc(param, verify_name.c_str());
        } else {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            SSL_set1_host(ssl, verify_name.c_str());
        }
    }
    if (record != nullptr) {
        SSL_set_ex_data(ssl, record_index(), record);
        if (detail == Detail::verbose) SSL_set_msg_callback(ssl, message_callback);
    }
}

void summarise(SSL* ssl, const HandshakeRecord& record, TlsSummary& out) {
    out.version = SSL_get_version(ssl);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) out.cipher = SSL_CIPHER_get_name(cipher);
    out.resumed = SSL_session_reused(ssl) == 1;
    out.server_chain.clear();
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
        for (int i = 0; i < sk_X509_num(chain); ++i)
            out.server_chain.emplace_back(x509::share(sk_X509_value(chain, i)));
    } else if (record.server_leaf) {
        out.server_chain.emplace_back(x509::share(record.server_leaf.get()));
    }
    out.verify_result = record.first_verify_error;
    if (record.first_verify_error != X509_V_OK) {
        out.verify_error = X509_verify_cert_error_string(record.first_verify_error);
        if (record.verify_depth >= 0)
            out.verify_error += " (depth " + std::to_string(record.verify_depth) + ": " + record.verify_subject + ")";
    } else {
        out.verify_error.clear();
    }
    out.certificate_requested = record.certificate_requested;
    out.certificate_sent = record.certificate_sent;
    out.requested_cas.clear();
    if (const STACK_OF(X509_NAME)* names = SSL_get0_peer_CA_list(ssl))
        for (int i = 0; i < sk_X509_NAME_num(names); ++i)
            out.requested_cas.push_back(x509::to_name(sk_X509_NAME_value(names, i)).to_string());
    out.alert = record.alert >= 0 ? alert_name(record.alert) : std::string{};
}

Failure classify_tls_failure(unsigned long ossl_error, const HandshakeRecord* record, const ClientContext& context,
                             std::string_view verify_name) {
    const int lib = ERR_GET_LIB(ossl_error);
    const int reason = ERR_GET_REASON(ossl_error);
    const char* reason_text = ossl_error ? ERR_reason_error_string(ossl_error) : nullptr;
    const std::string text = reason_text ? reason_text : "unknown TLS error";

    if (lib == ERR_LIB_SSL && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        const long error = record ? record->first_verify_error : X509_V_OK;
        if (error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH) {
            std::string names;
            if (record && record->server_leaf) {
                const x509::CertFacts facts = x509::Certificate(x509::share(record->server_leaf.get())).facts();
                names = facts.subject.to_string();
                for (const auto& dns : facts.san_dns)
                    names += ", DNS:" + dns;
                for (const auto& address : facts.san_ip)
                    names += ", IP:" + address;
                names = " (" + names + ")";
            }
            return {FailureKind::hostname_mismatch, "hostname mismatch: the server certificate" + names +
                                                        " is not valid for '" + std::string(verify_name) + "'"};
        }
        std::string message = "server certificate not trusted: ";
        message += error != X509_V_OK ? X509_verify_cert_error_string(error) : text.c_str();
        if (record && record->verify_depth >= 0)
            message += " (depth " + std::to_string(record->verify_depth) + ": " + record->verify_subject + ")";
        return {FailureKind::server_untrusted, message};
    }

    // A fatal alert from the server: OpenSSL reports it as reason 1000 + alert.
    int alert = (lib == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
                    ? reason - SSL_AD_REASON_OFFSET
                    : -1;
    if (alert < 0 && record) alert = record->alert;
    if (alert >= 0) {
        const bool configured = !context.certificate_chain().empty();
        const bool sent = record && record->certificate_requested ? record->certificate_sent : configured;
        const std::string said = reason_text ? text : std::string("alert ") + SSL_alert_desc_string_long(alert);
        switch (alert) {
        case TLS13_AD_CERTIFICATE_REQUIRED:
            return {FailureKind::client_certificate_required,
                    "the server requires a client certificate and none was sent: " + said};
        case SSL3_AD_HANDSHAKE_FAILURE:
            if (!sent && record && record->certificate_requested)
                return {FailureKind::client_certificate_required,
                        "the server requires a client certificate and none was sent: " + said};
            break;
        case SSL3_AD_BAD_CERTIFICATE:
        case SSL3_AD_UNSUPPORTED_CERTIFICATE:
        case SSL3_AD_CERTIFICATE_REVOKED:
        case SSL3_AD_CERTIFICATE_EXPIRED:
        case SSL3_AD_CERTIFICATE_UNKNOWN:
        case TLS1_AD_UNKNOWN_CA:
        case TLS1_AD_ACCESS_DENIED:
        case TLS1_AD_DECRYPT_ERROR:
            if (sent) {
                const x509::Certificate& leaf = context.certificate_chain().front();
                return {FailureKind::client_certificate_refused,
                        "the server refused the client certificate (" + describe(leaf) + "): " + said};
            }
            break;
        case TLS1_AD_PROTOCOL_VERSION:
            return {FailureKind::handshake_failed, "handshake failure: no TLS version in common (probe offers TLS 1.2 "
                                                   "and 1.3): " +
                                                       said};
        default: break;
        }
        return {FailureKind::handshake_failed, "handshake failure: the server sent " + said};
    }
    if (lib == ERR_LIB_SSL && (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG))
        return {FailureKind::handshake_failed,
                "handshake failure: the server did not answer with TLS (" + text + "); is it plain HTTP?"};
    if (lib == ERR_LIB_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return {FailureKind::connection_closed, "the server closed the connection during the TLS handshake"};
    return {FailureKind::handshake_failed, "handshake failure: " + text};
}

} // namespace detail
} // namespace certauth::client
