// Fuzz target: the client certificate as a trusted proxy sends it in a
// header (include/certauth/server/header_certificate.hpp). The first byte
// picks the format (url-pem, base64-der, xfcc, rfc9440); the rest are the
// request's field lines, one per '\n'; for rfc9440 the lines after an empty
// line are Client-Cert-Chain's. decode_certificate_header then decodes them
// as serve does, and the single-value decoders run on the first line too.
#include <certauth/server/header_certificate.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

using namespace certauth;
using namespace certauth::server;

namespace {

void check(const Result<x509::Chain>& chain) {
    if (chain && chain->empty()) __builtin_trap(); // success means at least one certificate
    if (chain)
        for (const x509::Certificate& cert : *chain)
            (void)cert.facts();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    constexpr HeaderFormat formats[] = {HeaderFormat::url_pem, HeaderFormat::base64_der, HeaderFormat::xfcc,
                                        HeaderFormat::rfc9440};
    CertificateHeader header;
    header.name = "X-Client-Cert";
    header.format = formats[data[0] % 4];
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

    CertificateFields fields;
    bool chain_lines = false;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        if (line.empty() && header.format == HeaderFormat::rfc9440 && !chain_lines) {
            chain_lines = true;
            continue;
        }
        (chain_lines ? fields.chain : fields.values).push_back(line);
    }

    const auto decoded = decode_certificate_header(header, fields);
    // An error names the header it is about.
    if (!decoded && decoded.error().message.rfind("X-Client-Cert", 0) != 0) __builtin_trap();
    if (decoded && *decoded && (*decoded)->empty()) __builtin_trap();

    const std::string_view first = fields.values.empty() ? std::string_view() : fields.values.front();
    switch (header.format) {
    case HeaderFormat::url_pem: check(decode_url_pem(first)); break;
    case HeaderFormat::base64_der: check(decode_base64_der(first)); break;
    case HeaderFormat::xfcc: check(decode_xfcc(first)); break;
    case HeaderFormat::rfc9440:
        check(decode_rfc9440(first, fields.chain.empty() ? std::string_view() : fields.chain.front()));
        break;
    }
    return 0;
}
