#include <certauth/x509/pkcs12.hpp>

#include "detail.hpp"

#include <string>

namespace certauth::x509 {

Result<std::string> make_pkcs12(const X509* cert, EVP_PKEY* key, const std::vector<const X509*>& intermediates,
                                std::string_view friendly_name, std::string_view password) {
    X509Stack chain(sk_X509_new_null());
    if (!chain) return Error{"PKCS#12: " + drain_errors(ErrorQueue::first_reason)};
    for (const X509* intermediate : intermediates) {
        Ptr<X509> copy = share(const_cast<X509*>(intermediate));
        if (sk_X509_push(chain.get(), copy.get()) == 0)
            return Error{"PKCS#12: " + drain_errors(ErrorQueue::first_reason)};
        (void)copy.release(); // owned by the stack now
    }
    const std::string name(friendly_name);
    const std::string pass(password);
    const Ptr<PKCS12> p12(
        PKCS12_create(pass.c_str(), name.c_str(), key, const_cast<X509*>(cert), chain.get(), 0, 0, 0, 0, 0));
    if (!p12) return Error{"PKCS#12: " + drain_errors(ErrorQueue::first_reason)};
    unsigned char* der = nullptr;
    const int size = i2d_PKCS12(p12.get(), &der);
    if (size <= 0) return Error{"PKCS#12: " + drain_errors(ErrorQueue::first_reason)};
    const OsslString owned(reinterpret_cast<char*>(der));
    return std::string(owned.get(), static_cast<std::size_t>(size));
}

} // namespace certauth::x509
