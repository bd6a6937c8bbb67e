// The one translation unit that compiles Asio, Asio's SSL support and Beast
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

// BOOST_ENABLE_ASSERT_DEBUG_HANDLER (CMakeLists.txt): with assertions on,
// Boost's assertions in this translation unit (Beast's HTTP parser among
// them) end here and abort as assert() does - except one of Beast 1.81 that
// is wrong: parse_chunk_header asserts that a last chunk resumed after
// need_more has at least 5 bytes, but "0\r\n" and one more byte is valid and
// the code after the assertion handles it (fixed upstream,
// boostorg/beast#2861). A client that split a chunked body there aborted a
// Debug build of the server (found by fuzz/http_request.cpp; the input is in
// fuzz/regressions/http_request/). Release builds (NDEBUG) compile Boost's
// assertions out, as before.
namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
    if (std::strcmp(expr, "n >= 5") == 0 && std::strstr(function, "parse_chunk_header") != nullptr) return;
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
    std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file, long line) {
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr, msg);
    std::abort();
}

} // namespace boost
