// Fuzz target: certificate files as `certauth check` and the server read them.
// x509::parse_chain on the raw bytes (PEM or DER, one certificate or a chain),
// then for every certificate parsed: facts(), node_object() rendered as
// check --json renders it, and key_description().
#include <certauth/x509/certificate.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto chain = certauth::x509::parse_chain(bytes, "fuzz.crt");
    if (!chain) {
        // An error always says which input and what is wrong.
        if (chain.error().message.rfind("fuzz.crt", 0) != 0) __builtin_trap();
        return 0;
    }
    if (chain->empty()) __builtin_trap(); // success means at least one certificate
    for (const certauth::x509::Certificate& cert : *chain) {
        const certauth::x509::CertFacts facts = cert.facts();
        (void)facts.cn();
        (void)facts.subject.to_string();
        (void)facts.issuer.to_string();
        const nlohmann::ordered_json object = cert.node_object();
        (void)object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        (void)cert.key_description();
    }
    return 0;
}
