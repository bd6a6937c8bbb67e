#pragma once
// RAII over OpenSSL: x509::Ptr<T> owns, a raw T* only ever borrows (OpenSSL's
// own get0 / get1 vocabulary). One stateless deleter per type, one line each,
// as BoringSSL's bssl::UniquePtr does. Nothing outside this file calls *_free.

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace certauth::x509 {

template <class T>
struct Deleter; // specialised below, one per OpenSSL type

// NOLINTBEGIN(bugprone-macro-parentheses): `type` is a type name, which cannot be parenthesised.
#define CERTAUTH_OSSL_DELETER(type, free_fn)                                                                           \
    template <>                                                                                                        \
    struct Deleter<type> {                                                                                             \
        void operator()(type* p) const noexcept { free_fn(p); }                                                        \
    }
// NOLINTEND(bugprone-macro-parentheses)

CERTAUTH_OSSL_DELETER(X509, X509_free);
CERTAUTH_OSSL_DELETER(X509_CRL, X509_CRL_free);
CERTAUTH_OSSL_DELETER(X509_REVOKED, X509_REVOKED_free);
CERTAUTH_OSSL_DELETER(X509_STORE, X509_STORE_free);
CERTAUTH_OSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
CERTAUTH_OSSL_DELETER(X509_NAME, X509_NAME_free);
CERTAUTH_OSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free);
CERTAUTH_OSSL_DELETER(GENERAL_NAME, GENERAL_NAME_free);
CERTAUTH_OSSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free);
CERTAUTH_OSSL_DELETER(AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free);
CERTAUTH_OSSL_DELETER(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free);
// ASN1_TIME, ASN1_INTEGER, ASN1_BIT_STRING, ... are all ASN1_STRING.
CERTAUTH_OSSL_DELETER(ASN1_STRING, ASN1_STRING_free);
CERTAUTH_OSSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free);
CERTAUTH_OSSL_DELETER(BIGNUM, BN_free);
CERTAUTH_OSSL_DELETER(BIO, BIO_free_all);
CERTAUTH_OSSL_DELETER(EVP_PKEY, EVP_PKEY_free);
CERTAUTH_OSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
CERTAUTH_OSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
CERTAUTH_OSSL_DELETER(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free);
CERTAUTH_OSSL_DELETER(PKCS12, PKCS12_free);
CERTAUTH_OSSL_DELETER(SSL_CTX, SSL_CTX_free);
CERTAUTH_OSSL_DELETER(SSL, SSL_free);
CERTAUTH_OSSL_DELETER(SSL_SESSION, SSL_SESSION_free);

#undef CERTAUTH_OSSL_DELETER

// STACK_OF(X509) owns its elements.
struct X509StackDeleter {
    void operator()(STACK_OF(X509) * p) const noexcept { sk_X509_pop_free(p, X509_free); }
};
using X509Stack = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// STACK_OF(X509) that only borrows its elements (frees the stack, not them).
struct X509StackViewDeleter {
    void operator()(STACK_OF(X509) * p) const noexcept { sk_X509_free(p); }
};
using X509StackView = std::unique_ptr<STACK_OF(X509), X509StackViewDeleter>;

// Memory returned by OpenSSL_malloc (e.g. from X509_NAME_oneline, i2s_*).
struct OsslStringDeleter {
    void operator()(char* p) const noexcept { OPENSSL_free(p); }
};
using OsslString = std::unique_ptr<char, OsslStringDeleter>;

template <class T>
using Ptr = std::unique_ptr<T, Deleter<T>>;

// Takes ownership of a new reference: up_ref(borrowed) then wrap.
inline Ptr<X509> share(X509* borrowed) {
    if (borrowed) X509_up_ref(borrowed);
    return Ptr<X509>(borrowed);
}

enum class ErrorQueue {
    every_entry,  // "error:0480006C:PEM routines::no start line; ..."
    first_reason, // the first (root-cause) entry's reason: "header too long"
};

// Empties OpenSSL's thread-local error queue and says what was in it; ""
// when it was empty.
std::string drain_errors(ErrorQueue what = ErrorQueue::every_entry);

} // namespace certauth::x509
