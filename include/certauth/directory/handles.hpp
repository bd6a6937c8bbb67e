#pragma once
// RAII over SQLite and libpq, as x509::Ptr is over OpenSSL: directory::Ptr<T>
// owns, a raw T* only borrows. One stateless deleter per type, one line each;
// nothing outside this file closes, finalizes, finishes or clears.

#include <memory>

#include <libpq-fe.h>
#include <sqlite3.h>

namespace certauth::directory {

template <class T>
struct Deleter; // specialised below, one per handle type

// NOLINTBEGIN(bugprone-macro-parentheses): `type` is a type name, which cannot be parenthesised.
#define CERTAUTH_DIRECTORY_DELETER(type, free_fn)                                                                      \
    template <>                                                                                                        \
    struct Deleter<type> {                                                                                             \
        void operator()(type* p) const noexcept { free_fn(p); }                                                        \
    }
// NOLINTEND(bugprone-macro-parentheses)

// sqlite3_close_v2: closes once the last statement is finalized, whatever the order of destruction.
CERTAUTH_DIRECTORY_DELETER(sqlite3, sqlite3_close_v2);
CERTAUTH_DIRECTORY_DELETER(sqlite3_stmt, sqlite3_finalize);
CERTAUTH_DIRECTORY_DELETER(PGconn, PQfinish);
CERTAUTH_DIRECTORY_DELETER(PGresult, PQclear);
CERTAUTH_DIRECTORY_DELETER(PGnotify, PQfreemem);
CERTAUTH_DIRECTORY_DELETER(PQconninfoOption, PQconninfoFree);

#undef CERTAUTH_DIRECTORY_DELETER

template <class T>
using Ptr = std::unique_ptr<T, Deleter<T>>;

// A message libpq allocated for the caller (PQconninfoParse's errmsg): a
// type of its own, since a char* from SQLite is freed otherwise.
struct LibpqMessageDeleter {
    void operator()(char* p) const noexcept { PQfreemem(p); }
};
using LibpqMessage = std::unique_ptr<char, LibpqMessageDeleter>;

} // namespace certauth::directory
