#include <certauth/x509/ossl.hpp>

#include <openssl/err.h>

namespace certauth::x509 {

std::string drain_errors(ErrorQueue what) {
    std::string out;
    unsigned long code = 0;
    while ((code = ERR_get_error()) != 0) {
        if (what == ErrorQueue::first_reason) {
            ERR_clear_error();
            if (const char* reason = ERR_reason_error_string(code)) return reason;
        }
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        if (what == ErrorQueue::first_reason) return buf;
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

} // namespace certauth::x509
