// The certificate header as the real nginx, Caddy and HAProxy sent it,
// captured by scripts/capture-proxy-vectors.sh from the recipes in
// docs/recipes/ (tests/fixtures/proxy-vectors/README.md): each value decodes,
// with the header and format of its proxy's preset, to the fixture
// certificate the client presented - the leaf only, also when the client sent
// its chain - and no certificate is no certificate.
#include "support/files.hpp"
#include "support/process.hpp"

#include <certauth/server/header_certificate.hpp>
#include <certauth/x509/certificate.hpp>

#include "support/catch.hpp"

#include <filesystem>
#include <optional>
#include <string>

using namespace certauth;
using namespace certauth::server;
using certauth::test::fixture;
using certauth::test::read_text;
using certauth::test::source_path;

namespace {

std::filesystem::path captured(const std::string& name) { return source_path("tests/fixtures/proxy-vectors/" + name); }

// What serve makes of the captured request: the preset's header, absent when
// the proxy sent none.
Result<std::optional<x509::Chain>> decode_captured(const std::string& proxy, const std::string& client) {
    const ProxyPreset* preset = proxy_preset_named(proxy);
    REQUIRE(preset != nullptr);
    // The recipes set X-Client-Cert, which is what was captured.
    REQUIRE(preset->header == "X-Client-Cert");
    const CertificateHeader header{std::string(preset->header), preset->format};
    const std::string stem = proxy + "-" + client;
    if (std::filesystem::exists(captured(stem + ".absent")))
        return decode_certificate_header(header, CertificateFields{});
    const std::string value = read_text(captured(stem + ".value"));
    return decode_certificate_header(header, CertificateFields{{value}, {}});
}

std::string fingerprint_of(const std::string& file) {
    const auto chain = x509::load_chain(fixture(file));
    REQUIRE(chain);
    return chain->front().facts().fingerprint256;
}

} // namespace

TEST_CASE("captured headers of nginx, Caddy and HAProxy decode to the fixture certificates", "[server][header]") {
    for (const std::string proxy : {"nginx", "caddy", "haproxy"}) {
        INFO(proxy);
        for (const std::string client : {"joe", "carol"}) {
            INFO(client);
            const auto decoded = decode_captured(proxy, client);
            INFO((decoded ? std::string("decoded") : decoded.error().message));
            REQUIRE(decoded);
            REQUIRE(decoded->has_value());
            // carol presented carol-chain.pem (carol and sub-ca): the proxies
            // pass the leaf only, and serve completes the chain from --intermediate.
            REQUIRE((*decoded)->size() == 1);
            INFO("if the fixtures were made anew: scripts/capture-proxy-vectors.sh");
            CHECK((*decoded)->front().facts().fingerprint256 == fingerprint_of(client + ".crt"));
        }
        const auto none = decode_captured(proxy, "none");
        REQUIRE(none);
        CHECK(!none->has_value());
    }
}
